# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceLine(models.Model):
    """An item names its cost center: it goes on the balance of that cost
    center."""

    _inherit = "customer.balance.line"

    cost_center = fields.Char(
        help="Items of different cost centers never share a balance.",
    )

    def _get_assignment_fields(self):
        return super()._get_assignment_fields() | {"cost_center"}

    def _get_frozen_fields(self):
        return super()._get_frozen_fields() | {"cost_center"}
