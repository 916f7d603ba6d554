# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.customer_balance.tests.common import CustomerBalanceTestMixin
from odoo.addons.customer_balance_resource_booking.tests.common import (
    ResourceBookingTestMixin,
)


@tagged("post_install", "-at_install")
class TestShopBooking(CustomerBalanceTestMixin, ResourceBookingTestMixin, HttpCase):
    """A member buys an hour of the meeting room in the shop, puts it on her
    balance at checkout and schedules it in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls._setup_shop_company(
            balance_billing_delay=0,
            balance_grouping="person",
            balance_portal_visible=True,
        )
        company.partner_id.tz = "Europe/Berlin"
        cls._enable_balance_provider()
        cls.website = cls.env["website"].get_current_website()
        cls.member = cls._shop_member("shop.booker@example.org", "shop.booker")
        room_type = cls._every_day_room_type("Meeting room")
        cls.room = cls.env["product.product"].create(
            {
                "name": "Meeting room (hour)",
                "type": "service",
                "list_price": 40.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                "balance_policy": "optional",
                "resource_booking_type_id": room_type.id,
                "website_published": True,
            }
        )

    def _balance_page(self, balance):
        """The member's page of ``balance``, as plain text."""
        self.authenticate("shop.booker", "shop.booker")
        return html2plaintext(self.url_open(f"/my/balances/{balance.id}").text)

    def _schedule(self, booking, day):
        """The member schedules ``booking`` in the portal, on the first free slot
        of the month of ``day``."""
        self.start_tour(
            f"/my/bookings/{booking.id}/schedule/{day.year}/{day.month}",
            "customer_balance_shop_booking_schedule_tour",
            login="shop.booker",
        )

    def test_shop_booking_scheduled_in_portal(self):
        """Shop → *Add to my customer balance* → confirmation: the order is
        confirmed, its booking waits to be scheduled, nothing is charged yet.
        Scheduled in the portal next month, the hour is an item of the balance
        of that month (shown on its page); rescheduled to the month after, the
        item moves to that month's balance and leaves the other."""
        cart = self.env["sale.order"].create(
            {
                "partner_id": self.member.id,
                "website_id": self.website.id,
                "order_line": [Command.create({"product_id": self.room.id})],
            }
        )

        self.start_tour(
            "/shop/checkout?try_skip_step=true",
            "customer_balance_shop_booking_checkout_tour",
            login="shop.booker",
        )

        self.assertEqual(cart.state, "sale")
        self.assertTrue(cart.order_line.balance_booking_billing)
        booking = cart.resource_booking_ids
        self.assertEqual(len(booking), 1)
        self.assertFalse(booking.start)
        self.assertFalse(cart.order_line.balance_line_ids)
        self.assertFalse(cart.invoice_ids)
        self.assertEqual(cart.order_line.qty_to_invoice, 0.0)

        today = fields.Date.today()
        next_month = today + relativedelta(months=1)
        self._schedule(booking, next_month)

        item = cart.order_line.balance_line_ids
        self.assertEqual(item.state, "pending")
        self.assertEqual(
            (item.service_date.year, item.service_date.month),
            (next_month.year, next_month.month),
        )
        first = item.balance_id
        self.assertEqual(first.period_start, next_month.replace(day=1))
        self.assertAlmostEqual(first.amount_total, 40.0)
        self.assertIn("Meeting room (hour) (", self._balance_page(first))

        month_after = today + relativedelta(months=2)
        self._schedule(booking, month_after)

        self.assertEqual(item.state, "pending")
        second = item.balance_id
        self.assertNotEqual(second, first)
        self.assertEqual(second.period_start, month_after.replace(day=1))
        self.assertAlmostEqual(second.amount_total, 40.0)
        self.assertAlmostEqual(first.amount_total, 0.0)
        self.assertIn("Meeting room (hour) (", self._balance_page(second))
        self.assertNotIn("Meeting room (hour) (", self._balance_page(first))
        self.assertEqual(cart.order_line.qty_to_invoice, 0.0)
