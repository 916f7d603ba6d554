# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import CustomerBalanceCommon


@freeze_time("2026-06-20 10:00:00")
@tagged("post_install", "-at_install")
class TestTotals(CustomerBalanceCommon):
    """The totals a member is shown on a balance, to the cent, and the invoice
    made from its items: they must be the same under both tax rounding methods."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tax = cls.env["account.tax"]
        cls.tax_21 = Tax.create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale"}
        )
        cls.tax_21_incl = Tax.create(
            {
                "name": "VAT 21% incl.",
                "amount": 21.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        cls.tax_6 = Tax.create(
            {"name": "VAT 6%", "amount": 6.0, "type_tax_use": "sale"}
        )
        cls.tax_6_incl = Tax.create(
            {
                "name": "VAT 6% incl.",
                "amount": 6.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )

    # === HELPERS === #

    def _items(self, balance, specs):
        """Items on ``balance`` from ``(price_unit, quantity, discount, taxes)``."""
        return self.env["customer.balance.line"].union(
            *(
                self._item(
                    balance,
                    price,
                    quantity=quantity,
                    discount=discount,
                    tax_ids=[Command.set(taxes.ids)],
                )
                for price, quantity, discount, taxes in specs
            )
        )

    def _assert_totals(self, record, untaxed, tax, total):
        """``record``'s untaxed, tax and total amounts, to the cent."""
        self.assertAlmostEqual(record.amount_untaxed, untaxed, places=2)
        self.assertAlmostEqual(record.amount_tax, tax, places=2)
        self.assertAlmostEqual(record.amount_total, total, places=2)

    def _invoice_now(self, items):
        items.action_invoice_now()
        invoice = items.invoice_id
        self.assertEqual(len(invoice), 1)
        return invoice

    def _assert_invoice_matches(self, invoice, shown):
        """The invoice's amounts are those the balance showed, to the cent (a
        credit note carries them without the sign)."""
        sign = -1 if invoice.move_type == "out_refund" else 1
        currency = invoice.currency_id
        for field, amount in zip(
            ("amount_untaxed", "amount_tax", "amount_total"), shown, strict=True
        ):
            self.assertFalse(
                currency.compare_amounts(sign * invoice[field], amount),
                f"{field} of {invoice.display_name}: {invoice[field]} != {amount}",
            )

    def _shown(self, balance):
        return balance.amount_untaxed, balance.amount_tax, balance.amount_total

    # === TESTS === #

    def test_price_excluded_taxes(self):
        """Taxes on top of the price, two rates: each item's subtotal and total
        and the balance's totals, to the cent."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        desks, books = self._items(
            balance, [(10.01, 3, 0.0, self.tax_21), (19.99, 1, 0.0, self.tax_6)]
        )
        self.assertAlmostEqual(desks.price_subtotal, 30.03, places=2)
        self.assertAlmostEqual(desks.price_total, 36.34, places=2)
        self.assertAlmostEqual(books.price_subtotal, 19.99, places=2)
        self.assertAlmostEqual(books.price_total, 21.19, places=2)
        self._assert_totals(balance, 50.02, 7.51, 57.53)
        self._assert_invoice_matches(
            self._invoice_now(desks + books), (50.02, 7.51, 57.53)
        )

    def test_price_included_taxes(self):
        """Prices including the tax: the item's total is its price, the untaxed
        amount is taken out of it; mixed with a tax on top of the price."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        room, day_pass, books = self._items(
            balance,
            [
                (12.10, 1, 0.0, self.tax_21_incl),
                (5.00, 3, 0.0, self.tax_21_incl),
                (10.00, 1, 0.0, self.tax_6),
            ],
        )
        self.assertTrue(self.tax_21_incl.price_include)
        self.assertAlmostEqual(room.price_subtotal, 10.00, places=2)
        self.assertAlmostEqual(room.price_total, 12.10, places=2)
        self.assertAlmostEqual(day_pass.price_subtotal, 12.40, places=2)
        self.assertAlmostEqual(day_pass.price_total, 15.00, places=2)
        self.assertAlmostEqual(books.price_total, 10.60, places=2)
        self._assert_totals(balance, 32.40, 5.30, 37.70)
        shown = self._shown(balance)
        self._assert_invoice_matches(self._invoice_now(room + day_pass + books), shown)

    def test_discounts(self):
        """Discounts come off before the tax, on prices with and without tax."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        desks, lockers, room = self._items(
            balance,
            [
                (100.0, 3, 12.5, self.tax_sale_a),
                (19.99, 2, 33.0, self.tax_21),
                (121.0, 1, 10.0, self.tax_21_incl),
            ],
        )
        self.assertAlmostEqual(desks.price_subtotal, 262.50, places=2)
        self.assertAlmostEqual(desks.price_total, 301.88, places=2)
        self.assertAlmostEqual(lockers.price_subtotal, 26.79, places=2)
        self.assertAlmostEqual(lockers.price_total, 32.42, places=2)
        self.assertAlmostEqual(room.price_subtotal, 90.00, places=2)
        self.assertAlmostEqual(room.price_total, 108.90, places=2)
        self._assert_totals(balance, 379.29, 63.91, 443.20)
        shown = self._shown(balance)
        self._assert_invoice_matches(self._invoice_now(desks + lockers + room), shown)

    def test_rounding_methods_give_different_cents(self):
        """Three items of 1.02 at 21 %: 0.63 of tax rounded per line, 0.64 rounded
        globally; three items of 1.00 including 21 %: 2.49 + 0.51 per line,
        2.48 + 0.52 globally. Each balance shows what its invoice then says."""
        expected = {
            "round_per_line": ((3.06, 0.63, 3.69), (2.49, 0.51, 3.00)),
            "round_globally": ((3.06, 0.64, 3.70), (2.48, 0.52, 3.00)),
        }
        for method, partner in (
            ("round_per_line", self.anna),
            ("round_globally", self.lisa),
        ):
            with self.subTest(method=method):
                self.company.tax_calculation_rounding_method = method
                excluded = self._balance(partner)
                included = self._balance(partner, month=7)
                excluded_items = self._items(
                    excluded, [(1.02, 1, 0.0, self.tax_21)] * 3
                )
                included_items = self._items(
                    included, [(1.00, 1, 0.0, self.tax_21_incl)] * 3
                )
                self._assert_totals(excluded, *expected[method][0])
                self._assert_totals(included, *expected[method][1])
                self._assert_invoice_matches(
                    self._invoice_now(excluded_items), expected[method][0]
                )
                self._assert_invoice_matches(
                    self._invoice_now(included_items), expected[method][1]
                )
                self._assert_totals(excluded, 0.0, 0.0, 0.0)
                self._assert_totals(included, 0.0, 0.0, 0.0)

    def test_credits_are_netted(self):
        """Credits are deducted from the charges, tax included; a positive net is
        invoiced with the credits as negative lines."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        items = self._items(
            balance,
            [
                (100.0, 1, 0.0, self.tax_sale_a),
                (40.0, 1, 0.0, self.tax_sale_a),
                (-30.0, 1, 0.0, self.tax_sale_a),
                (-12.34, 1, 0.0, self.env["account.tax"]),
            ],
        )
        self._assert_totals(balance, 97.66, 16.50, 114.16)
        invoice = self._invoice_now(items)
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(
            sorted(items.invoice_line_id.mapped("price_unit")),
            [-30.0, -12.34, 40.0, 100.0],
        )
        self._assert_invoice_matches(invoice, (97.66, 16.50, 114.16))

    def test_negative_net_gives_credit_note(self):
        """When the credits outweigh the charges, the balance total is negative
        and the invoice is a credit note for the same amount."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        items = self._items(
            balance,
            [(-200.0, 1, 0.0, self.tax_sale_a), (50.0, 1, 0.0, self.tax_sale_a)],
        )
        self._assert_totals(balance, -150.0, -22.50, -172.50)
        refund = self._invoice_now(items)
        self.assertEqual(refund.move_type, "out_refund")
        self._assert_totals(refund, 150.0, 22.50, 172.50)
        self._assert_invoice_matches(refund, (-150.0, -22.50, -172.50))

    def test_credits_rounded_globally(self):
        """Rounded globally, a credit is netted before rounding: three charges and
        one credit of 1.02 at 21 % give 0.43 of tax (0.42 rounded per line)."""
        for method, tax in (("round_per_line", 0.42), ("round_globally", 0.43)):
            with self.subTest(method=method):
                self.company.tax_calculation_rounding_method = method
                balance = self._balance(
                    self.anna if method == "round_per_line" else self.lisa
                )
                items = self._items(
                    balance,
                    [(1.02, 1, 0.0, self.tax_21)] * 3 + [(-1.02, 1, 0.0, self.tax_21)],
                )
                self._assert_totals(balance, 2.04, tax, 2.04 + tax)
                self._assert_invoice_matches(
                    self._invoice_now(items), (2.04, tax, 2.04 + tax)
                )

    def test_globally_rounded_untaxed_amount_is_the_invoices(self):
        """Rounded globally, the untaxed amount is rounded once over the items
        (360.00 - 4.375 = 355.63), as on Odoo's invoice, while each item shows
        its own rounded subtotal (360.00 and -4.38) like its invoice line."""
        self.company.tax_calculation_rounding_method = "round_globally"
        balance = self._balance(self.anna)
        desks, credit = self._items(
            balance,
            [(100.0, 4, 10.0, self.tax_sale_a), (-17.5, 0.25, 0.0, self.tax_sale_a)],
        )
        self.assertAlmostEqual(desks.price_subtotal, 360.0, places=2)
        self.assertAlmostEqual(credit.price_subtotal, -4.38, places=2)
        self._assert_totals(balance, 355.63, 53.34, 408.97)
        invoice = self._invoice_now(desks + credit)
        self._assert_invoice_matches(invoice, (355.63, 53.34, 408.97))
        for item in desks + credit:
            self.assertAlmostEqual(
                item.invoice_line_id.price_subtotal, item.price_subtotal, places=2
            )

    def test_invoice_equals_balance_for_every_kind_of_item(self):
        """Items of every kind on one balance (taxes on top and included, two
        rates, both on one item, discounts, fractional quantities, credits), for a
        positive and a negative net, under both rounding methods: the invoice
        made by *Invoice Now* of all the items and the consolidated invoice both
        carry exactly the totals the balance showed."""
        charges = [
            (1.05, 3, 0.0, self.tax_21),
            (33.33, 1.5, 7.5, self.tax_21),
            (9.99, 7, 0.0, self.tax_6),
            (4.99, 3, 0.0, self.tax_21_incl),
            (17.77, 2, 15.0, self.tax_6_incl),
            (2.35, 1, 0.0, self.tax_21 + self.tax_6),
            (0.01, 13, 0.0, self.tax_21),
        ]
        credits = [
            (-3.33, 1, 0.0, self.tax_21),
            (-1.11, 2, 0.0, self.tax_6_incl),
        ]
        big_credit = [(-500.0, 1, 0.0, self.tax_21_incl)]
        partners = iter(
            self.env["res.partner"].create(
                [{"name": f"Member {index}"} for index in range(8)]
            )
        )
        for method in ("round_per_line", "round_globally"):
            self.company.tax_calculation_rounding_method = method
            for net, specs in (
                ("positive", charges + credits),
                ("negative", charges + credits + big_credit),
            ):
                for how in ("invoice now", "consolidate"):
                    with self.subTest(method=method, net=net, how=how):
                        balance = self._balance(next(partners))
                        items = self._items(balance, specs)
                        shown = self._shown(balance)
                        self.assertEqual(
                            self.currency.compare_amounts(shown[2], 0.0),
                            1 if net == "positive" else -1,
                        )
                        if how == "invoice now":
                            invoice = self._invoice_now(items)
                            self.assertEqual(balance.state, "open")
                        else:
                            balance.action_consolidate()
                            invoice = balance.invoice_id
                            self.assertEqual(balance.state, "invoiced")
                        self.assertEqual(
                            invoice.move_type,
                            "out_invoice" if net == "positive" else "out_refund",
                        )
                        self._assert_invoice_matches(invoice, shown)
                        self.assertEqual(set(items.mapped("state")), {"invoiced"})
                        for item in items:
                            sign = -1 if invoice.move_type == "out_refund" else 1
                            self.assertAlmostEqual(
                                sign * item.invoice_line_id.price_subtotal,
                                item.price_subtotal,
                                places=2,
                            )
                        invoice.action_post()
                        self._assert_invoice_matches(invoice, shown)

    def test_per_line_total_is_sum_of_item_totals(self):
        """Rounded per line, the balance total is the sum of its items' totals;
        editing or deleting an item changes it by exactly that item's change."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        first, second, third = self._items(
            balance,
            [
                (10.01, 1, 0.0, self.tax_21),
                (20.02, 2, 5.0, self.tax_21_incl),
                (3.33, 3, 0.0, self.tax_6),
            ],
        )
        items = first + second + third
        self.assertAlmostEqual(
            balance.amount_total, sum(items.mapped("price_total")), places=2
        )
        self.assertAlmostEqual(
            balance.amount_untaxed, sum(items.mapped("price_subtotal")), places=2
        )
        before = balance.amount_total
        old_total = second.price_total
        second.price_unit = 25.0
        self.assertAlmostEqual(
            balance.amount_total, before - old_total + second.price_total, places=2
        )
        before = balance.amount_total
        third_total = third.price_total
        third.unlink()
        self.assertAlmostEqual(balance.amount_total, before - third_total, places=2)
        self.assertAlmostEqual(
            balance.amount_total, first.price_total + second.price_total, places=2
        )
