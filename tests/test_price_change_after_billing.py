# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestChangeAfterBilling(CustomerBalanceCommon):
    """Anna books two desk days on 10 June (100.00 + 15 % each); her June
    balance is billed on 1 July (230.00, posted). On 6 July the booking
    changes: the difference goes on her open July balance (DESIGN §5.2), the
    June invoice is never touched and the order shows nothing to invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()
        cls.company.balance_auto_post = True

    # === HELPERS === #

    def _july(self):
        return self.env["customer.balance"].search(
            [
                ("partner_id", "=", self.anna.id),
                ("period_start", "=", "2026-07-01"),
                ("state", "=", "open"),
            ]
        )

    def _assert_invoice_untouched(self, invoice):
        self.assertAlmostEqual(invoice.amount_total, 230.0)
        self.assertEqual(invoice.state, "posted")

    def _assert_nothing_to_invoice(self, order):
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertNotEqual(order.invoice_status, "to invoice")

    # === TESTS === #

    def test_higher_price_charges_the_difference(self):
        """100.00 -> 120.00 a day: a charge of 40.00 (46.00 with tax) waits on the
        July balance, said on the balance and the order."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.price_unit = 120.0
        july = self._july()
        difference = july.line_ids
        self.assertEqual(len(difference), 1)
        self.assertRecordValues(
            difference,
            [
                {
                    "state": "pending",
                    "quantity": 1.0,
                    "price_unit": 40.0,
                    "sale_line_id": False,
                    "price_change_sale_line_id": order.order_line.id,
                }
            ],
        )
        self.assertAlmostEqual(july.amount_total, 46.0)
        self.assertEqual(july.period_start, date(2026, 7, 1))
        self._assert_invoice_untouched(charge.invoice_id)
        self._assert_nothing_to_invoice(order)
        self.assertEqual(charge.price_unit, 100.0)
        for record in (july, order):
            self.assertIn("changed after it was billed", self._chatter(record))

    def test_lower_price_credits_the_difference(self):
        """100.00 -> 90.00: a credit of -20.00 (-23.00 with tax)."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.price_unit = 90.0
        july = self._july()
        self.assertAlmostEqual(july.line_ids.price_subtotal, -20.0)
        self.assertAlmostEqual(july.amount_total, -23.0)
        self._assert_invoice_untouched(charge.invoice_id)
        self._assert_nothing_to_invoice(order)

    def test_discount_after_billing_credits_it(self):
        """A 10 % discount granted after billing: a credit of -20.00."""
        order, _charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.discount = 10.0
        self.assertAlmostEqual(self._july().line_ids.price_subtotal, -20.0)

    def test_price_changed_twice_one_difference(self):
        """120.00, then 110.00: one pending difference of 20.00; back to 100.00,
        no difference is left."""
        order, _charge = self._billed_order()
        line = order.order_line
        with freeze_time("2026-07-06 09:00:00"):
            line.price_unit = 120.0
            line.price_unit = 110.0
        july = self._july()
        pending = july.line_ids.filtered(lambda item: item.state == "pending")
        self.assertEqual(len(pending), 1)
        self.assertAlmostEqual(pending.price_subtotal, 20.0)
        with freeze_time("2026-07-07 09:00:00"):
            line.price_unit = 100.0
        self.assertFalse(july.line_ids.filtered(lambda item: item.state == "pending"))
        self.assertAlmostEqual(july.amount_total, 0.0)

    def test_more_quantity_after_billing(self):
        """3 days instead of 2: an extra charge of one day (115.00)."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.product_uom_qty = 3
        july = self._july()
        self.assertRecordValues(
            july.line_ids, [{"quantity": 1.0, "price_unit": 100.0, "state": "pending"}]
        )
        self.assertAlmostEqual(july.amount_total, 115.0)
        self._assert_invoice_untouched(charge.invoice_id)
        self._assert_nothing_to_invoice(order)

    def test_less_quantity_after_billing(self):
        """1 day instead of 2: a credit of one day (-115.00)."""
        order, charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.product_uom_qty = 1
        july = self._july()
        self.assertRecordValues(
            july.line_ids, [{"quantity": -1.0, "price_unit": 100.0, "state": "pending"}]
        )
        self.assertAlmostEqual(july.amount_total, -115.0)
        self._assert_invoice_untouched(charge.invoice_id)
        self._assert_nothing_to_invoice(order)

    def test_price_and_quantity_after_billing(self):
        """3 days at 120.00 instead of 2 at 100.00: the third day at 120.00 and
        the difference of 40.00 on the two billed days: 160.00 untaxed, what
        Odoo would invoice on top of the 200.00 billed (360.00 in all)."""
        order, _charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.write({"price_unit": 120.0, "product_uom_qty": 3})
        july = self._july()
        self.assertAlmostEqual(july.amount_untaxed, 160.0)
        self.assertEqual(len(july.line_ids), 2)

    def test_difference_billed_then_booking_cancelled(self):
        """The difference of 40.00 is billed with July on 1 August; on 5 August
        the booking is cancelled: the credit of what was billed (-200.00 at
        100.00) and of the difference (-40.00) wait on August, so that the
        booking charges nothing in all."""
        order, _charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.price_unit = 120.0
        july = self._july()
        with freeze_time("2026-08-01 08:00:00"):
            self._bill_run()
        self.assertEqual(july.state, "invoiced")
        self.assertAlmostEqual(july.amount_untaxed, 40.0)
        with freeze_time("2026-08-05 09:00:00"):
            order._action_cancel()
        august = self.env["customer.balance"].search(
            [("partner_id", "=", self.anna.id), ("state", "=", "open")]
        )
        self.assertEqual(august.period_start, date(2026, 8, 1))
        self.assertAlmostEqual(august.amount_untaxed, -240.0)
        self._assert_nothing_to_invoice(order)

    def test_cancelled_with_pending_difference(self):
        """Cancelled while the difference still waits: the difference is
        cancelled and what was billed is credited at its price (-200.00)."""
        order, _charge = self._billed_order()
        with freeze_time("2026-07-06 09:00:00"):
            order.order_line.price_unit = 120.0
            order._action_cancel()
        july = self._july()
        self.assertAlmostEqual(july.amount_untaxed, -200.0)
        difference = order.order_line.balance_price_change_ids
        self.assertEqual(difference.state, "cancel")

    def test_unbilled_price_change_updates_pending_item(self):
        """Before billing, a price change only updates the pending item: no
        difference item."""
        with freeze_time("2026-06-10 09:00:00"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.anna.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.desk.id, "product_uom_qty": 2}
                        )
                    ],
                }
            )
            order.action_confirm()
            order.order_line.price_unit = 120.0
        item = order.order_line.balance_line_ids
        self.assertEqual(item.price_unit, 120.0)
        self.assertFalse(order.order_line.balance_price_change_ids)
