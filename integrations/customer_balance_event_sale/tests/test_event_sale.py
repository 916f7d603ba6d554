# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import html2plaintext

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestEventSale(CustomerBalanceCommon):
    """The coworking space sells tickets for its summer party, which starts on
    1 July at 00:30 in Berlin (30 June, 22:30 UTC): 30.00 (+ 15 %) a ticket,
    always on the member's balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref(
            "event.group_event_manager"
        ) | cls.env.ref("sales_team.group_sale_manager")
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
        cls.ticket = cls.party.event_ticket_ids

    def _sell(self, partner, quantity):
        """A confirmed order of ``quantity`` party tickets for ``partner``."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.ticket_product.id,
                            "event_id": self.party.id,
                            "event_ticket_id": self.ticket.id,
                            "product_uom_qty": quantity,
                            "price_unit": 30.0,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    @freeze_time("2026-06-10 09:00:00")
    def test_ticket_billed_in_period_of_event_start(self):
        """On 10 June Anna buys two tickets: the party starts on 1 July in Berlin,
        so the tickets wait on her July balance as a scheduled item of 69.00, and
        the order line shows nothing to invoice."""
        order = self._sell(self.anna, 2)
        line = order.order_line
        item = line.balance_line_ids

        self.assertEqual(len(order.order_line.registration_ids), 2)
        self.assertEqual(item.quantity, 2.0)
        self.assertEqual(item.service_date, date(2026, 7, 1))
        self.assertEqual(item.balance_id.period_start, date(2026, 7, 1))
        self.assertTrue(item.balance_id.is_scheduled)
        self.assertAlmostEqual(item.balance_id.amount_total, 69.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")

    @freeze_time("2026-06-10 09:00:00")
    def test_cancel_registration_removes_ticket(self):
        """Anna cancels one of her two registrations: one ticket (34.50) is left on
        her balance, the other is waived. Cancelling the second one removes the
        charge: nothing waits on the balance and nothing is to invoice. Opening
        one registration again charges its ticket again."""
        order = self._sell(self.anna, 2)
        line = order.order_line
        first, second = line.registration_ids
        item = line.balance_line_ids
        balance = item.balance_id

        first.action_cancel()

        self.assertEqual(item.quantity, 1.0)
        self.assertAlmostEqual(balance.amount_total, 34.5)
        self.assertEqual(line.balance_waived_qty, 1.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertIn(
            "removed from the balance",
            html2plaintext("\n".join(balance.message_ids.mapped("body"))),
        )

        second.action_cancel()

        self.assertFalse(
            line.balance_line_ids.filtered(lambda item: item.state == "pending")
        )
        self.assertAlmostEqual(balance.amount_total, 0.0)
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")

        first.action_confirm()

        pending = line.balance_line_ids.filtered(lambda item: item.state == "pending")
        self.assertEqual(pending.quantity, 1.0)
        self.assertAlmostEqual(pending.balance_id.amount_total, 34.5)
        self.assertEqual(line.qty_to_invoice, 0.0)

    @freeze_time("2026-06-10 09:00:00")
    def test_event_moved_moves_tickets(self):
        """The party is moved forward to 20 June: Anna's tickets move from the July
        to the June balance."""
        order = self._sell(self.anna, 1)
        item = order.order_line.balance_line_ids

        self.party.write(
            {
                "date_begin": datetime(2026, 6, 20, 18, 0),
                "date_end": datetime(2026, 6, 20, 23, 0),
            }
        )

        self.assertEqual(item.service_date, date(2026, 6, 20))
        self.assertEqual(item.balance_id.period_start, date(2026, 6, 1))

    @freeze_time("2026-06-10 09:00:00")
    def test_customer_not_on_balances_invoiced_as_usual(self):
        """Lisa is not a member: her ticket is to invoice as usual."""
        self.company.balance_partner_category_ids = self.community
        order = self._sell(self.lisa, 1)

        self.assertFalse(order.order_line.balance_line_ids)
        self.assertEqual(order.order_line.qty_to_invoice, 1.0)
        self.assertEqual(order.order_line.invoice_status, "to invoice")

    def _billed_sale(self, quantity):
        """Anna's ``quantity`` tickets bought on 10 June, billed with her July
        balance on 2 August (posted)."""
        self.company.balance_auto_post = True
        with freeze_time("2026-06-10 09:00:00"):
            order = self._sell(self.anna, quantity)
        charge = order.order_line.balance_line_ids
        with freeze_time("2026-08-02 08:00:00"):
            charge.balance_id._consolidate()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.invoice_id.state, "posted")
        return order, charge

    def _pending(self, order):
        return order.order_line.balance_line_ids.filtered(
            lambda item: item.state == "pending"
        )

    def test_cancel_billed_registration_gives_credit(self):
        """Anna's two tickets were billed in August; on 3 August she cancels one
        registration: a credit of 34.50 waits on her August balance, the July
        invoice is untouched and nothing is to invoice. Opened again, the credit
        is withdrawn; cancelled again, one credit again."""
        order, charge = self._billed_sale(2)
        line = order.order_line
        first = line.registration_ids[0]
        invoice = charge.invoice_id

        with freeze_time("2026-08-03 09:00:00"):
            first.action_cancel()

        credit = self._pending(order)
        self.assertRecordValues(credit, [{"quantity": -1.0, "price_unit": 30.0}])
        self.assertEqual(credit.balance_id.period_start, date(2026, 8, 1))
        self.assertAlmostEqual(credit.balance_id.amount_total, -34.5)
        self.assertAlmostEqual(invoice.amount_total, 69.0)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertNotEqual(line.invoice_status, "to invoice")
        chatter = html2plaintext(
            "\n".join(credit.balance_id.message_ids.mapped("body"))
        )
        self.assertIn(invoice.name, chatter)
        # The event moved afterwards: the credit stays as it is.
        self.party.date_begin = datetime(2026, 6, 30, 20, 0)
        self.assertEqual(self._pending(order), credit)
        self.assertEqual(credit.quantity, -1.0)

        with freeze_time("2026-08-04 09:00:00"):
            first.action_confirm()
        self.assertEqual(credit.state, "cancel")
        self.assertFalse(self._pending(order))
        self.assertEqual(line.qty_to_invoice, 0.0)

        with freeze_time("2026-08-05 09:00:00"):
            first.action_cancel()
        self.assertEqual(self._pending(order).mapped("quantity"), [-1.0])

    def test_accountant_deletes_ticket_credit(self):
        """The cancellation policy keeps the ticket's charge: the accountant
        deletes the credit; nothing more happens and nothing is to invoice."""
        order, charge = self._billed_sale(1)
        with freeze_time("2026-08-03 09:00:00"):
            order.order_line.registration_ids.action_cancel()
            self._pending(order).unlink()
        self.assertFalse(self._pending(order))
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
        self.assertNotEqual(order.order_line.invoice_status, "to invoice")

    def test_cancel_billed_order_of_tickets(self):
        """The whole order of two billed tickets is cancelled on 3 August: one
        credit of 69.00, once; confirmed again, the credit is withdrawn."""
        order, charge = self._billed_sale(2)
        with freeze_time("2026-08-03 09:00:00"):
            order._action_cancel()
            order._action_cancel()
        credit = self._pending(order)
        self.assertEqual(credit.mapped("quantity"), [-2.0])
        self.assertAlmostEqual(credit.balance_id.amount_total, -69.0)
        with freeze_time("2026-08-04 09:00:00"):
            order.action_draft()
            order.action_confirm()
        self.assertEqual(credit.state, "cancel")
        self.assertFalse(self._pending(order))
