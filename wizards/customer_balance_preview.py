# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


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
    invoice_creation_date = fields.Date(
        related="balance_id.invoice_creation_date",
        string="Will Be Created On",
        help="The day the bill run creates the consolidated invoice; it carries "
        "that day as its date.",
    )
    invoice_date = fields.Date(
        string="Dated (Billed Now)",
        compute="_compute_preview",
        help="The date the invoice carries when it is billed now (Bill Now).",
    )
    move_type = fields.Selection(
        selection=[("out_invoice", "Invoice"), ("out_refund", "Credit Note")],
        string="Document",
        compute="_compute_preview",
    )
    amount_untaxed = fields.Monetary(compute="_compute_preview")
    amount_tax = fields.Monetary(compute="_compute_preview")
    amount_total = fields.Monetary(compute="_compute_preview")
    preview_html = fields.Html(compute="_compute_preview", sanitize=False)

    # === COMPUTE METHODS === #

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
                    "preview_html": wizard._render_preview(values),
                }
            )

    # === BUSINESS METHODS === #

    def _render_preview(self, values):
        """The preview's dates and lines, rendered by the QWeb template
        ``customer_balance.customer_balance_preview_document``."""
        self.ensure_one()
        return self.env["ir.qweb"]._render(
            "customer_balance.customer_balance_preview_document",
            {
                "balance": self.balance_id,
                "currency": self.balance_id.currency_id,
                "preview": values,
            },
        )
