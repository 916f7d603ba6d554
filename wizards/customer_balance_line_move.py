# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


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
    source_balance_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="From",
        compute="_compute_company_currency",
        help="The balances the items are on now.",
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Move To",
        required=True,
        domain="[('state', '=', 'open'), ('company_id', '=', company_id),"
        " ('currency_id', '=', currency_id), ('id', 'not in', source_balance_ids)]",
        help="Another open balance of the same company and currency.",
    )

    # === COMPUTE METHODS === #

    @api.depends("line_ids")
    def _compute_company_currency(self):
        for wizard in self:
            wizard.company_id = wizard.line_ids.company_id[:1]
            wizard.currency_id = wizard.line_ids.currency_id[:1]
            wizard.source_balance_ids = wizard.line_ids.balance_id

    # === ACTION METHODS === #

    def action_move(self):
        """Move the items with ``customer.balance.line._move_to_balance``."""
        self.ensure_one()
        self.line_ids._move_to_balance(self.balance_id)
        return {"type": "ir.actions.act_window_close"}
