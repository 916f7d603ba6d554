# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.customer_balance.tests.common import CustomerBalanceTestMixin

from .common import ResourceBookingBalanceCommon, ResourceBookingTestMixin


@tagged("post_install", "-at_install")
class TestResourceBooking(ResourceBookingBalanceCommon):
    """Members book the meeting room; each booking is charged on the balance of
    the month in which it starts, in Berlin."""

    @freeze_time("2026-05-10 09:00:00")
    def test_booking_waits_until_scheduled(self):
        """On 10 May Anna orders the meeting room without a date: the booking is
        pending, nothing is charged yet and the order shows nothing to invoice.
        She schedules it for Saturday 27 June: a scheduled item of 46.00 waits on
        her June balance."""
        order = self._book(self.anna)
        line = order.order_line
        booking = order.resource_booking_ids
        self.assertEqual(booking.state, "pending")
        self.assertFalse(line.balance_line_ids)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")

        booking.start = self._at(2026, 6, 27, 10, 0)

        item = line.balance_line_ids
        self.assertEqual(len(item), 1)
        self.assertEqual(item.resource_booking_id, booking)
        self.assertEqual(item.service_date, date(2026, 6, 27))
        self.assertEqual(item.quantity, 1.0)
        self.assertEqual(item.origin, "booking")
        balance = item.balance_id
        self.assertEqual(balance.partner_id, self.anna)
        self.assertEqual(balance.period_start, date(2026, 6, 1))
        self.assertTrue(balance.is_scheduled)
        self.assertAlmostEqual(balance.amount_total, 46.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")

    @freeze_time("2026-05-10 09:00:00")
    def test_reschedule_across_month_boundary_in_berlin(self):
        """Anna's booking on Sunday 31 May at 10:00 UTC is on her May balance
        (the upcoming invoice). Moved to 22:30 UTC the same Sunday, it starts at
        00:30 on 1 June in Berlin: its item moves to the June balance (scheduled),
        both balances say so, and May holds nothing. Moved back to Saturday
        30 May, it is on the May balance again."""
        order = self._book(self.anna)
        booking = order.resource_booking_ids
        booking.start = self._at(2026, 5, 31, 10, 0)
        item = order.order_line.balance_line_ids
        may = item.balance_id
        self.assertEqual(may.period_start, date(2026, 5, 1))
        self.assertFalse(may.is_scheduled)
        self.assertAlmostEqual(may.amount_total, 46.0)

        booking.start = self._at(2026, 5, 31, 22, 30)

        self.assertEqual(order.order_line.balance_line_ids, item)
        self.assertEqual(item.service_date, date(2026, 6, 1))
        june = item.balance_id
        self.assertEqual(june.period_start, date(2026, 6, 1))
        self.assertTrue(june.is_scheduled)
        self.assertAlmostEqual(june.amount_total, 46.0)
        self.assertAlmostEqual(may.amount_total, 0.0)
        self.assertIn("rescheduled", self._chatter(may))
        self.assertIn(june.display_name, self._chatter(may))
        self.assertIn("rescheduled", self._chatter(june))
        self.assertIn("rescheduled", self._chatter(order))

        booking.start = self._at(2026, 5, 30, 12, 0)

        self.assertEqual(item.service_date, date(2026, 5, 30))
        self.assertEqual(item.balance_id, may)
        self.assertAlmostEqual(may.amount_total, 46.0)
        self.assertAlmostEqual(june.amount_total, 0.0)
        self.assertEqual(item.state, "pending")

    @freeze_time("2026-05-10 09:00:00")
    def test_meeting_moved_in_calendar_moves_item(self):
        """The receptionist drags Anna's booking in the calendar from 30 May to
        Friday 3 July: its item moves from the May to the July balance."""
        order = self._book(self.anna)
        booking = order.resource_booking_ids
        booking.start = self._at(2026, 5, 30, 10, 0)
        item = order.order_line.balance_line_ids

        booking.meeting_id.write(
            {"start": self._at(2026, 7, 3, 10, 0), "stop": self._at(2026, 7, 3, 11, 0)}
        )

        self.assertEqual(booking.start, self._at(2026, 7, 3, 10, 0))
        self.assertEqual(item.service_date, date(2026, 7, 3))
        self.assertEqual(item.balance_id.period_start, date(2026, 7, 1))

    @freeze_time("2026-05-10 09:00:00")
    def test_cancel_booking_removes_charge(self):
        """Anna cancels her scheduled booking of 27 June: the charge is gone from
        her June balance, the booking stays cancelled and the order line shows
        nothing to invoice (Odoo's own invoicing does not bill it either)."""
        order = self._book(self.anna)
        line = order.order_line
        booking = order.resource_booking_ids
        booking.start = self._at(2026, 6, 27, 10, 0)
        balance = line.balance_line_ids.balance_id

        item = line.balance_line_ids

        booking.action_cancel()

        self.assertEqual(item.state, "cancel")
        self.assertFalse(balance.line_ids.filtered(lambda i: i.state == "pending"))
        self.assertAlmostEqual(balance.amount_total, 0.0)
        self.assertFalse(booking.active)
        self.assertEqual(booking.state, "canceled")
        self.assertEqual(line.balance_waived_qty, 1.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")
        self.assertIn("charge of", self._chatter(balance))

    @freeze_time("2026-05-10 09:00:00")
    def test_unscheduled_booking_waits_again(self):
        """Anna's booking is unscheduled: its item is withdrawn and the line still
        shows nothing to invoice; scheduled again for 4 July, it is charged on
        the July balance."""
        order = self._book(self.anna)
        line = order.order_line
        booking = order.resource_booking_ids
        booking.start = self._at(2026, 6, 27, 10, 0)

        booking.action_unschedule()

        self.assertFalse(
            line.balance_line_ids.filtered(lambda item: item.state == "pending")
        )
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertEqual(booking.state, "pending")

        booking.start = self._at(2026, 7, 4, 10, 0)
        item = line.balance_line_ids.filtered(lambda item: item.state == "pending")
        self.assertEqual(item.balance_id.period_start, date(2026, 7, 1))
        self.assertAlmostEqual(item.balance_id.amount_total, 46.0)
        self.assertEqual(line.qty_to_invoice, 0.0)

    @freeze_time("2026-05-10 09:00:00")
    def test_two_bookings_each_in_its_period(self):
        """Anna orders the room twice: one booking on 30 May, one on 27 June. Each
        is an item of one unit on the balance of its own month."""
        order = self._book(self.anna, quantity=2)
        first, second = order.resource_booking_ids
        first.start = self._at(2026, 5, 30, 10, 0)
        second.start = self._at(2026, 6, 27, 10, 0)

        items = order.order_line.balance_line_ids.sorted("service_date")
        self.assertEqual(items.mapped("quantity"), [1.0, 1.0])
        self.assertEqual(
            items.balance_id.mapped("period_start"),
            [date(2026, 5, 1), date(2026, 6, 1)],
        )
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_booking_scheduled_after_its_period_was_billed(self):
        """Anna's May balance was billed on 1 June. On 2 June the receptionist
        enters her booking of 31 May afterwards: May is closed, so the late item
        goes on her June balance, with today's items; its service date stays
        31 May."""
        with freeze_time("2026-05-20 09:00:00"):
            first = self._book(self.anna)
            first.resource_booking_ids.start = self._at(2026, 5, 29, 10, 0)
            late = self._book(self.anna)
        may = first.order_line.balance_line_ids.balance_id
        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()
        self.assertEqual(may.state, "invoiced")

        with freeze_time("2026-06-02 09:00:00"):
            late.resource_booking_ids.start = self._at(2026, 5, 31, 10, 0)

        item = late.order_line.balance_line_ids
        self.assertEqual(item.service_date, date(2026, 5, 31))
        self.assertEqual(item.balance_id.period_start, date(2026, 6, 1))
        self.assertEqual(item.balance_id.state, "open")
        self.assertEqual(late.order_line.qty_to_invoice, 0.0)

    @freeze_time("2026-05-10 09:00:00")
    def test_customer_not_on_balances_invoiced_as_usual(self):
        """Only members use balances: Lisa's scheduled booking gets no item and
        her order line is to invoice, as without the module."""
        self.company.balance_partner_category_ids = self.community
        order = self._book(self.lisa)
        order.resource_booking_ids.start = self._at(2026, 6, 27, 10, 0)

        self.assertFalse(order.order_line.balance_line_ids)
        self.assertEqual(order.order_line.qty_to_invoice, 1.0)
        self.assertEqual(order.order_line.invoice_status, "to invoice")

    @freeze_time("2026-05-10 09:00:00")
    def test_cancel_order_cancels_booking_and_item(self):
        """Cancelling Anna's order cancels its booking and its pending item."""
        order = self._book(self.anna)
        booking = order.resource_booking_ids
        booking.start = self._at(2026, 6, 27, 10, 0)
        item = order.order_line.balance_line_ids

        order._action_cancel()

        self.assertEqual(booking.state, "canceled")
        self.assertEqual(item.state, "cancel")
        self.assertAlmostEqual(item.balance_id.amount_total, 0.0)

    @freeze_time("2026-05-10 09:00:00")
    def test_booking_billed_with_consolidated_invoice(self):
        """Anna's booking of 30 May is billed on 1 June with her May invoice: one
        line of 40.00 linked to the order line, which is then invoiced."""
        order = self._book(self.anna)
        order.resource_booking_ids.start = self._at(2026, 5, 30, 10, 0)
        item = order.order_line.balance_line_ids

        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()

        self.assertEqual(item.state, "invoiced")
        self.assertAlmostEqual(item.invoice_id.amount_total, 46.0)
        self.assertEqual(order.order_line.qty_invoiced, 1.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)


@tagged("post_install", "-at_install")
class TestResourceBookingPortal(
    CustomerBalanceTestMixin, ResourceBookingTestMixin, HttpCase
):
    """Lisa, a member, manages her meeting room bookings in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls._setup_shop_company(balance_portal_visible=True)
        company.partner_id.tz = "Europe/Berlin"
        cls.lisa = cls.env["res.partner"].create(
            {"name": "Lisa Portal", "email": "lisa.portal@example.org"}
        )
        cls._portal_user(cls.lisa, "portal.lisa.booking")
        room_type = cls._every_day_room_type("Room")
        cls.room = cls.env["product.product"].create(
            {
                "name": "Room",
                "type": "service",
                "list_price": 40.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                "balance_policy": "always",
                "resource_booking_type_id": room_type.id,
            }
        )

    def _book(self, start):
        """Lisa's confirmed order of the room, its booking scheduled at
        ``start``."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.lisa.id,
                "order_line": [Command.create({"product_id": self.room.id})],
            }
        )
        order.action_confirm()
        order.resource_booking_ids.start = start
        return order

    def test_member_cancels_booking_in_portal(self):
        """Lisa cancels her scheduled meeting room booking in the portal: the
        charge is removed from her balance and her order shows nothing to
        invoice."""
        start = (fields.Datetime.now() + timedelta(days=30)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        order = self._book(start)
        booking = order.resource_booking_ids
        balance = order.order_line.balance_line_ids.balance_id
        self.assertAlmostEqual(balance.amount_total, 40.0)

        self.authenticate("portal.lisa.booking", "portal.lisa.booking")
        response = self.url_open(f"/my/bookings/{booking.id}/cancel")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(booking.state, "canceled")
        self.assertEqual(order.order_line.balance_line_ids.state, "cancel")
        self.assertAlmostEqual(balance.amount_total, 0.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertNotEqual(order.order_line.invoice_status, "to invoice")

    def test_member_cancels_billed_booking_in_portal(self):
        """Lisa's booking of next month was billed already (Bill now). She
        cancels it in the portal: a credit of what was billed waits on her open
        balance, the invoice stays posted, her order shows nothing to invoice
        and the balance's chatter says where the credit comes from."""
        self.env.ref("base.main_company").balance_auto_post = True
        start = (fields.Datetime.now() + timedelta(days=30)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        order = self._book(start)
        booking = order.resource_booking_ids
        charge = order.order_line.balance_line_ids
        charge.balance_id._consolidate()
        self.assertEqual(charge.state, "invoiced")
        invoice = charge.invoice_id
        self.assertEqual(invoice.state, "posted")

        self.authenticate("portal.lisa.booking", "portal.lisa.booking")
        response = self.url_open(f"/my/bookings/{booking.id}/cancel")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(booking.state, "canceled")
        credit = order.order_line.balance_line_ids - charge
        self.assertRecordValues(
            credit, [{"quantity": -1.0, "price_unit": 40.0, "state": "pending"}]
        )
        self.assertEqual(credit.balance_id.state, "open")
        self.assertAlmostEqual(credit.balance_id.amount_total, -40.0)
        self.assertEqual(invoice.state, "posted")
        self.assertAlmostEqual(invoice.amount_total, 40.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertNotEqual(order.order_line.invoice_status, "to invoice")
        chatter = html2plaintext(
            "\n".join(credit.balance_id.message_ids.mapped("body"))
        )
        self.assertIn(invoice.name, chatter)

    def test_member_reschedules_booking_in_portal(self):
        """Lisa's booking is on the 10th of next month. In the portal she moves
        it to a day of the month after: her balance page of that month now lists
        the booking, the one of next month no longer does."""
        today = fields.Date.today()
        first = fields.Datetime.to_datetime(
            (today + relativedelta(months=1)).replace(day=10)
        ).replace(hour=10)
        order = self._book(first)
        item = order.order_line.balance_line_ids
        old_balance = item.balance_id
        target = today + relativedelta(months=2)

        self.start_tour(
            f"/my/bookings/{order.resource_booking_ids.id}/schedule/"
            f"{target.year}/{target.month}",
            "customer_balance_booking_reschedule_tour",
            login="portal.lisa.booking",
        )

        self.assertEqual(item.state, "pending")
        self.assertEqual(
            (item.service_date.year, item.service_date.month),
            (target.year, target.month),
        )
        new_balance = item.balance_id
        self.assertNotEqual(new_balance, old_balance)
        self.assertEqual(new_balance.period_start, target.replace(day=1))
        self.authenticate("portal.lisa.booking", "portal.lisa.booking")
        page = html2plaintext(self.url_open(f"/my/balances/{new_balance.id}").text)
        self.assertIn("Room", page)
        old_page = html2plaintext(self.url_open(f"/my/balances/{old_balance.id}").text)
        self.assertNotIn("Room (", old_page)
