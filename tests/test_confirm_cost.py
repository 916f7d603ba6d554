# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CustomerBalanceCommon


@freeze_time("2026-06-10 09:00:00")
@tagged("post_install", "-at_install")
class TestConfirmCost(CustomerBalanceCommon):
    """Confirming an order onto a balance costs the same whatever the balance
    already holds: a company balance with thousands of items a month confirms
    as fast as an empty one. The confirmation asks the eligibility rule once and
    notifies the billing threshold once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()
        cls.company.balance_grouping = "company"
        cls.miro = cls.env["res.partner"].create(
            {
                "name": "Miro",
                "is_company": True,
                "email": "accounting@miro.example",
                "category_id": [Command.link(cls.community.id)],
            }
        )
        cls.mia = cls.env["res.partner"].create(
            {"name": "Mia Miro", "parent_id": cls.miro.id, "email": "mia@miro.example"}
        )

    # === HELPERS === #

    def _order(self, partner, quantities=(1,)):
        """A draft order of desk days of ``partner``, one line per quantity."""
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create({"product_id": self.desk.id, "product_uom_qty": qty})
                    for qty in quantities
                ],
            }
        )

    def _fill(self, partner, count):
        """The balance of ``partner``'s company with ``count`` items: one
        confirmed order, then ``count - 1`` entries (faster than orders)."""
        self._order(partner).action_confirm()
        balance = self.Balance.search([("partner_id", "=", partner.parent_id.id)])
        self.assertEqual(len(balance), 1)
        prices = [10.0 + index % 7 for index in range(count - 1)]
        self.Item.create(
            [
                {
                    "balance_id": balance.id,
                    "partner_id": partner.id,
                    "product_id": self.desk.id,
                    "name": "Desk day",
                    "price_unit": price,
                    "quantity": 1 + index % 3,
                    "tax_ids": [Command.set(self.tax_sale_a.ids)],
                    "service_date": "2026-06-05",
                }
                for index, price in enumerate(prices)
            ]
        )
        self.assertEqual(balance.item_count, count)
        return balance

    def _confirm_queries(self, partner):
        """Queries of confirming one more order of ``partner``, in a fresh cache
        as a request confirming it has, everything written."""
        order = self._order(partner)
        self.env.flush_all()
        self.env.invalidate_all()
        start = self.env.cr.sql_log_count
        order.action_confirm()
        self.env.flush_all()
        return self.env.cr.sql_log_count - start

    def _assert_totals_are_the_engines(self, balance):
        """The stored totals are what the tax engine computes over the pending
        items, to the cent."""
        pending = balance.line_ids.filtered(lambda line: line.state == "pending")
        totals = balance._get_tax_totals(pending)
        for field, key in (
            ("amount_untaxed", "base_amount_currency"),
            ("amount_tax", "tax_amount_currency"),
            ("amount_total", "total_amount_currency"),
        ):
            self.assertFalse(
                balance.currency_id.compare_amounts(balance[field], totals[key]),
                f"{field}: {balance[field]} != {totals[key]}",
            )

    # === TESTS === #

    def test_confirm_costs_the_same_on_a_small_and_a_big_balance(self):
        """Confirming one more order onto a company balance of 10 items and onto
        one of 300 runs the same number of queries, under both rounding methods
        and with a billing threshold to check; the totals stay the engine's."""
        small = self._fill(self.anna, 10)
        big = self._fill(self.mia, 300)
        # The first confirmation of each member sets up what any first one does
        # (followers, the contact's links): not what is measured.
        self._confirm_queries(self.anna)
        self._confirm_queries(self.mia)
        for method in ("round_per_line", "round_globally"):
            for threshold in (0.0, 1_000_000.0):
                with self.subTest(method=method, threshold=threshold):
                    self.company.tax_calculation_rounding_method = method
                    self.company.balance_threshold_amount = threshold
                    self._confirm_queries(self.anna)
                    self._confirm_queries(self.mia)
                    self.assertEqual(
                        self._confirm_queries(self.anna),
                        self._confirm_queries(self.mia),
                    )
                    for balance in small + big:
                        self._assert_totals_are_the_engines(balance)
        self.assertEqual(big.item_count, 300 + 1 + 8)
        self.assertFalse(big.threshold_notified)

    def test_totals_and_count_read_the_pending_items_index_alone(self):
        """The queries summing an open balance's totals and counting its items
        can be answered from the index of pending items alone (an index-only
        scan): their cost does not depend on how a month of bookings spread the
        balance's items over the table."""
        balance = self._fill(self.mia, 30)
        self.env.flush_all()
        self.env.invalidate_all()
        statements = []
        execute = type(self.env.cr).execute

        def recording_execute(cr, query, params=None, log_exceptions=True):
            statements.append(cr.mogrify(query, params).decode())
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.env.cr), "execute", recording_execute):
            balance._get_pending_totals()
            balance._get_document_line_counts()
        reads = [
            statement
            for statement in statements
            if "customer_balance_line" in statement and "balance_id" in statement
        ]
        self.assertEqual(len(reads), 3, reads)
        # Whether the planner takes the index depends on how much of the table
        # is vacuumed; what is checked here is that the index answers alone: with
        # the table's other indexes set aside (rolled back) and no sequential or
        # bitmap scan, the plan is an index-only scan of it.
        cr = self.env.cr
        plans = []
        cr.execute("SAVEPOINT index_alone")
        try:
            cr.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = "
                "'customer_balance_line' AND indexname != "
                "'customer_balance_line_pending_amounts_by_balance' AND indexdef "
                "NOT LIKE 'CREATE UNIQUE%'"
            )
            for (name,) in cr.fetchall():
                cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
            cr.execute("SET LOCAL enable_seqscan = off")
            cr.execute("SET LOCAL enable_bitmapscan = off")
            for statement in reads:
                cr.execute("EXPLAIN " + statement)
                plans.append("\n".join(row[0] for row in cr.fetchall()))
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT index_alone")
        for statement, plan in zip(reads, plans, strict=True):
            self.assertIn(
                "Index Only Scan using customer_balance_line_pending_amounts_by_"
                "balance",
                plan,
                statement,
            )
            self.assertNotIn("Seq Scan", plan)

    def test_eligibility_checked_once_per_confirmation(self):
        """Confirming an order of three lines going on a balance asks the
        eligibility rule once (for the order), not again for its items."""
        Balance = self.registry["customer.balance"]
        rule = Balance._get_ineligibility_reason
        calls = []

        def counting_rule(self, *args, **kwargs):
            calls.append(args)
            return rule(self, *args, **kwargs)

        order = self._order(self.anna, quantities=(1, 2, 3))
        with patch.object(Balance, "_get_ineligibility_reason", counting_rule):
            order.action_confirm()
        self.assertEqual(len(order.order_line.balance_line_ids), 3)
        self.assertEqual(len(calls), 1)

    def test_ineligible_order_still_refused_on_its_items(self):
        """Items created on their own still ask the rule: a contact who does
        not use balances cannot get an entry by creating it directly."""
        self.anna.balance_use = "never"
        with self.assertRaises(ValidationError) as caught:
            self._new_item(self.anna, 10.0)
        self.assertIn("does not use customer balances", str(caught.exception))

    def test_threshold_notified_once_per_confirmation(self):
        """Confirming an order whose lines update pending items and create new
        ones notifies the billing threshold once, and when the order pushes the
        balance over it, the balance is handed to the bill run once."""
        self.company.balance_threshold_amount = 500.0
        Balance = self.registry["customer.balance"]
        notify = Balance._notify_threshold_reached
        calls = []

        def counting_notify(self):
            calls.append(self.ids)
            return notify(self)

        order = self._order(self.anna, quantities=(1, 1))
        order.action_confirm()
        order._action_cancel()
        order.action_draft()
        order.order_line[0].product_uom_qty = 2
        order.write(
            {
                "order_line": [
                    Command.create({"product_id": self.desk.id, "product_uom_qty": 3})
                ]
            }
        )
        with patch.object(Balance, "_notify_threshold_reached", counting_notify):
            order.action_confirm()
        balance = order.order_line.balance_line_ids.balance_id
        self.assertEqual(len(balance), 1)
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0], balance.ids)
        self.assertAlmostEqual(balance.amount_untaxed, 600.0)
        self.assertTrue(balance.threshold_notified)
        self.assertEqual(self._messages(balance).count("billing threshold"), 1)
