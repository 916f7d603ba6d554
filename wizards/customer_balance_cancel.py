# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceCancel(models.TransientModel):
    """Cancel open balances, with the reason logged in their chatter."""

    _name = "customer.balance.cancel"
    _description = "Cancel Customer Balances"

    balance_ids = fields.Many2many(
        comodel_name="customer.balance", string="Balances", required=True
    )
    reason = fields.Text(required=True)

    def action_cancel(self):
        self.ensure_one()
        self.balance_ids._cancel(self.reason)
        return {"type": "ir.actions.act_window_close"}
