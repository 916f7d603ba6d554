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

    def test_confirming_reads_no_other_item(self):
        """Confirming onto a balance of 300 items reads none of them: with their
        rows changed behind the ORM's back (amounts and state), the balance
        still adds the new item to the sums it kept, and its totals are the
        engine's over the items as they were, plus the new one."""
        balance = self._fill(self.mia, 300)
        self._confirm_queries(self.mia)
        self._assert_totals_are_the_engines(balance)
        self._assert_pending_sums_are_the_items(balance)
        before = (balance.amount_untaxed, balance.amount_tax, balance.amount_total)
        old_items = balance.line_ids
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE customer_balance_line SET raw_price_subtotal = 1000000,"
                " price_subtotal = 1000000, raw_tax_amounts = NULL,"
                " state = 'cancelled' WHERE id = ANY(%s)",
                old_items.ids,
            )
        )
        self.env.invalidate_all()
        order = self._order(self.mia)
        order.action_confirm()
        self.env.flush_all()
        new_item = order.order_line.balance_line_ids
        self.assertEqual(new_item.balance_id, balance)
        self.assertEqual(balance.item_count, 300 + 1 + 1)
        self.env.cr.execute(
            SQL(
                "UPDATE customer_balance_line SET state = 'pending' WHERE id = ANY(%s)",
                old_items.ids,
            )
        )
        self.env.invalidate_all()
        self.assertFalse(
            balance.currency_id.compare_amounts(
                balance.amount_total, before[2] + new_item.price_total
            ),
            (balance.amount_total, before, new_item.price_total),
        )
        self.assertFalse(
            balance.currency_id.compare_amounts(
                balance.amount_untaxed, before[0] + new_item.price_subtotal
            )
        )

    def test_each_change_of_an_item_keeps_the_sums(self):
        """Every way an item's share of its balance changes keeps the balance's
        sums those of its pending items and its totals the engine's: created,
        its order's quantity changed, its quantity, price, discount and taxes
        changed, moved to another balance, invoiced on its own and given back,
        deleted, and the company's rounding method changed."""
        balance = self._fill(self.mia, 12)
        other = self._fill(self.anna, 3)
        both = balance + other

        def check(step):
            self.env.flush_all()
            self._assert_pending_sums_are_the_items(both, step)
            for record in both:
                self._assert_totals_are_the_engines(record)

        check("filled")
        ordered = balance.line_ids.filtered("sale_line_id")
        self.assertEqual(len(ordered), 1)
        ordered.sale_line_id.product_uom_qty = 4
        check("its order changed")
        self.assertEqual(ordered.quantity, 4)
        items = (balance.line_ids - ordered).sorted("id")
        items[0].quantity = 7
        items[1].price_unit = 33.33
        items[2].discount = 12.5
        items[3].tax_ids = [Command.clear()]
        check("edited")
        count = balance.item_count
        items[4:6].balance_id = other
        check("moved")
        self.assertEqual(balance.item_count, count - 2)
        items[6:8].action_invoice_now()
        check("invoiced now")
        self.assertEqual(balance.item_count, count - 4)
        invoice = items[6].invoice_id
        self.assertTrue(invoice)
        invoice.button_cancel()
        check("its invoice cancelled")
        items[8].unlink()
        check("deleted")
        self.company.tax_calculation_rounding_method = (
            "round_globally"
            if self.company.tax_calculation_rounding_method == "round_per_line"
            else "round_per_line"
        )
        check("rounding changed")
        self.assertEqual(
            balance.item_count,
            len(balance.line_ids.filtered(lambda line: line.state == "pending")),
        )

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
