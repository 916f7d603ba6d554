# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ResourceBookingBalanceCommon


@tagged("post_install", "-at_install")
class TestBookingCancelAfterBilling(ResourceBookingBalanceCommon):
    """Anna's meeting room booking of Saturday 30 May (40.00 + 15 %) is billed
    with her May invoice on 1 June; it is cancelled on 3 June."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Billed = on a posted invoice.
        cls.company.balance_auto_post = True

    # === HELPERS === #

    def _billed_booking(self, quantity=1):
        """Anna's order of ``quantity`` bookings, the first on 30 May, billed on
        1 June (the others stay unscheduled)."""
        with freeze_time("2026-05-10 09:00:00"):
            order = self._book(self.anna, quantity=quantity)
            order.resource_booking_ids[0].start = self._at(2026, 5, 30, 10, 0)
        charge = order.order_line.balance_line_ids
        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.invoice_id.state, "posted")
        return order, charge

    def _credits(self, order):
        return order.order_line.balance_line_ids.filtered(
            lambda item: item.quantity < 0 and item.state != "cancel"
        )

    # === TESTS === #

    def test_cancelled_booking_credited_on_open_balance(self):
        """Cancelled on 3 June, the billed booking gives a credit of 46.00 on
        Anna's open June balance; the May invoice is untouched, the order line
        shows nothing to invoice and both chatters say where the credit comes
        from. Cancelling it again gives no second credit."""
        order, charge = self._billed_booking()
        booking = order.resource_booking_ids
        invoice = charge.invoice_id
        total = invoice.amount_total

        with freeze_time("2026-06-03 09:00:00"):
            booking.action_cancel()

        credit = self._credits(order)
        self.assertEqual(len(credit), 1)
        self.assertRecordValues(
            credit,
            [
                {
                    "quantity": -1.0,
                    "price_unit": 40.0,
                    "state": "pending",
                    "resource_booking_id": booking.id,
                }
            ],
        )
        june = credit.balance_id
        self.assertEqual(june.period_start, date(2026, 6, 1))
        self.assertAlmostEqual(june.amount_total, -46.0)
        self.assertEqual((invoice.amount_total, invoice.state), (total, "posted"))
        line = order.order_line
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")
        for record in (june, order):
            self.assertIn(invoice.name, self._chatter(record))

        with freeze_time("2026-06-04 09:00:00"):
            booking.action_cancel()
        self.assertEqual(self._credits(order), credit)

        # Billed with June, the credit leaves nothing to invoice either.
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        self.assertEqual(credit.state, "invoiced")
        self.assertEqual(line.qty_invoiced, 0.0)
        self.assertEqual(line.qty_to_invoice, 0.0)

    def test_accountant_deletes_credit_keeps_charge(self):
        """The cancellation policy keeps the charge: the accountant deletes the
        credit. The booking remembers it; nothing is credited again and nothing
        is to invoice."""
        order, charge = self._billed_booking()
        booking = order.resource_booking_ids
        with freeze_time("2026-06-03 09:00:00"):
            booking.action_cancel()
            self._credits(order).unlink()
            booking.action_cancel()
        self.assertTrue(booking.balance_charge_kept)
        self.assertFalse(self._credits(order))
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertEqual(charge.state, "invoiced")

    def test_order_cancelled_then_confirmed_again(self):
        """Anna's order of two bookings (one billed, one never scheduled) is
        cancelled on 3 June: the billed booking is credited once. Confirmed
        again, the credit is withdrawn and the billed booking stays billed."""
        order, charge = self._billed_booking(quantity=2)
        with freeze_time("2026-06-03 09:00:00"):
            order._action_cancel()
        credit = self._credits(order)
        self.assertEqual(credit.mapped("quantity"), [-1.0])
        self.assertAlmostEqual(credit.balance_id.amount_total, -46.0)
        with freeze_time("2026-06-03 10:00:00"):
            order._action_cancel()
        self.assertEqual(self._credits(order), credit)

        with freeze_time("2026-06-04 09:00:00"):
            order.action_draft()
            order.action_confirm()
        self.assertEqual(credit.state, "cancel")
        self.assertFalse(self._credits(order))
        self.assertEqual(charge.state, "invoiced")
        self.assertIn("credit is withdrawn", self._chatter(credit.balance_id))
