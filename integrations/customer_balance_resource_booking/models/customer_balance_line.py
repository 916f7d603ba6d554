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

    # === CRUD METHODS === #

    def unlink(self):
        """Override of `customer_balance`: deleting the pending credit of a
        cancelled booking keeps its charge. The booking remembers it (no credit
        is made again) and its order line waives nothing: the balance billed
        the booking and keeps it billed."""
        credits = self.filtered(
            lambda item: (
                item.state == "pending"
                and item.quantity < 0
                and item.resource_booking_id
            )
        )
        kept = {
            line: sum(items.mapped("quantity"))
            for line, items in credits.grouped("sale_line_id").items()
        }
        bookings = credits.resource_booking_id
        res = super().unlink()
        bookings.sudo().with_context(
            balance_skip_booking_sync=True
        ).balance_charge_kept = True
        for line, quantity in kept.items():
            line.sudo().with_context(
                balance_skip_booking_sync=True
            ).balance_waived_qty -= quantity
        return res
