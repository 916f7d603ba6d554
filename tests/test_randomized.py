# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import random
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CustomerBalanceCommon

OPERATIONS = 220
FIRST_DAY = date(2026, 4, 1)
DAYS = 153  # April to August 2026
WEIGHTS = {
    "create": 6,
    "edit": 6,
    "move": 2,
    "invoice_now": 2,
    "delete": 2,
    "entry": 2,
    "forbidden": 1,
    "cancel_invoice": 1,
    "cancel_balance": 0.4,
}


@tagged("post_install", "-at_install")
class TestRandomized(CustomerBalanceCommon):
    """Seeded random sequences of what users do to items, checked against a
    book of what each item must have become."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_21 = cls.env["account.tax"].create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale"}
        )
        cls.taxes = [cls.tax_sale_a, cls.tax_21, cls.env["account.tax"]]
        cls.partners = [cls.anna, cls.ben, cls.lisa, cls.figma]

    # === RANDOM OPERATIONS === #

    def _run(self, seed):
        """Run ``OPERATIONS`` random operations; return the book: item id ->
        expected state (``deleted`` for deleted items) and the number created."""
        rng = self.rng = random.Random(seed)
        self.book = {}
        self.created = 0
        self.deleted = 0
        operations = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        done = dict.fromkeys(operations, 0)
        for _step in range(OPERATIONS):
            operation = rng.choices(operations, weights)[0]
            if operation != "create" and not self._pending():
                operation = "create"
            if getattr(self, f"_op_{operation}")() is not False:
                done[operation] += 1
        return done

    def _day(self):
        return FIRST_DAY + relativedelta(days=self.rng.randrange(DAYS))

    def _pending(self):
        return self.env["customer.balance.line"].search([("state", "=", "pending")])

    def _open_balances(self):
        return self.env["customer.balance"].search([("state", "=", "open")])

    def _assert_on_own_balance(self, item):
        """A created or re-dated item waits on its contact's open balance of the
        period of its service date."""
        balance = item.balance_id
        self.assertEqual(balance.state, "open")
        self.assertEqual(balance.partner_id, item.partner_id)
        self.assertTrue(balance.period_start <= item.service_date <= balance.period_end)

    def _op_create(self):
        rng = self.rng
        item = self.env["customer.balance.line"].create(
            {
                "partner_id": rng.choice(self.partners).id,
                "product_id": self.desk.id,
                "name": f"Desk {self.created}",
                "quantity": rng.choice([1.0, 1.0, 2.0, 0.5, 3.0]),
                "price_unit": rng.choice([9.99, 25.0, 33.33, 1.02, -5.0, 100.0]),
                "discount": rng.choice([0.0, 0.0, 10.0, 12.5]),
                "tax_ids": [Command.set(rng.choice(self.taxes).ids)],
                "service_date": self._day(),
            }
        )
        self.created += 1
        self.book[item.id] = "pending"
        self._assert_on_own_balance(item)

    def _op_edit(self):
        rng = self.rng
        item = rng.choice(self._pending())
        balance = item.balance_id
        field = rng.choice(["price_unit", "quantity", "service_date", "partner_id"])
        value = {
            "price_unit": lambda: rng.choice([1.0, 12.5, 99.99, -2.5]),
            "quantity": lambda: rng.choice([1.0, 4.0, 0.25]),
            "service_date": self._day,
            "partner_id": lambda: rng.choice(self.partners).id,
        }[field]()
        item.write({field: value})
        self.assertEqual(item.state, "pending")
        if field in ("service_date", "partner_id"):
            self._assert_on_own_balance(item)
        else:
            self.assertEqual(item.balance_id, balance)

    def _op_move(self):
        rng = self.rng
        pending = self._pending()
        items = pending.browse(rng.sample(pending.ids, min(len(pending), 2)))
        targets = self._open_balances() - items.balance_id
        if not targets:
            return False
        target = rng.choice(targets)
        self.env["customer.balance.line.move"].create(
            {"line_ids": [Command.set(items.ids)], "balance_id": target.id}
        ).action_move()
        self.assertEqual(items.balance_id, target)

    def _op_invoice_now(self):
        rng = self.rng
        pending = self._pending()
        items = pending.browse(rng.sample(pending.ids, min(len(pending), 3)))
        balances = items.balance_id
        items.action_invoice_now()
        self.assertEqual(set(items.mapped("state")), {"invoiced"})
        self.assertEqual(len(items.invoice_id), len(balances))
        for item in items:
            self.book[item.id] = "invoiced"
        for balance in balances:
            self._assert_untaxed(balance)
        for invoice in items.invoice_id:
            if rng.random() < 0.5:
                invoice.action_post()

    def _op_delete(self):
        item = self.rng.choice(self._pending())
        self.book[item.id] = "deleted"
        item.unlink()
        self.deleted += 1

    def _op_entry(self):
        rng = self.rng
        values = {
            "entry_type": rng.choice(["charge", "credit"]),
            "name": f"Entry {self.created}",
            "amount": rng.choice([5.0, 17.5, 0.99]),
            "quantity": rng.choice([1.0, 2.0]),
        }
        balances = self._open_balances()
        balance = rng.choice(balances) if balances and rng.random() < 0.5 else None
        if balance:
            values.update(balance_id=balance.id, partner_id=balance.partner_id.id)
        else:
            values.update(
                partner_id=rng.choice(self.partners).id, service_date=self._day()
            )
        wizard = self.env["customer.balance.entry"].create(values)
        wizard.tax_ids = rng.choice(self.taxes)
        action = wizard.action_add()
        item = self.env["customer.balance.line"].search([], order="id desc", limit=1)
        self.created += 1
        self.book[item.id] = "pending"
        self.assertEqual(item.balance_id.id, action["res_id"])
        if balance:
            self.assertEqual(item.balance_id, balance)
        else:
            self._assert_on_own_balance(item)

    def _op_forbidden(self):
        """Edit or delete an invoiced item, or move it: refused, nothing changes."""
        rng = self.rng
        items = self.env["customer.balance.line"].search([("state", "=", "invoiced")])
        if not items:
            return False
        item = rng.choice(items)
        before = (item.price_unit, item.balance_id, item.invoice_line_id)
        action = rng.choice(["write", "unlink", "move"])
        with self.assertRaises(UserError):
            if action == "write":
                item.price_unit += 1.0
            elif action == "unlink":
                item.unlink()
            else:
                self.env["customer.balance.line.move"].create(
                    {
                        "line_ids": [Command.set(item.ids)],
                        "balance_id": self._balance_of_someone().id,
                    }
                ).action_move()
        self.assertEqual(
            (item.price_unit, item.balance_id, item.invoice_line_id), before
        )

    def _balance_of_someone(self):
        balances = self._open_balances()
        return balances[:1] or self._balance(self.lisa)

    def _op_cancel_invoice(self):
        """Cancel one of the *Invoice Now* invoices: its items wait again."""
        invoices = self.env["account.move"].search(
            [
                ("balance_line_ids", "!=", False),
                ("state", "!=", "cancel"),
                ("balance_id", "=", False),
            ]
        )
        if not invoices:
            return False
        invoice = self.rng.choice(invoices)
        items = invoice.balance_line_ids
        if invoice.state == "posted":
            invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(invoice.state, "cancel")
        self.assertEqual(set(items.mapped("state")), {"pending"})
        self.assertFalse(items.invoice_line_id)
        for item in items:
            self.book[item.id] = "pending"
            self.assertEqual(item.balance_id.state, "open")

    def _op_cancel_balance(self):
        """Cancel an open balance with the wizard: its pending items are
        cancelled."""
        balances = self._open_balances().filtered("item_count")
        if not balances:
            return False
        balance = self.rng.choice(balances)
        items = balance.line_ids.filtered(lambda item: item.state == "pending")
        self.env["customer.balance.cancel"].create(
            {"balance_ids": [Command.set(balance.ids)], "reason": "Random"}
        ).action_cancel()
        self.assertEqual(balance.state, "cancel")
        for item in items:
            self.book[item.id] = "cancel"

    # === CHECKS === #

    def _assert_untaxed(self, balance):
        """The untaxed amount of ``balance`` is the sum of its pending items'
        subtotals. Rounded globally, like Odoo's invoice, it is the rounded sum of
        their unrounded subtotals (prices here exclude taxes), within half a cent
        per item of the sum of their rounded subtotals."""
        pending = balance.line_ids.filtered(lambda item: item.state == "pending")
        currency = balance.currency_id
        subtotals = sum(pending.mapped("price_subtotal"))
        if self.company.tax_calculation_rounding_method == "round_per_line":
            expected = subtotals
        else:
            expected = currency.round(
                sum(
                    item.quantity * item.price_unit * (1 - item.discount / 100)
                    for item in pending
                )
            )
            self.assertLessEqual(
                abs(balance.amount_untaxed - subtotals),
                currency.rounding / 2 * len(pending) + 1e-9,
            )
        self.assertFalse(
            currency.compare_amounts(balance.amount_untaxed, expected),
            f"{balance.name}: {balance.amount_untaxed} != {expected}",
        )

    def _check_invariants(self):
        """Every item is what the book says: pending on exactly one open balance,
        invoiced on its invoice line, cancelled with its balance, or deleted; nothing is
        lost or billed twice; open balances total their pending items."""
        Line = self.env["customer.balance.line"]
        items = Line.search([])
        self.assertEqual(len(items), self.created - self.deleted, "an item was lost")
        alive = {item_id for item_id, state in self.book.items() if state != "deleted"}
        self.assertEqual(set(items.ids), alive)
        for item in items:
            expected = self.book[item.id]
            self.assertEqual(item.state, expected, f"{item.name}")
            if expected == "pending":
                self.assertEqual(item.balance_id.state, "open", item.name)
                self.assertIn(item, item.balance_id.line_ids)
                self.assertFalse(item.invoice_line_id)
                self.assertEqual(item.company_id, item.balance_id.company_id)
                self.assertEqual(item.currency_id, item.balance_id.currency_id)
            elif expected == "cancel":
                self.assertEqual(item.balance_id.state, "cancel", item.name)
                self.assertFalse(item.invoice_line_id)
            else:
                line = item.invoice_line_id
                self.assertTrue(line.exists(), item.name)
                self.assertEqual(item.invoice_id, line.move_id)
                self.assertNotEqual(line.move_id.state, "cancel")
                self.assertEqual(line.name, item.name)
        # No invoice line billed twice, none billed without its item.
        invoiced = items.filtered(lambda item: item.state == "invoiced")
        self.assertEqual(len(invoiced.invoice_line_id), len(invoiced))
        invoices = invoiced.invoice_id
        product_lines = invoices.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(product_lines, invoiced.invoice_line_id)
        cancelled_invoices = self.env["account.move"].search(
            [
                ("state", "=", "cancel"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )
        self.assertFalse(Line.search([("invoice_id", "in", cancelled_invoices.ids)]))

        balances = self._open_balances()
        keys = [
            (b.partner_id, b.company_id, b.currency_id, b.period_start)
            for b in balances
        ]
        self.assertEqual(len(keys), len(set(keys)), "two open balances for a period")
        per_line = self.company.tax_calculation_rounding_method == "round_per_line"
        for balance in balances:
            pending = balance.line_ids.filtered(lambda item: item.state == "pending")
            currency = balance.currency_id
            self.assertEqual(balance.item_count, len(pending))
            self._assert_untaxed(balance)
            self.assertFalse(
                currency.compare_amounts(
                    balance.amount_total, balance.amount_untaxed + balance.amount_tax
                )
            )
            if per_line:
                self.assertFalse(
                    currency.compare_amounts(
                        balance.amount_total, sum(pending.mapped("price_total"))
                    )
                )
        return balances

    def _check_consolidation(self, balances):
        """Billing every open balance gives invoices of exactly the totals shown,
        and leaves no item pending."""
        for balance in balances:
            shown = (balance.amount_untaxed, balance.amount_tax, balance.amount_total)
            currency = balance.currency_id
            balance.action_consolidate()
            self.assertEqual(balance.state, "invoiced")
            invoice = balance.invoice_id
            if not invoice:
                self.assertTrue(currency.is_zero(shown[2]))
                continue
            sign = -1 if invoice.move_type == "out_refund" else 1
            for amount, field in zip(
                shown, ("amount_untaxed", "amount_tax", "amount_total"), strict=True
            ):
                self.assertFalse(
                    currency.compare_amounts(sign * invoice[field], amount),
                    f"{balance.name} {field}: {invoice[field]} != {amount}",
                )
        self.assertFalse(self._pending())

    def _run_and_check(self, seed):
        done = self._run(seed)
        for operation in ("create", "edit", "move", "invoice_now", "delete", "entry"):
            self.assertGreater(done[operation], 3, operation)
        self.assertGreaterEqual(sum(done.values()), 200)
        self.assertGreater(
            len({(i.balance_id.period_start) for i in self._pending()}), 3
        )
        balances = self._check_invariants()
        self._check_consolidation(balances)

    # === TESTS === #

    @freeze_time("2026-06-15 10:00:00")
    def test_random_operations_rounded_per_line(self):
        """220 seeded random creations, edits (price, quantity, service date,
        contact), moves, Invoice Now, deletions, entries, refused changes of
        invoiced items and cancelled invoices, for four members over five
        months, taxes rounded per line: each item ends as the book says, nothing
        is lost or billed twice, each open balance totals its pending items and
        bills exactly that."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        self._run_and_check(seed=1906)

    @freeze_time("2026-06-15 10:00:00")
    def test_random_operations_rounded_globally(self):
        """The same with another seed and taxes rounded globally."""
        self.company.tax_calculation_rounding_method = "round_globally"
        self._run_and_check(seed=2026)
