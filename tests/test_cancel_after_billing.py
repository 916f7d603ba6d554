# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestCancelAfterBilling(CustomerBalanceCommon):
    """Anna books two desk days on 10 June (100.00 + 15 % each); her June
    balance is billed on 1 July. She cancels the booking on 6 July."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()
        # Billed = on a posted invoice (a draft one is cancelled with the order).
        cls.company.balance_auto_post = True

    # === HELPERS === #

    def _credits(self, order, state="pending"):
        return order.order_line.balance_line_ids.filtered(
            lambda item: item.quantity < 0 and item.state == state
        )

    # === TESTS === #

    def test_cancel_billed_order_gives_credit(self):
        """Cancelled on 6 July, the billed booking gives a credit of 230.00 on
        Anna's open July balance; the June invoice stays as it was, the order
        shows nothing to invoice and both chatters say where the credit comes
        from. Cancelling it a second time gives no second credit."""
        order, charge = self._billed_order()
        invoice = charge.invoice_id
        total, state = invoice.amount_total, invoice.state

        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()

        credit = self._credits(order)
        self.assertEqual(len(credit), 1)
        self.assertRecordValues(
            credit, [{"quantity": -2.0, "price_unit": 100.0, "origin": "booking"}]
        )
        self.assertAlmostEqual(credit.price_total, -230.0)
        july = credit.balance_id
        self.assertEqual(july.period_start, date(2026, 7, 1))
        self.assertEqual(july.state, "open")
        self.assertAlmostEqual(july.amount_total, -230.0)
        self.assertEqual((invoice.amount_total, invoice.state), (total, state))
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(order.invoice_status, "no")
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        for record in (july, order):
            self.assertIn(invoice.name, self._chatter(record))
            self.assertIn("cancelled or reduced", self._chatter(record))

        with freeze_time("2026-07-07 09:00:00"):
            order._action_cancel()
        self.assertEqual(self._credits(order), credit)
        self.assertAlmostEqual(july.amount_total, -230.0)

    def test_credit_billed_with_next_balance(self):
        """The credit is billed with Anna's July invoice (a negative line linked
        to the order line); the order line is then invoiced for nothing."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
        credit = self._credits(order)
        with freeze_time("2026-08-01 08:00:00"):
            credit.balance_id._consolidate()
        self.assertEqual(credit.state, "invoiced")
        self.assertNotEqual(credit.invoice_id, charge.invoice_id)
        self.assertEqual(order.order_line.qty_invoiced, 0.0)

    def test_accountant_deletes_credit_keeps_charge(self):
        """The cancellation policy keeps the charge: the accountant deletes the
        credit. Nothing else happens: no credit comes back, cancelling again
        changes nothing, the order shows nothing to invoice."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
            july = self._credits(order).balance_id
            self._credits(order).unlink()
            order._action_cancel()
        self.assertFalse(order.order_line.balance_line_ids - charge)
        self.assertAlmostEqual(july.amount_total, 0.0)
        self.assertEqual(order.invoice_status, "no")
        self.assertEqual(charge.state, "invoiced")

    def test_cancel_then_confirm_again_withdraws_credit(self):
        """Anna's booking is cancelled, then confirmed again on 8 July: the
        credit is withdrawn, nothing new is charged (June billed it), nothing is
        to invoice. Cancelled once more, it gives one credit again, never two."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
        credit = self._credits(order)
        july = credit.balance_id

        with freeze_time("2026-07-08 09:00:00"):
            order.action_draft()
            order.action_confirm()

        self.assertEqual(order.state, "sale")
        self.assertEqual(credit.state, "cancel")
        self.assertFalse(
            order.order_line.balance_line_ids.filtered(
                lambda item: item.state == "pending"
            )
        )
        self.assertAlmostEqual(july.amount_total, 0.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertIn("credit is withdrawn", self._chatter(july))

        with freeze_time("2026-07-09 09:00:00"):
            order._action_cancel()
        again = self._credits(order)
        self.assertEqual(len(again), 1)
        self.assertEqual(again.quantity, -2.0)
        self.assertAlmostEqual(july.amount_total, -230.0)

    def test_credit_billed_then_confirmed_again_charges_again(self):
        """The credit of the cancellation was billed in August; the booking is
        confirmed again on 3 August: it is charged again on the August
        balance."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
        with freeze_time("2026-08-01 08:00:00"):
            self._credits(order).balance_id._consolidate()
        with freeze_time("2026-08-03 09:00:00"):
            order.action_draft()
            order.action_confirm()
        pending = order.order_line.balance_line_ids.filtered(
            lambda item: item.state == "pending"
        )
        self.assertEqual(pending.quantity, 2.0)
        self.assertEqual(pending.balance_id.period_start, date(2026, 8, 1))
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_cancel_unbilled_part_and_credit_billed_part(self):
        """June billed two desk days; on 5 July Anna adds a third (pending on
        July). Cancelled on 6 July: the pending day is cancelled and the two
        billed days are credited, once."""
        order, charge = self._billed_order()
        line = order.order_line
        with freeze_time("2026-07-05 09:00:00"):
            line.product_uom_qty = 3
        extra = line.balance_line_ids.filtered(lambda item: item.state == "pending")
        self.assertEqual(extra.quantity, 1.0)
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
        pending = line.balance_line_ids.filtered(lambda item: item.state == "pending")
        self.assertEqual(pending.mapped("quantity"), [-2.0])
        self.assertAlmostEqual(pending.balance_id.amount_total, -230.0)

    def test_customer_who_stopped_using_balances(self):
        """Anna no longer uses balances when her billed booking is cancelled:
        the cancellation goes through, no credit is made and the order tells
        the accountant to credit the invoice."""
        order, charge = self._billed_order()
        self.anna.balance_use = "never"
        with freeze_time("2026-07-06 09:00:00"):
            order._action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.order_line.balance_line_ids - charge)
        self.assertIn("Credit the invoice", self._chatter(order))
