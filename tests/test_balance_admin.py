# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestBalanceAdmin(CustomerBalanceCommon):
    """What accountants do by hand: add entries, turn drafts into items, move items,
    invoice some at once, delete them, cancel a balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_6 = cls.env["account.tax"].create(
            {"name": "6%", "amount": 6.0, "type_tax_use": "sale"}
        )

    @freeze_time("2026-06-10 10:00:00")
    def test_add_entry_charge_and_credit_from_partner(self):
        """Add Entry on Anna: a charge of 50 and a credit of 20 land on her June
        balance, which then totals 30 before taxes."""
        for entry_type, amount in (("charge", 50.0), ("credit", 20.0)):
            with Form(
                self.env["customer.balance.entry"].with_context(
                    default_partner_id=self.anna.id
                )
            ) as form:
                form.entry_type = entry_type
                form.name = f"Manual {entry_type}"
                form.amount = amount
                form.tax_ids.clear()
            form.record.action_add()
        balance = self.env["customer.balance"].search(
            [("partner_id", "=", self.anna.id)]
        )
        self.assertEqual(len(balance), 1)
        self.assertEqual(str(balance.period_start), "2026-06-01")
        self.assertAlmostEqual(balance.amount_untaxed, 30.0)
        self.assertEqual(sorted(balance.line_ids.mapped("price_unit")), [-20.0, 50.0])
        self.assertIn("Credit added", self._messages(balance))

    def test_add_entry_on_a_balance_and_bad_amounts(self):
        """From a balance the entry goes on that balance; a zero or negative amount
        is refused and nothing is added."""
        balance = self._balance(self.anna)
        wizard = self.env["customer.balance.entry"].create(
            {
                "partner_id": self.anna.id,
                "balance_id": balance.id,
                "name": "Printing",
                "amount": 12.5,
                "service_date": "2026-06-03",
            }
        )
        wizard.tax_ids = False
        wizard.action_add()
        self.assertAlmostEqual(balance.amount_untaxed, 12.5)
        wizard.amount = 0.0
        with self.assertRaisesRegex(UserError, "positive amount"):
            wizard.action_add()
        self.assertEqual(len(balance.line_ids), 1)

    @freeze_time("2026-06-10 10:00:00")
    def test_add_to_balance_draft_invoice_with_two_tax_rates(self):
        """A draft invoice of Anna with lines at 15% and 6% becomes items on her
        June balance: the balance total equals the draft's to the cent, the draft
        is gone and its reference is kept on the items."""
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.anna.id,
                "invoice_date": "2026-06-08",
                "ref": "Workshop June",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.desk.id,
                            "quantity": 3,
                            "price_unit": 33.33,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    ),
                    Command.create(
                        {
                            "name": "Books",
                            "quantity": 2,
                            "price_unit": 19.99,
                            "discount": 10.0,
                            "tax_ids": [Command.set(self.tax_6.ids)],
                        }
                    ),
                ],
            }
        )
        untaxed, tax, total = (
            invoice.amount_untaxed,
            invoice.amount_tax,
            invoice.amount_total,
        )
        invoice.action_add_to_balance()
        self.assertFalse(invoice.exists())
        balance = self.env["customer.balance"].search(
            [("partner_id", "=", self.anna.id)]
        )
        self.assertEqual(len(balance.line_ids), 2)
        self.assertEqual(set(balance.line_ids.mapped("origin_ref")), {"Workshop June"})
        self.assertEqual(str(balance.line_ids[0].service_date), "2026-06-08")
        currency = balance.currency_id
        self.assertFalse(currency.compare_amounts(balance.amount_untaxed, untaxed))
        self.assertFalse(currency.compare_amounts(balance.amount_tax, tax))
        self.assertFalse(currency.compare_amounts(balance.amount_total, total))

    @freeze_time("2026-06-10 10:00:00")
    def test_add_to_balance_credit_note_gives_credits(self):
        """A draft credit note's lines become credits on the balance."""
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.anna.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Goodwill", "quantity": 1, "price_unit": 40.0}
                    )
                ],
            }
        )
        refund.invoice_line_ids.tax_ids = False
        refund.action_add_to_balance()
        item = self.env["customer.balance.line"].search(
            [("partner_id", "=", self.anna.id)]
        )
        self.assertAlmostEqual(item.price_subtotal, -40.0)
        self.assertAlmostEqual(item.balance_id.amount_total, -40.0)

    def test_move_items_to_another_open_balance(self):
        """Two of Anna's items move to Figma's balance: totals follow and both
        chatters say so."""
        source = self._balance(self.anna)
        target = self._balance(self.figma)
        first, second, kept = (
            self._item(source, price) for price in (10.0, 20.0, 30.0)
        )
        wizard = self.env["customer.balance.line.move"].create(
            {
                "line_ids": [Command.set((first + second).ids)],
                "balance_id": target.id,
                "to_other_customer": True,
            }
        )
        wizard.action_move()
        self.assertEqual(target.line_ids, first + second)
        self.assertEqual(source.line_ids, kept)
        self.assertAlmostEqual(target.amount_untaxed, 30.0)
        self.assertAlmostEqual(source.amount_untaxed, 30.0)
        self.assertIn("Items moved to", self._messages(source))
        self.assertIn("Items moved here", self._messages(target))

    def test_move_refused_across_company_or_currency(self):
        """Items only move between open balances of the same company and currency:
        anything else is refused with a clear message and nothing moves."""
        source = self._balance(self.anna)
        item = self._item(source, 10.0)
        other_currency = self.setup_other_currency("EUR")
        foreign = self._balance(self.anna, currency_id=other_currency.id)
        wizard = self.env["customer.balance.line.move"].create(
            {"line_ids": [Command.set(item.ids)], "balance_id": foreign.id}
        )
        with self.assertRaisesRegex(UserError, "same company and currency"):
            wizard.action_move()
        self.assertEqual(item.balance_id, source)
        closed = self._balance(self.ben)
        closed._cancel("Closed")
        wizard.balance_id = closed
        with self.assertRaisesRegex(UserError, "open balance"):
            wizard.action_move()
        self.assertEqual(item.balance_id, source)

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_takes_items_off_the_balance(self):
        """Invoice Now on two of three items: they get their own invoice (with its
        own number once posted) and the balance total drops by exactly their
        amount (taxes rounded per line: rounded globally, a total is not the sum of
        its parts' totals)."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        items = [self._item(balance, price) for price in (10.01, 20.02, 30.03)]
        total_before = balance.amount_total
        selected = items[0] + items[1]
        selected_total = sum(selected.mapped("price_total"))
        action = selected.action_invoice_now()
        invoice = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertFalse(invoice.balance_id)
        self.assertAlmostEqual(invoice.amount_total, selected_total)
        self.assertEqual(selected.mapped("state"), ["invoiced", "invoiced"])
        self.assertEqual(selected.invoice_line_id.move_id, invoice)
        self.assertEqual(items[2].state, "pending")
        self.assertEqual(balance.state, "open")
        self.assertFalse(
            balance.currency_id.compare_amounts(
                balance.amount_total, total_before - selected_total
            )
        )
        invoice.action_post()
        self.assertTrue(invoice.name.startswith("INV/"))

    def test_cancel_balance_with_reason(self):
        """Cancelling a balance cancels its pending items, keeps the invoiced ones,
        and logs the reason."""
        balance = self._balance(self.anna)
        billed = self._item(balance, 10.0)
        billed.action_invoice_now()
        pending = self._item(balance, 20.0)
        wizard = self.env["customer.balance.cancel"].create(
            {"balance_ids": [Command.set(balance.ids)], "reason": "Member left"}
        )
        wizard.action_cancel()
        self.assertEqual(balance.state, "cancel")
        self.assertEqual(pending.state, "cancel")
        self.assertEqual(billed.state, "invoiced")
        self.assertIn("Member left", self._messages(balance))
        with self.assertRaisesRegex(UserError, "Only open balances"):
            balance._cancel("again")
