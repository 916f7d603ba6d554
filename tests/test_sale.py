# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestSaleBookings(CustomerBalanceCommon):
    """Bookings (confirmed sale orders) of the coworking members go on balances."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref("sales_team.group_sale_manager")
        cls.company.balance_billing_delay = 2
        cls.room = cls._create_product(
            name="Meeting room",
            type="service",
            lst_price=40.0,
            taxes_id=cls.tax_sale_a,
            invoice_policy="order",
        )
        cls.room.balance_invoice_timing = "start"
        cls.coffee = cls._create_product(
            name="Coffee card",
            type="service",
            lst_price=10.0,
            taxes_id=cls.tax_sale_a,
            invoice_policy="order",
        )
        cls.coffee.balance_policy = "none"
        cls.locker = cls._create_product(
            name="Locker",
            type="service",
            lst_price=15.0,
            taxes_id=cls.tax_sale_a,
            invoice_policy="order",
        )
        cls.locker.balance_policy = "optional"
        cls.desk.invoice_policy = "order"

    # === HELPERS === #

    def _book(self, partner, lines, confirm=True, **values):
        """An order of ``partner`` with ``lines`` = [(product, qty, service_start)]."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            **({"service_start": start} if start else {}),
                        }
                    )
                    for product, qty, start in lines
                ],
                **values,
            }
        )
        if confirm:
            order.action_confirm()
        return order

    def _balance_transaction(self, order, provider, reference):
        """The transaction of a customer choosing "Add to my customer balance"."""
        return (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids.id,
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_id.id,
                    "sale_order_ids": [Command.set(order.ids)],
                    "reference": reference,
                }
            )
        )

    # === TESTS === #

    @freeze_time("2026-06-10 09:00:00")
    def test_confirmed_booking_becomes_items(self):
        """Anna books two desk days and a coffee card on 10 June: the desk line
        becomes one pending item on her June balance; the coffee card (pay
        immediately) follows Odoo's usual flow."""
        order = self._book(
            anna := self.anna, [(self.desk, 2, None), (self.coffee, 1, None)]
        )
        desk_line, coffee_line = order.order_line
        item = desk_line.balance_line_ids
        self.assertEqual(len(item), 1)
        self.assertRecordValues(
            item,
            [
                {
                    "partner_id": anna.id,
                    "quantity": 2.0,
                    "price_unit": 100.0,
                    "origin": "booking",
                    "origin_ref": order.name,
                    "state": "pending",
                    "service_date": date(2026, 6, 10),
                }
            ],
        )
        self.assertEqual(item.balance_id.period_start, date(2026, 6, 1))
        self.assertEqual(item.balance_id.billing_date, date(2026, 7, 2))
        self.assertAlmostEqual(item.balance_id.amount_untaxed, 200.0)
        self.assertFalse(coffee_line.balance_line_ids)
        # Nothing of the desk line is left for Odoo's own invoicing.
        self.assertEqual(desk_line.qty_to_invoice, 0.0)
        self.assertEqual(coffee_line.qty_to_invoice, 1.0)
        self.assertIn("BAL/", order.balance_summary)

    @freeze_time("2026-06-10 09:00:00")
    def test_lines_billed_at_service_start_go_to_their_period(self):
        """A meeting room for 13 July (billed at service start) waits on the July
        balance as a scheduled item; the desk day goes on June's."""
        order = self._book(
            self.anna,
            [(self.desk, 1, None), (self.room, 3, datetime(2026, 7, 13, 8, 0))],
        )
        desk, room = order.order_line
        june = desk.balance_line_ids.balance_id
        july = room.balance_line_ids.balance_id
        self.assertEqual(june.period_start, date(2026, 6, 1))
        self.assertEqual(july.period_start, date(2026, 7, 1))
        self.assertTrue(july.is_scheduled)
        self.assertFalse(june.is_scheduled)
        self.assertIn("Scheduled", order.balance_summary)

    def test_service_start_in_company_time_zone(self):
        """A room booked for 1 July 00:30 in Berlin (30 June 22:30 UTC) belongs to
        July."""
        with freeze_time("2026-06-10 09:00:00"):
            order = self._book(
                self.anna, [(self.room, 1, datetime(2026, 6, 30, 22, 30))]
            )
        item = order.order_line.balance_line_ids
        self.assertEqual(item.service_date, date(2026, 7, 1))
        self.assertEqual(item.balance_id.period_start, date(2026, 7, 1))

    @freeze_time("2026-06-10 09:00:00")
    def test_edit_redate_and_cancel_booking(self):
        """Changing the quantity updates the pending item; moving the service start
        to August moves it to the August balance; cancelling the order cancels
        it."""
        order = self._book(self.anna, [(self.room, 2, datetime(2026, 6, 20, 9, 0))])
        line = order.order_line
        item = line.balance_line_ids
        june = item.balance_id
        line.product_uom_qty = 5
        self.assertEqual(item.quantity, 5.0)
        self.assertAlmostEqual(june.amount_untaxed, 200.0)
        line.price_unit = 30.0
        self.assertAlmostEqual(june.amount_untaxed, 150.0)
        line.service_start = datetime(2026, 8, 3, 9, 0)
        self.assertEqual(item.balance_id.period_start, date(2026, 8, 1))
        self.assertAlmostEqual(june.amount_untaxed, 0.0)
        order._action_cancel()
        self.assertEqual(item.state, "cancel")
        self.assertAlmostEqual(item.balance_id.amount_total, 0.0)

    def test_invoiced_items_unaffected_by_later_edits(self):
        """Once June is billed, adding two desk days to the booking gives a new
        item on the current balance; the invoiced item keeps its quantity."""
        with freeze_time("2026-06-10 09:00:00"):
            order = self._book(self.anna, [(self.desk, 1, None)])
        line = order.order_line
        first = line.balance_line_ids
        with freeze_time("2026-07-05 09:00:00"):
            first.balance_id._consolidate()
            self.assertEqual(first.state, "invoiced")
            self.assertEqual(line.qty_invoiced, 1.0)
            line.product_uom_qty = 3
        second = line.balance_line_ids - first
        self.assertEqual(first.quantity, 1.0)
        self.assertEqual(second.quantity, 2.0)
        self.assertEqual(second.state, "pending")
        self.assertEqual(second.balance_id.period_start, date(2026, 7, 1))
        # Cancelling the whole booking afterwards credits the billed desk day.
        with freeze_time("2026-07-06 09:00:00"):
            line.product_uom_qty = 0
        self.assertEqual(line.balance_line_ids, first + second)
        self.assertEqual(second.quantity, -1.0)
        self.assertAlmostEqual(second.price_subtotal, -100.0)
        self.assertEqual(first.quantity, 1.0)
        self.assertEqual(first.state, "invoiced")

    @freeze_time("2026-06-10 09:00:00")
    def test_create_invoice_does_not_bill_pending_lines_twice(self):
        """Odoo's own Create invoice leaves the lines waiting on a balance out: it
        refuses an order whose lines are all pending, and bills only the coffee
        card of a mixed order."""
        order = self._book(self.anna, [(self.desk, 2, None)])
        self.assertEqual(order.invoice_status, "no")
        with self.assertRaises(UserError):
            order._create_invoices()
        mixed = self._book(self.anna, [(self.desk, 1, None), (self.coffee, 1, None)])
        invoice = mixed._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.product_id, self.coffee)
        self.assertEqual(mixed.order_line[0].qty_invoiced, 0.0)
        self.assertEqual(mixed.order_line[0].balance_line_ids.state, "pending")

    @freeze_time("2026-06-10 09:00:00")
    def test_deleting_pending_item_waives_charge(self):
        """Deleting the pending item removes the charge: the order stays confirmed
        and the line is no longer to invoice."""
        order = self._book(self.anna, [(self.desk, 2, None)])
        line = order.order_line
        line.balance_line_ids.unlink()
        self.assertEqual(order.state, "sale")
        self.assertEqual(line.balance_waived_qty, 2.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertEqual(order.invoice_status, "no")

    @freeze_time("2026-06-10 09:00:00")
    def test_ineligible_orders_follow_odoo_flow(self):
        """Outside the community, above the maximum amount, or paid online: the
        order is invoiced as usual, no item is created."""
        self.company.balance_partner_category_ids = self.community
        self.company.balance_max_order_amount = 250.0
        solo = self._book(self.lisa, [(self.desk, 1, None)])
        self.assertFalse(solo.order_line.balance_line_ids)
        self.assertEqual(solo.order_line.qty_to_invoice, 1.0)
        big = self._book(self.anna, [(self.desk, 3, None)])
        self.assertFalse(big.order_line.balance_line_ids)
        small = self._book(self.anna, [(self.desk, 1, None)])
        self.assertTrue(small.order_line.balance_line_ids)

    @freeze_time("2026-06-10 09:00:00")
    def test_order_paid_online_is_not_put_on_balance(self):
        """An order paid through a payment provider is invoiced and charged as
        today."""
        order = self._book(self.anna, [(self.desk, 1, None)], confirm=False)
        provider = self.env.ref("payment.payment_provider_transfer").sudo()
        self.env["payment.transaction"].sudo().create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_card").id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "partner_id": self.anna.id,
                "sale_order_ids": [Command.set(order.ids)],
                "state": "done",
            }
        )
        order.action_confirm()
        self.assertFalse(order.order_line.balance_line_ids)
        self.assertEqual(order.order_line.qty_to_invoice, 1.0)

    @freeze_time("2026-06-10 09:00:00")
    def test_optional_product_by_staff_choice(self):
        """A locker (customer chooses) goes on the balance only when the order says
        so: ticked by staff on the order form."""
        plain = self._book(self.anna, [(self.locker, 1, None)])
        self.assertFalse(plain.order_line.balance_line_ids)
        with Form(self.env["sale.order"]) as form:
            form.partner_id = self.anna
            form.balance_requested = True
            with form.order_line.new() as line:
                line.product_id = self.locker
        chosen = form.save()
        chosen.action_confirm()
        self.assertEqual(chosen.order_line.balance_line_ids.state, "pending")

    def test_checkout_choice_offered_to_eligible_orders_only(self):
        """The payment option "Add to my customer balance" is offered for orders of
        eligible members with a product that lets them choose, not to others nor
        above the maximum nor when only staff may use balances."""
        provider = self.env.ref("customer_balance.payment_provider_customer_balance")
        provider.sudo().company_id = self.company
        Provider = self.env["payment.provider"].sudo()

        def offered(order):
            return provider in Provider._get_compatible_providers(
                self.company.id,
                order.partner_id.id,
                order.amount_total,
                sale_order_id=order.id,
            )

        self.company.balance_partner_category_ids = self.community
        self.company.balance_max_order_amount = 100.0
        order = self._book(self.anna, [(self.locker, 2, None)], confirm=False)
        self.assertTrue(offered(order))
        self.assertFalse(
            offered(self._book(self.lisa, [(self.locker, 1, None)], False))
        )
        self.assertFalse(offered(self._book(self.anna, [(self.desk, 1, None)], False)))
        self.assertFalse(
            offered(self._book(self.anna, [(self.locker, 9, None)], False))
        )
        self.company.balance_admin_only = True
        self.assertFalse(offered(order))

    @freeze_time("2026-06-10 09:00:00")
    def test_checkout_choice_confirms_without_charging(self):
        """Choosing the balance at checkout confirms the order without any payment
        and puts it on the balance; the confirmation e-mail gives the period and
        the date of the consolidated invoice."""
        provider = self.env.ref("customer_balance.payment_provider_customer_balance")
        provider.sudo().company_id = self.company
        order = self._book(self.anna, [(self.locker, 2, None)], confirm=False)
        tx = self._balance_transaction(order, provider, "BAL-TEST-1")
        tx._set_pending()
        tx._post_process()
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.balance_requested)
        item = order.order_line.balance_line_ids
        self.assertEqual(item.state, "pending")
        self.assertEqual(tx.state, "pending")
        self.assertFalse(tx.payment_id)
        mail = (
            self.env["mail.message"]
            .search(
                [("model", "=", "sale.order"), ("res_id", "=", order.id)],
                order="id desc",
            )
            .filtered(lambda message: "customer balance" in (message.body or ""))
        )
        self.assertTrue(mail)
        body = mail[0].body
        self.assertIn("06/01/2026", body)
        self.assertIn("06/30/2026", body)
        self.assertIn("07/02/2026", body)
        # Once the order is billed, its transaction does not stay pending forever.
        with freeze_time("2026-07-02 09:00:00"):
            invoice = item.balance_id._consolidate()
        self.assertEqual(tx.state, "cancel")
        self.assertIn(invoice.display_name, tx.state_message)
        self.assertFalse(tx.payment_id)

    def test_checkout_choice_refused_for_ineligible_order(self):
        """A "balance" transaction forged for an order that may not use it confirms
        nothing and ends in error."""
        provider = self.env.ref("customer_balance.payment_provider_customer_balance")
        provider.sudo().company_id = self.company
        order = self._book(self.anna, [(self.desk, 1, None)], confirm=False)
        tx = self._balance_transaction(order, provider, "BAL-TEST-2")
        tx._set_pending()
        tx._post_process()
        self.assertEqual(tx.state, "error")
        self.assertIn(order.state, ("draft", "sent"))
        self.assertFalse(order.order_line.balance_line_ids)

    def test_worked_example_april_booking_for_june(self):
        """A booking made on 10 April for 13 June (monthly, delay 2) is scheduled
        until 1 June, on the upcoming invoice in June, billed on 2 July; cancelled
        in May it leaves nothing to bill."""
        with freeze_time("2026-04-10 10:00:00"):
            order = self._book(self.anna, [(self.room, 1, datetime(2026, 6, 13, 8, 0))])
            balance = order.order_line.balance_line_ids.balance_id
            self.assertEqual(balance.period_start, date(2026, 6, 1))
            self.assertTrue(balance.is_scheduled)
            self.assertEqual(balance.invoice_creation_date, date(2026, 7, 2))
        with freeze_time("2026-06-01 08:00:00"):
            balance.invalidate_recordset(["is_scheduled", "is_due"])
            self.assertFalse(balance.is_scheduled)
            self.assertFalse(balance.is_due)
        with freeze_time("2026-07-01 08:00:00"):
            balance.invalidate_recordset(["is_due"])
            self.assertFalse(balance.is_due)
        with freeze_time("2026-07-02 08:00:00"):
            balance.invalidate_recordset(["is_due"])
            self.assertTrue(balance.is_due)
        # The same booking cancelled in May leaves nothing to bill.
        with freeze_time("2026-04-10 10:00:00"):
            other = self._book(self.ben, [(self.room, 1, datetime(2026, 6, 13, 8, 0))])
        with freeze_time("2026-05-12 10:00:00"):
            other._action_cancel()
        other_balance = other.order_line.balance_line_ids.balance_id
        self.assertEqual(other.order_line.balance_line_ids.state, "cancel")
        self.assertAlmostEqual(other_balance.amount_total, 0.0)
        self.assertEqual(other_balance.item_count, 0)
