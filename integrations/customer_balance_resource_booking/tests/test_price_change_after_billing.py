# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import ResourceBookingBalanceCommon


@tagged("post_install", "-at_install")
class TestBookingPriceChangeAfterBilling(ResourceBookingBalanceCommon):
    """Anna's meeting room booking of Saturday 30 May (40.00 + 15 %) is billed
    with her May invoice on 1 June; on 3 June its order line's price changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_auto_post = True

    def _billed_booking(self):
        with freeze_time("2026-05-10 09:00:00"):
            order = self._book(self.anna)
            order.resource_booking_ids.start = self._at(2026, 5, 30, 10, 0)
        charge = order.order_line.balance_line_ids
        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()
        self.assertEqual(charge.state, "invoiced")
        return order, charge

    def _june(self):
        return self.Balance.search(
            [
                ("partner_id", "=", self.anna.id),
                ("period_start", "=", "2026-06-01"),
                ("state", "=", "open"),
            ]
        )

    def test_higher_price_charges_the_difference(self):
        """40.00 -> 50.00 an hour: a charge of 10.00 (11.50 with tax) waits on
        the June balance; the May invoice and the billed item are untouched,
        the order line shows nothing to invoice."""
        order, charge = self._billed_booking()
        invoice = charge.invoice_id
        with freeze_time("2026-06-03 09:00:00"):
            order.order_line.price_unit = 50.0
        june = self._june()
        self.assertAlmostEqual(june.amount_untaxed, 10.0)
        self.assertAlmostEqual(june.amount_total, 11.5)
        self.assertEqual(june.line_ids.price_change_sale_line_id, order.order_line)
        self.assertEqual(charge.price_unit, 40.0)
        self.assertAlmostEqual(invoice.amount_total, 46.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_lower_price_credits_the_difference(self):
        """40.00 -> 30.00: a credit of -10.00."""
        order, _charge = self._billed_booking()
        with freeze_time("2026-06-03 09:00:00"):
            order.order_line.price_unit = 30.0
        self.assertAlmostEqual(self._june().amount_untaxed, -10.0)

    def test_cancelled_after_price_change(self):
        """The price went up to 50.00, then the booking is cancelled: its
        difference is withdrawn and what was billed is credited (-40.00)."""
        order, _charge = self._billed_booking()
        with freeze_time("2026-06-03 09:00:00"):
            order.order_line.price_unit = 50.0
            order.resource_booking_ids.action_cancel()
        june = self._june()
        self.assertAlmostEqual(june.amount_untaxed, -40.0)
        self.assertEqual(order.order_line.balance_price_change_ids.state, "cancel")
