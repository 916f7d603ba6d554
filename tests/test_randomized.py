# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Seeded random sequences of what users do to items, orders, invoices and
balances, with the module's promises checked after every single operation.

The invariants (DESIGN §5.2, §6), checked after each operation:

* **Order lines account for every booked quantity, exactly once.** For each line
  of a confirmed order (``state == 'sale'``)::

      product_uom_qty == pending + billed + waived + to_invoice + odoo_invoiced

  ``pending``: quantity of its pending items; ``billed``: quantity of its items
  invoiced through a balance (their invoice is never cancelled); ``waived``:
  ``balance_waived_qty`` (deleted items, zero nets, cancelled balances);
  ``to_invoice``: Odoo's own ``qty_to_invoice``; ``odoo_invoiced``: the quantity on
  the line's non-cancelled invoice lines that are no item's invoice line (signed:
  credit notes count negative), i.e. what Odoo's *Create invoice* billed itself.
  Moreover ``to_invoice == balance_given_back_qty - odoo_invoiced``: Odoo has
  something to invoice only when a cancelled balance explicitly gave the booking
  back to it.
* **Billed at most once, none lost.** Every item ever seen still exists unless the
  test deleted it; it is pending on an open balance, invoiced on exactly one
  product line of a non-cancelled invoice (that line belongs to no other item), or
  cancelled; an item changes state only in an operation that may change it.
* **Invoices equal balances to the cent.** Every balance billed (Bill now, the
  bill run triggered by the threshold or by due dates) gets an invoice whose
  untaxed, tax and total amounts equal the balance's shown just before billing.
