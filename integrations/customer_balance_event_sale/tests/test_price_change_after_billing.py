# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestTicketPriceChangeAfterBilling(CustomerBalanceCommon):
    """Anna's two tickets for the summer party of 1 July (30.00 + 15 % each) are
    billed with her July balance on 2 August; on 3 August her order changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref(
            "event.group_event_manager"
        ) | cls.env.ref("sales_team.group_sale_manager")
        cls.company.balance_auto_post = True
        cls.ticket_product = cls._create_product(
            name="Party ticket",
            type="service",
            service_tracking="event",
            lst_price=30.0,
            invoice_policy="order",
            taxes_id=cls.tax_sale_a,
            balance_policy="always",
        )
        cls.party = cls.env["event.event"].create(
            {
                "name": "Summer party",
                "date_begin": datetime(2026, 6, 30, 22, 30),
                "date_end": datetime(2026, 7, 1, 4, 0),
                "date_tz": "Europe/Berlin",
                "event_ticket_ids": [
                    Command.create(
                        {
                            "name": "Standard",
                            "product_id": cls.ticket_product.id,
                            "price": 30.0,
                        }
                    )
                ],
            }
        )

    def _billed_sale(self, quantity):
        with freeze_time("2026-06-10 09:00:00"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.anna.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.ticket_product.id,
                                "event_id": self.party.id,
                                "event_ticket_id": self.party.event_ticket_ids.id,
                                "product_uom_qty": quantity,
                                "price_unit": 30.0,
                            }
                        )
                    ],
                }
            )
            order.action_confirm()
        charge = order.order_line.balance_line_ids
        with freeze_time("2026-08-02 08:00:00"):
            charge.balance_id._consolidate()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.invoice_id.state, "posted")
        return order, charge

    def _open_balances(self):
        return self.env["customer.balance"].search(
            [("partner_id", "=", self.anna.id), ("state", "=", "open")]
        )

    def test_higher_ticket_price_charges_the_difference(self):
        """30.00 -> 35.00 a ticket: a charge of 10.00 (11.50 with tax) on the
        August balance; the July invoice stays at 69.00."""
        order, charge = self._billed_sale(2)
        with freeze_time("2026-08-03 09:00:00"):
            order.order_line.price_unit = 35.0
        balances = self._open_balances()
        self.assertAlmostEqual(sum(balances.mapped("amount_untaxed")), 10.0)
        self.assertAlmostEqual(sum(balances.mapped("amount_total")), 11.5)
        self.assertAlmostEqual(charge.invoice_id.amount_total, 69.0)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_cancelled_ticket_after_price_change(self):
        """35.00 a ticket after billing, then one registration is cancelled: the
        ticket is credited at what it was billed (-30.00) and the difference
        left is the other ticket's (5.00): -25.00 in all."""
        order, _charge = self._billed_sale(2)
        with freeze_time("2026-08-03 09:00:00"):
            order.order_line.price_unit = 35.0
            order.order_line.registration_ids[0].action_cancel()
        balances = self._open_balances()
        self.assertAlmostEqual(sum(balances.mapped("amount_untaxed")), -25.0)

    def test_more_tickets_after_billing(self):
        """A third ticket after billing: an extra charge of 30.00."""
        order, _charge = self._billed_sale(2)
        with freeze_time("2026-08-03 09:00:00"):
            order.order_line.product_uom_qty = 3
        balances = self._open_balances()
        self.assertAlmostEqual(sum(balances.mapped("amount_untaxed")), 30.0)
