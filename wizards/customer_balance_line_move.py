# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import clean_context


class CustomerBalanceLineMove(models.TransientModel):
    """Move pending items to another open balance of the same company and currency."""

    _name = "customer.balance.line.move"
    _description = "Move Customer Balance Items"

    line_ids = fields.Many2many(
        comodel_name="customer.balance.line", string="Items", required=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company", compute="_compute_company_currency"
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency", compute="_compute_company_currency"
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Move To",
        required=True,
        domain="[('state', '=', 'open'), ('company_id', '=', company_id),"
        " ('currency_id', '=', currency_id)]",
    )

    @api.depends("line_ids")
    def _compute_company_currency(self):
        for wizard in self:
            wizard.company_id = wizard.line_ids.company_id[:1]
            wizard.currency_id = wizard.line_ids.currency_id[:1]

    def action_move(self):
        self.ensure_one()
        lines = self.line_ids
        target = self.balance_id
        if lines.filtered(lambda line: line.state != "pending"):
            raise UserError(_("Only pending items can be moved."))
        if target.state != "open":
            raise UserError(_("Items can only be moved to an open balance."))
        if (
            lines.company_id != target.company_id
            or lines.currency_id != target.currency_id
        ):
            raise UserError(
                _(
                    "Items can only be moved to a balance of the same company and "
                    "currency (%(company)s, %(currency)s).",
                    company=target.company_id.name,
                    currency=target.currency_id.name,
                )
            )
        # Items already on the target stay out of the move and of its messages.
        lines = lines.filtered(lambda line: line.balance_id != target)
        if not lines:
            raise UserError(_("The items are already on %s.", target.name))
        sources = lines.balance_id
        lines.balance_id = target
        summary = ", ".join(lines.mapped("name"))
        for source in sources:
            source.message_post(
                body=_(
                    "Items moved to %(balance)s: %(items)s",
                    balance=target._get_html_link(),
                    items=summary,
                )
            )
        target.message_post(
            body=_(
                "Items moved here from %(balances)s: %(items)s",
                balances=", ".join(sources.mapped("name")),
                items=summary,
            )
        )
        # Moved items count like added ones: the target may reach the threshold.
        target.with_context(
            clean_context(self.env.context)
        )._consolidate_if_threshold_reached()
        return {"type": "ir.actions.act_window_close"}
