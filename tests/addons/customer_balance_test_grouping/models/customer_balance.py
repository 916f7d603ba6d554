# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CustomerBalance(models.Model):
    """A balance per cost center: the cost center is one more field of the
    grouping key."""

    _inherit = "customer.balance"

    cost_center = fields.Char(
        readonly=True,
        help="The cost center of the balance's items: each cost center of a "
        "customer gets its own balance per period.",
    )

    @api.model
    def _get_grouping_fields(self):
        return [*super()._get_grouping_fields(), "cost_center"]

    @api.model
    def _get_grouping_key(self, item, billed_partner):
        key = super()._get_grouping_key(item, billed_partner)
        if item.cost_center:
            key["cost_center"] = item.cost_center
        return key

    def _get_balance_grouping_key(self):
        # Without a cost center the key stays what it was without this module:
        # balances created before it was installed keep their stored key (no
        # recompute on install), and so do items that never name one.
        key = super()._get_balance_grouping_key()
        if not key["cost_center"]:
            del key["cost_center"]
        return key
