# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _balance_create_items(self):
        """Override of `customer_balance`: an order confirmed onto a balance bills
        its booking lines per booking, in the period each booking starts; a
        booking not scheduled yet waits until it is."""
        res = super(
            SaleOrder, self.with_context(balance_booking_lines_apart=True)
        )._balance_create_items()
        booking_lines = self.env["sale.order.line"]
        for order in self:
            lines = order.order_line.filtered(
                lambda line: (
                    line._is_balance_booking_line()
                    and line._is_balance_line()
                    and not line.balance_booking_billing
                )
            )
            if lines and not order._balance_ineligibility_reason():
                booking_lines |= lines
        if booking_lines:
            booking_lines.sudo().with_context(
                balance_skip_booking_sync=True
            ).balance_booking_billing = True
            booking_lines._balance_sync_booking_items()
            for order in booking_lines.order_id:
                items = order.balance_line_ids.filtered("resource_booking_id")
                if items:
                    order.message_post(body=order._get_balance_summary(items))
        return res