"""

import random
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import float_compare

from .common import CustomerBalanceCommon

OPERATIONS = 320
FIRST_DAY = date(2026, 4, 1)
DAYS = 153  # April to August 2026
WEIGHTS = {
    "create": 5,
    "book": 5,
    "edit": 4,
    "edit_order": 3,
    "cancel_order": 1.2,
    "move": 2,
    "invoice_now": 2.5,
    "add_to_balance": 2,
    "delete": 1.5,
    "entry": 2,
    "forbidden": 1,
    "cancel_invoice": 2,
    "post_invoice": 1,
    "cancel_balance": 0.7,
    "give_back": 0.7,
    "zero_net": 0.8,
    "bill": 1,
    "threshold": 1,
    "odoo_invoice": 1.2,
}


@tagged("post_install", "-at_install")
class TestRandomized(CustomerBalanceCommon):
    """Random operations over four members and five months; every promise checked
    after each operation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref("sales_team.group_sale_manager")
        cls.tax_21 = cls.env["account.tax"].create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale"}
        )
        cls.taxes = [cls.tax_sale_a, cls.tax_21, cls.env["account.tax"]]
        cls.partners = [cls.anna, cls.ben, cls.lisa, cls.figma]
        cls.desk.invoice_policy = "order"
        cls.room = cls._create_product(
            name="Meeting room",
            type="service",
            lst_price=33.33,
            taxes_id=cls.tax_21,
            invoice_policy="order",
        )
        cls.room.balance_invoice_timing = "start"
        cls.cron = cls.env.ref("customer_balance.ir_cron_consolidate_due")

    # === DRIVER === #

    def _run(self, seed):
        rng = self.rng = random.Random(seed)
        self.seen = set()
        self.deleted = set()
        self.billed_totals = {}
        operations = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        done = dict.fromkeys(operations, 0)
        self.Item = self.env["customer.balance.line"]
        self.Balance = self.env["customer.balance"]
        self.Move = self.env["account.move"]
        for step in range(OPERATIONS):
            operation = rng.choices(operations, weights)[0]
            before = self._states()
            touched = getattr(self, f"_op_{operation}")()
            if touched is False:
                continue
            done[operation] += 1
            self._check_invariants(before, touched, f"step {step} {operation}")
        return done

    def _day(self):
        return FIRST_DAY + relativedelta(days=self.rng.randrange(DAYS))

    def _pending(self, **filters):
        domain = [("state", "=", "pending")]
        domain += [(field, "=", value) for field, value in filters.items()]
        return self.Item.search(domain)

    def _open_balances(self):
        return self.Balance.search([("state", "=", "open")])

    def _orders(self, state="sale"):
        return self.env["sale.order"].search(
            [("state", "=", state), ("partner_id", "in", [p.id for p in self.partners])]
        )

    def _customer_invoices(self, states=("draft", "posted")):
        return self.Move.search(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "in", list(states)),
            ]
        )

    # === OPERATIONS (each returns the items it may change, or False) === #

    def _op_create(self):
        rng = self.rng
        item = self.Item.create(
            {
                "partner_id": rng.choice(self.partners).id,
                "product_id": self.desk.id,
                "name": "Desk",
                "quantity": rng.choice([1.0, 1.0, 2.0, 0.5, 3.0]),
                "price_unit": rng.choice([9.99, 25.0, 33.33, 1.02, -5.0, 100.0, 0.0]),
                "discount": rng.choice([0.0, 0.0, 10.0, 12.5]),
                "tax_ids": [Command.set(rng.choice(self.taxes).ids)],
                "service_date": self._day(),
            }
        )
        self.assertEqual(item.balance_id.state, "open")
        return item

    def _op_book(self):
        rng = self.rng
        lines = []
        for _n in range(rng.choice([1, 1, 2])):
            product = rng.choice([self.desk, self.room])
            start = datetime.combine(self._day(), datetime.min.time()).replace(hour=9)
            lines.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": rng.choice([1.0, 2.0, 3.0, 0.5]),
                        "price_unit": rng.choice([25.0, 33.33, 1.02, 50.0]),
                        "service_start": start,
                    }
                )
            )
        order = self.env["sale.order"].create(
            {"partner_id": rng.choice(self.partners).id, "order_line": lines}
        )
        order.action_confirm()
        items = order.order_line.balance_line_ids
        self.assertEqual(len(items), len(order.order_line))
        return items

    def _op_edit(self):
        rng = self.rng
        items = self._pending(sale_line_id=False)
        if not items:
            return False
        item = rng.choice(items)
        field = rng.choice(["price_unit", "quantity", "service_date", "partner_id"])
        value = {
            "price_unit": lambda: rng.choice([1.0, 12.5, 99.99, -2.5]),
            "quantity": lambda: rng.choice([1.0, 4.0, 0.25]),
            "service_date": self._day,
            "partner_id": lambda: rng.choice(self.partners).id,
        }[field]()
        item.write({field: value})
        self.assertEqual(item.state, "pending")
        self.assertEqual(item.balance_id.state, "open")
        return self.Item

    def _op_edit_order(self):
        rng = self.rng
        lines = self._orders().order_line
        if not lines:
            return False
        line = rng.choice(lines)
        if rng.random() < 0.6:
            line.product_uom_qty = rng.choice([0.0, 1.0, 2.0, 4.0])
        else:
            line.price_unit = rng.choice([10.0, 25.0, 47.5])
        # A price changed after billing gives (or withdraws) a difference item.
        return line.balance_line_ids | line.balance_price_change_ids

    def _op_cancel_order(self):
        rng = self.rng
        cancelled = self._orders("cancel")
        if cancelled and rng.random() < 0.3:
            order = rng.choice(cancelled)
            order.action_draft()
            order.action_confirm()
            return (
                order.order_line.balance_line_ids
                | order.order_line.balance_price_change_ids
            )
        orders = self._orders()
        if not orders:
            return False
        order = rng.choice(orders)
        touched = order.order_line.balance_line_ids | order.invoice_ids.balance_line_ids
        # The differences of prices changed after billing are credited with it.
        touched |= order.order_line.balance_price_change_ids
        released = order.invoice_ids.filtered(lambda m: m.state == "draft")
        touched |= released.balance_line_ids | self.Item.search(
            [("invoice_id", "in", released.ids)]
        )
        order._action_cancel()
        # Nothing is charged any more; what balances billed already is credited
        # (DESIGN §5.2), except a charge kept by deleting its credit.
        for line in order.order_line:
            items = line.balance_line_ids
            pending = items.filtered(lambda i: i.state == "pending")
            billed = sum(
                items.filtered(lambda i: i.state == "invoiced").mapped("quantity")
            )
            self.assertFalse(pending.filtered(lambda i: i.quantity > 0))
            self.assertFalse(
                float_compare(
                    sum(pending.mapped("quantity")),
                    -(billed + min(line.balance_waived_qty, 0.0)),
                    precision_digits=4,
                ),
                f"{order.name}: credits {pending.mapped('quantity')}, billed {billed}",
            )
        return touched | order.order_line.balance_line_ids

    def _op_move(self):
        rng = self.rng
        pending = self._pending()
        if not pending:
            return False
        items = pending.browse(rng.sample(pending.ids, min(len(pending), 2)))
        targets = (
            self._open_balances().filtered(lambda b: b.currency_id == items.currency_id)
            - items.balance_id
        )
        if not targets:
            return False
        target = rng.choice(targets)
        self.env["customer.balance.line.move"].create(
            {
                "line_ids": [Command.set(items.ids)],
                "balance_id": target.id,
                "to_other_customer": True,
            }
        ).action_move()
        self.assertEqual(items.balance_id, target)
        return self.Item

    def _op_invoice_now(self):
        rng = self.rng
        pending = self._pending()
        if not pending:
            return False
        items = pending.browse(rng.sample(pending.ids, min(len(pending), 3)))
        balances = items.balance_id
        items.action_invoice_now()
        self.assertEqual(set(items.mapped("state")), {"invoiced"})
        self.assertFalse(items.balance_id, "invoiced on their own: off the balance")
        self.assertEqual(len(items.invoice_id), len(balances))
        return items

    def _op_add_to_balance(self):
        """*Add to Balance* on a random draft: refused on the drafts that bill
        items (Invoice Now, consolidated drafts); a plain draft (or one Odoo made
        from an order) becomes items."""
        rng = self.rng
        drafts = self._customer_invoices(("draft",))
        if not drafts or rng.random() < 0.3:
            drafts |= self.Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": rng.choice(self.partners).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.desk.id,
                                "price_unit": rng.choice([12.0, 7.77]),
                                "tax_ids": [Command.set(rng.choice(self.taxes).ids)],
                            }
                        )
                    ],
                }
            )
            drafts = drafts[-1:]
        draft = rng.choice(drafts)
        if draft.balance_id or draft.balance_line_ids:
            self.assertFalse(draft.balance_can_add)
            with self.assertRaises(UserError):
                draft.action_add_to_balance()
            self.assertTrue(draft.exists())
            return self.Item.browse()
        self.assertTrue(draft.balance_can_add)
        draft.action_add_to_balance()
        self.assertFalse(draft.exists())
        return self.Item

    def _op_delete(self):
        items = self._pending()
        if not items:
            return False
        item = self.rng.choice(items)
        self.deleted.add(item.id)
        item.unlink()
        return self.Item

    def _op_entry(self):
        rng = self.rng
        values = {
            "entry_type": rng.choice(["charge", "credit"]),
            "name": "Entry",
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
        wizard.action_add()
        return self.Item.browse()

    def _op_forbidden(self):
        """Write another state, invoice line or value of a frozen field around the
        transitions, or another price on a booking item: refused, nothing changes.
        (Writing back the values a record has changes nothing and is allowed.)"""
        rng = self.rng
        items = self.Item.search([])
        if not items:
            return False
        item = rng.choice(items)
        before = (item.state, item.invoice_line_id, item.price_unit, item.balance_id)
        other_state = "cancel" if item.state == "pending" else "pending"
        other_invoice_line = (
            False
            if item.invoice_line_id
            else self.env["account.move.line"]
            .search([("display_type", "=", "product")], limit=1)
            .id
        )
        values = rng.choice(
            [
                {"state": other_state},
                {"invoice_line_id": other_invoice_line},
                {"price_unit": item.price_unit + 1.0},
                {"state": other_state, "invoice_line_id": False},
            ]
        )
        if values == {"invoice_line_id": False} and not item.invoice_line_id:
            return False  # no invoice line exists yet to write
        if "price_unit" in values and item.state == "pending":
            if not item.sale_line_id:
                return False
        with self.assertRaises(UserError):
            item.with_context(customer_balance_transition=True).write(values)
        self.assertEqual(
            (item.state, item.invoice_line_id, item.price_unit, item.balance_id), before
        )
        balance = item.balance_id
        if balance:
            with self.assertRaises(UserError):
                balance.write(
                    {
                        "state": rng.choice(
                            [
                                state
                                for state in ("open", "invoiced", "cancel")
                                if state != balance.state
                            ]
                        )
                    }
                )
        return self.Item.browse()

    def _op_cancel_invoice(self):
        """Cancel (or delete, when a draft) an invoice: its items wait again."""
        invoices = self._customer_invoices()
        if not invoices:
            return False
        invoice = self.rng.choice(invoices)
        items = self.Item.search([("invoice_id", "=", invoice.id)])
        if invoice.state == "posted":
            invoice.button_draft()
        if self.rng.random() < 0.3:
            invoice.unlink()
        else:
            invoice.button_cancel()
        self.assertEqual(set(items.mapped("state")) - {"pending"}, set())
        self.assertFalse(items.invoice_line_id)
        for item in items:
            self.assertEqual(item.balance_id.state, "open")
        return items

    def _op_post_invoice(self):
        drafts = self._customer_invoices(("draft",))
        if not drafts:
            return False
        self.rng.choice(drafts).action_post()
        return self.Item.browse()

    def _cancel_balance(self, give_back):
        balances = self._open_balances().filtered("line_ids")
        if not balances:
            return False
        balance = self.rng.choice(balances)
        items = balance.line_ids.filtered(lambda item: item.state == "pending")
        self.env["customer.balance.cancel"].create(
            {
                "balance_ids": [Command.set(balance.ids)],
                "reason": "Random",
                "give_back": give_back,
            }
        ).action_cancel()
        self.assertEqual(balance.state, "cancel")
        self.assertEqual(set(items.mapped("state")) - {"cancel"}, set())
        return items

    def _op_cancel_balance(self):
        return self._cancel_balance(give_back=False)

    def _op_give_back(self):
        return self._cancel_balance(give_back=True)

    def _op_zero_net(self):
        """A goodwill credit of exactly the balance's total, then Bill now: the
        items net to zero and are waived."""
        balances = self._open_balances().filtered(
            lambda b: b.currency_id.compare_amounts(b.amount_total, 0.0) > 0
        )
        if not balances:
            return False
        balance = self.rng.choice(balances)
        self.Item.create(
            {
                "balance_id": balance.id,
                "partner_id": balance.partner_id.id,
                "name": "Goodwill",
                "price_unit": -balance.amount_total,
                "service_date": balance.period_start or date(2026, 6, 15),
                "tax_ids": [Command.clear()],
            }
        )
        self.assertTrue(balance.currency_id.is_zero(balance.amount_total))
        items = balance.line_ids.filtered(lambda item: item.state == "pending")
        balance.action_consolidate()
        self.assertEqual(balance.state, "invoiced")
        self.assertFalse(balance.invoice_id)
        self.assertEqual(set(items.mapped("state")), {"cancel"})
        return items

    def _bill(self, balances, bill):
        """Record what ``balances`` show, bill them with ``bill()``, and keep the
        shown totals of those that got an invoice to check them."""
        shown = {
            balance: (balance.amount_untaxed, balance.amount_tax, balance.amount_total)
            for balance in balances
        }
        touched = balances.line_ids.filtered(lambda item: item.state == "pending")
        bill()
        for balance, totals in shown.items():
            if balance.state == "invoiced" and balance.invoice_id:
                self.billed_totals[balance.invoice_id.id] = (balance, totals)
        return touched

    def _op_bill(self):
        balances = self._open_balances()
        if not balances:
            return False
        balance = self.rng.choice(balances)
        return self._bill(balance, balance.action_consolidate)

    def _op_threshold(self):
        """A threshold between 50 and 300: reaching it only notes and triggers;
        the bill run (the cron, in its own transaction) bills the balances above
        it and the due ones."""
        company = self.company
        company.balance_threshold_amount = self.rng.choice([50.0, 120.0, 300.0])
        self._op_create()
        due = self.Balance.search(self.Balance._get_due_domain())

        def bill_run():
            with self.enter_registry_test_mode():
                self.cron.method_direct_trigger()

        touched = self._bill(due, bill_run)
        self.assertFalse(self.Balance.search(self.Balance._get_due_domain()))
        company.balance_threshold_amount = 0.0
        return touched | self.Item.search([], order="id desc", limit=1)

    def _op_odoo_invoice(self):
        """Odoo's own *Create invoice* on an order: it invoices only what was
        given back to it, never a quantity on a balance."""
        orders = self._orders()
        if not orders:
            return False
        order = self.rng.choice(orders)
        expected = {
            line: line.qty_to_invoice
            for line in order.order_line
            if float_compare(line.qty_to_invoice, 0.0, precision_digits=6) != 0
        }
        if not expected:
            with self.assertRaises(UserError):
                order._create_invoices()
            return self.Item.browse()
        try:
            invoice = order._create_invoices()
        except UserError:
            # Only credits (negative quantities): Odoo refuses a negative invoice.
            return self.Item.browse()
        for line, quantity in expected.items():
            billed = sum(
                invoice.invoice_line_ids.filtered(
                    lambda aml, line=line: line in aml.sale_line_ids
                ).mapped("quantity")
            )
            sign = -1 if invoice.move_type == "out_refund" else 1
            self.assertAlmostEqual(sign * billed, quantity)
        return self.Item.browse()

    # === CHECKS === #

    def _states(self):
        items = self.Item.search([])
        self.seen.update(items.ids)
        return {item.id: item.state for item in items}

    def _check_invariants(self, before, touched, where):
        items = self.Item.search([])
        self.seen.update(items.ids)
        # None lost: every item ever seen exists, unless the test deleted it.
        self.assertEqual(set(items.ids), self.seen - self.deleted, where)
        allowed = set(touched.ids) if touched is not False else set()
        for item in items:
            state = item.state
            old = before.get(item.id)
            if old is not None and old != state:
                self.assertIn(item.id, allowed, f"{where}: {item.name} {old}->{state}")
            if state == "pending":
                self.assertEqual(item.balance_id.state, "open", where)
                self.assertFalse(item.invoice_line_id, where)
            elif state == "invoiced":
                line = item.invoice_line_id
                self.assertTrue(line, where)
                self.assertEqual(line.display_type, "product", where)
                self.assertNotEqual(line.move_id.state, "cancel", where)
            else:
                self.assertFalse(item.invoice_line_id, where)
        # Billed at most once: an invoice line bills one item at most.
        invoiced = items.filtered(lambda item: item.state == "invoiced")
        self.assertEqual(len(invoiced.invoice_line_id), len(invoiced), where)
        self.assertFalse(
            self.Item.search(
                [("invoice_id.state", "=", "cancel"), ("state", "=", "invoiced")]
            ),
            where,
        )
        # Invoices equal the balances they billed, to the cent.
        for invoice_id, (balance, totals) in self.billed_totals.items():
            invoice = self.Move.browse(invoice_id)
            if not invoice.exists() or invoice.state == "cancel":
                continue
            sign = -1 if invoice.move_type == "out_refund" else 1
            currency = balance.currency_id
            for field, amount in zip(
                ("amount_untaxed", "amount_tax", "amount_total"), totals, strict=True
            ):
                self.assertFalse(
                    currency.compare_amounts(sign * invoice[field], amount),
                    f"{where}: {invoice.name} {field} {invoice[field]} != {amount}",
                )
        self._check_order_lines(where)
        # The sums each balance kept item by item are those of its items.
        self._assert_pending_sums_are_the_items(msg=where)
        # At most one open balance per partner, company, currency and period.
        keys = [
            (b.partner_id, b.company_id, b.currency_id, b.period_start)
            for b in self._open_balances()
        ]
        self.assertEqual(len(keys), len(set(keys)), where)

    def _check_order_lines(self, where):
        """``product_uom_qty == pending + billed + waived + to_invoice +
        odoo_invoiced`` on every line of a confirmed order, and Odoo has only the
        given back quantity to invoice (see the module docstring)."""
        lines = self._orders().order_line
        for line in lines:
            items = line.balance_line_ids
            item_invoice_lines = items.invoice_line_id
            pending = sum(
                items.filtered(lambda i: i.state == "pending").mapped("quantity")
            )
            billed = sum(
                items.filtered(lambda i: i.state == "invoiced").mapped("quantity")
            )
            odoo_invoiced = sum(
                (-1 if aml.move_id.move_type == "out_refund" else 1) * aml.quantity
                for aml in line.invoice_lines
                if aml.move_id.state != "cancel" and aml not in item_invoice_lines
            )
            waived = line.balance_waived_qty
            to_invoice = line.qty_to_invoice
            total = pending + billed + waived + to_invoice + odoo_invoiced
            self.assertFalse(
                float_compare(line.product_uom_qty, total, precision_digits=4),
                f"{where}: {line.order_id.name} {line.name}: {line.product_uom_qty} != "
                f"{pending} + {billed} + {waived} + {to_invoice} + {odoo_invoiced}",
            )
            self.assertFalse(
                float_compare(
                    to_invoice,
                    line.balance_given_back_qty - odoo_invoiced,
                    precision_digits=4,
                ),
                f"{where}: {line.order_id.name} {line.name}: to invoice {to_invoice}, "
                f"given back {line.balance_given_back_qty}, Odoo {odoo_invoiced}, "
                f"ordered {line.product_uom_qty}, invoiced {line.qty_invoiced}, "
                f"items {[(i.state, i.quantity) for i in items]}",
            )

    def _run_and_check(self, seed):
        done = self._run(seed)
        self.assertGreaterEqual(sum(done.values()), 300, done)
        for operation in WEIGHTS:
            self.assertGreater(done[operation], 0, (operation, done))
        # In the end everything still open bills exactly what it shows.
        balances = self._open_balances()
        self._bill(balances, balances.action_consolidate)
        self._check_invariants(self._states(), self.Item.search([]), "final")
        self.assertFalse(self._pending())

    # === TESTS === #

    @freeze_time("2026-06-15 10:00:00")
    def test_random_operations_rounded_per_line(self):
        """320 seeded random operations (items, bookings and their edits and
        cancellations, moves, Invoice Now, Add to Balance on every kind of
        draft, deletions, entries, forbidden writes, cancelled and posted
        invoices, balances cancelled both ways, zero nets, Bill now, the
        threshold and the bill run, Odoo's own Create invoice), taxes rounded per
        line: after each one, order lines account for every quantity once, no
        item is lost or billed twice, invoices equal the balances shown."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        self._run_and_check(seed=1906)

    @freeze_time("2026-06-15 10:00:00")
    def test_random_operations_rounded_globally(self):
        """The same with another seed and taxes rounded globally."""
        self.company.tax_calculation_rounding_method = "round_globally"
        self._run_and_check(seed=2026)
