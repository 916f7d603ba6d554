# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceLine(models.Model):
    _inherit = "customer.balance.line"

    balance_period_date = fields.Date(
        string="Balance Date",
        readonly=True,
        copy=False,
        help="The day deciding the balance of a subscription charge, when it is "
        "not its service date: a pre-paid membership is billed by the balance "
        "billed when its period starts (the previous period's).",
    )

    # === BUSINESS METHODS === #

    def _balance_date(self):
        """Override of `customer_balance`: a pre-paid subscription charge goes
        on the balance of the day before its period."""
        self.ensure_one()
        return self.balance_period_date or super()._balance_date()
