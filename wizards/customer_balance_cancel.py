# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceCancel(models.TransientModel):
    """Cancel open balances, with the reason logged in their chatter. Their pending
    charges are waived, unless the bookings are explicitly given back to the
    orders' normal invoicing."""

    _name = "customer.balance.cancel"
    _description = "Cancel Customer Balances"

    balance_ids = fields.Many2many(
        comodel_name="customer.balance", string="Balances", required=True
    )
    reason = fields.Text(required=True)
    give_back = fields.Boolean(
        string="Give the bookings back to normal invoicing",
        help="Off: the pending charges are waived; nobody is billed for them and "
        "their orders show nothing to invoice. On: booking items are removed from "
        "the balance and their orders are to invoice again with Odoo's own Create "
        "Invoice; manual items are cancelled.",
    )

    def action_cancel(self):
        self.ensure_one()
        self.balance_ids._cancel(self.reason, give_back=self.give_back)
        return {"type": "ir.actions.act_window_close"}
