# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceLine(models.Model):
    """An item may be the difference of a booking whose price changed after it
    was billed (``sale.order.line._balance_sync_price_difference``)."""

    _inherit = "customer.balance.line"

    price_change_sale_line_id = fields.Many2one(
        comodel_name="sale.order.line",
        string="Price Change Of",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The booking line whose price changed after it was billed: this item "
        "charges (or credits) the difference on the billed quantity. It is not "
        "a quantity of the order line, so the order shows nothing to invoice "
        "for it.",
    )
