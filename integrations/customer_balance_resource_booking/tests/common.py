# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from odoo import Command

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon
from odoo.addons.resource_booking.tests.common import create_test_data


class ResourceBookingTestMixin:
    """Resource booking fixtures of the bridges' tests (this one's and the shop
    bridge's), for test classes of any base (``HttpCase``)."""

    @classmethod
    def _every_day_room_type(cls, name):
        """A booking type ``name`` of one room, bookable an hour at a time from
        8:00 to 18:00 (UTC) every day of the week."""
        calendar = cls.env["resource.calendar"].create(
            {
                "name": "Every day",
                "tz": "UTC",
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 8,
                            "hour_to": 18,
                            "day_period": "morning",
                        }
                    )
                    for day in range(7)
                ],
            }
        )
        resource = cls.env["resource.resource"].create(
            {
                "name": "Room",
                "resource_type": "material",
                "calendar_id": calendar.id,
                "tz": "UTC",
            }
        )
        combination = cls.env["resource.booking.combination"].create(
            {"resource_ids": [Command.set(resource.ids)]}
        )
        return cls.env["resource.booking.type"].create(
            {
                "name": name,
                "duration": 1.0,
                "slot_duration": 1.0,
                "resource_calendar_id": calendar.id,
                "combination_rel_ids": [
                    Command.create({"combination_id": combination.id})
                ],
            }
        )


class ResourceBookingBalanceCommon(CustomerBalanceCommon):
    """The coworking space in Berlin rents its meeting room through OCA resource
    bookings: the room can be booked all day from Friday to Sunday (UTC), an hour
    for 40.00 (+ 15 %), always on the member's balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The receptionist manages bookings and resources as well as invoicing.
        cls.env.user.group_ids += cls.env.ref(
            "resource_booking.group_manager"
        ) | cls.env.ref("sales_team.group_sale_manager")
        create_test_data(cls)
        cls.room_type = cls.env["resource.booking.type"].create(
            {
                "name": "Meeting room",
                "duration": 1.0,
                "resource_calendar_id": cls.r_calendars[3].id,
                "combination_rel_ids": [
                    Command.create({"combination_id": cls.rbcs[3].id})
                ],
            }
        )
        cls.room = cls._create_product(
            name="Meeting room",
            type="service",
            lst_price=40.0,
            invoice_policy="order",
            taxes_id=cls.tax_sale_a,
            balance_policy="always",
            balance_invoice_timing="start",
            resource_booking_type_id=cls.room_type.id,
        )

    # === HELPERS === #

    def _book(self, partner, quantity=1):
        """A confirmed order of ``partner`` for ``quantity`` meeting room bookings
        (pending: not scheduled yet)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.room.id, "product_uom_qty": quantity}
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    @staticmethod
    def _at(*args):
        """A naive UTC datetime, as Odoo stores it."""
        return datetime(*args)
