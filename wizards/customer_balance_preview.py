# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import format_amount


class CustomerBalancePreview(models.TransientModel):
    """The consolidated invoice a balance would make, computed without creating it:
    the form opens with these values and writes nothing unless saved."""

    _name = "customer.balance.preview"
    _description = "Preview of a Consolidated Invoice"

    balance_id = fields.Many2one(
        comodel_name="customer.balance", required=True, readonly=True
    )
    currency_id = fields.Many2one(related="balance_id.currency_id")
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Invoice To", compute="_compute_preview"
    )
    mail_partner_ids = fields.Many2many(
        comodel_name="res.partner", string="E-mail To", compute="_compute_preview"
    )
    invoice_date = fields.Date(compute="_compute_preview")
    move_type = fields.Selection(
        selection=[("out_invoice", "Invoice"), ("out_refund", "Credit Note")],
        string="Document",
        compute="_compute_preview",
    )
    amount_untaxed = fields.Monetary(compute="_compute_preview")
    amount_tax = fields.Monetary(compute="_compute_preview")
    amount_total = fields.Monetary(compute="_compute_preview")
    preview_html = fields.Html(compute="_compute_preview", sanitize=False)

    @api.depends("balance_id")
    def _compute_preview(self):
        for wizard in self:
            values = wizard.balance_id._get_consolidation_preview()
            wizard.update(
                {
                    "partner_id": values["partner"],
                    "mail_partner_ids": values["mail_partners"],
                    "invoice_date": values["invoice_date"],
                    "move_type": values["move_type"],
                    "amount_untaxed": values["amount_untaxed"],
                    "amount_tax": values["amount_tax"],
                    "amount_total": values["amount_total"],
                    "preview_html": wizard._render_lines(values["lines"]),
                }
            )

    def _render_lines(self, lines):
        currency = self.balance_id.currency_id
        rows = []
        for line in lines:
            if line["display_type"] == "line_section":
                rows.append(
                    Markup(
                        '<tr class="fw-bold table-light"><td colspan="4">%s</td></tr>'
                    )
                    % line["name"]
                )
                continue
            rows.append(
                Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td><td class='text-end'>%s</td></tr>"
                )
                % (
                    line["name"],
                    line["quantity"],
                    format_amount(self.env, line["price_unit"], currency),
                    format_amount(self.env, line["price_subtotal"], currency),
                )
            )
        return Markup(
            "<table class='table table-sm'><thead><tr><th>%s</th>"
            "<th class='text-end'>%s</th><th class='text-end'>%s</th>"
            "<th class='text-end'>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (
            escape(self.env._("Description")),
            escape(self.env._("Quantity")),
            escape(self.env._("Unit Price")),
            escape(self.env._("Amount")),
            Markup("").join(rows),
        )
