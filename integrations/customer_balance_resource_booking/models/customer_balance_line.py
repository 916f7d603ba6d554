# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceLine(models.Model):
    _inherit = "customer.balance.line"

    resource_booking_id = fields.Many2one(
        comodel_name="resource.booking",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The booking this item charges: it is billed in the period in which "
        "the booking starts.",
    )
