# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CustomerBalanceCommon, CustomerBalanceTestMixin


class InvoiceAdjustmentMixin:
    """Lisa's June balance: two desk days (100.00 + 15 % each), a coffee of
    10.00 and printing of 23.00 (no tax): 263.00. The company reviews its
    consolidated invoices before posting them; on 1 July the bill run makes the
    draft, the accountant changes the coffee to 12.00 and posts it: 265.00."""

    def _june_items(self, partner):
        Item = self.env["customer.balance.line"]
        values = [
            ("Desk day", 100.0, self.tax_sale_a),
            ("Desk day", 100.0, self.tax_sale_a),
            ("Coffee", 10.0, self.env["account.tax"]),
            ("Printing", 23.0, self.env["account.tax"]),
        ]
        return Item.union(
            *(
                Item.create(
                    {
                        "partner_id": partner.id,
                        "name": name,
                        "price_unit": price,
                        "tax_ids": [Command.set(taxes.ids)],
                        "service_date": "2026-06-15",
                    }
                )
                for name, price, taxes in values
            )
        )

    def _bill_and_adjust(self, partner, price=12.0):
        """Bill ``partner``'s June balance on 1 July (a draft), change the coffee
        to ``price`` on the draft and post it. Returns the balance."""
        items = self._june_items(partner)
        balance = items.balance_id
        self.assertAlmostEqual(balance.amount_total, 263.0)
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        self.assertEqual(invoice.state, "draft")
        self.assertAlmostEqual(invoice.amount_total, 263.0)
        coffee = items.filtered(lambda item: item.name == "Coffee").invoice_line_id
        invoice.write(
            {"invoice_line_ids": [Command.update(coffee.id, {"price_unit": price})]}
        )
        with freeze_time("2026-07-02 08:00:00"):
            invoice.action_post()
        return balance


@tagged("post_install", "-at_install")
class TestInvoiceAdjustment(InvoiceAdjustmentMixin, CustomerBalanceCommon):
    """A change made on the draft consolidated invoice shows on every screen and
    document of the balance as what it is: an adjustment on the invoice, never
    as rounding; the balance's totals are the invoice's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_auto_post = False
        cls.company.tax_calculation_rounding_method = "round_per_line"
        cls.Ledger = cls.env["customer.balance.ledger"]

    def _statement_text(self, balance):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "customer_balance.action_report_balance_statement", balance.ids
        )
        return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())

    def _ledger(self, partner):
        self.env.flush_all()
        self.Ledger.invalidate_model()
        return self.Ledger.search([("partner_id", "=", partner.id)])

    def test_totals_follow_the_adjusted_invoice(self):
        """Coffee 10.00 -> 12.00 on the draft: the balance's form and list read
        265.00 (the invoice's), 232.00 untaxed, and say 2.00 was adjusted on the
        invoice; the stored totals are the invoice's too."""
        balance = self._bill_and_adjust(self.lisa)
        invoice = balance.invoice_id
        self.assertEqual(invoice.state, "posted")
        self.assertAlmostEqual(invoice.amount_total, 265.0)
        self.assertAlmostEqual(balance.amount_total, 265.0)
        self.assertAlmostEqual(balance.amount_untaxed, 235.0)
        self.assertAlmostEqual(balance.amount_tax, 30.0)
        self.assertAlmostEqual(balance.invoice_adjustment_untaxed, 2.0)
        self.env.invalidate_all()
        row = self.env["customer.balance"].search_read(
            [("id", "=", balance.id)], ["amount_untaxed", "amount_total"]
        )[0]
        self.assertAlmostEqual(row["amount_total"], 265.0)
        self.assertAlmostEqual(row["amount_untaxed"], 235.0)
        adjustments = balance._get_invoice_adjustments()
        self.assertEqual(len(adjustments), 1)
        self.assertEqual(adjustments[0]["name"], "Coffee")
        self.assertEqual(adjustments[0]["item"].name, "Coffee")
        self.assertAlmostEqual(adjustments[0]["price_subtotal"], 2.0)

    def test_draft_change_refreshes_totals_before_posting(self):
        """While the accountant works on the draft, the balance already shows
        what the draft bills; undoing the change brings it back to 263.00."""
        items = self._june_items(self.lisa)
        balance = items.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        coffee = items.filtered(lambda item: item.name == "Coffee").invoice_line_id
        invoice.write(
            {"invoice_line_ids": [Command.update(coffee.id, {"price_unit": 12.0})]}
        )
        self.assertAlmostEqual(balance.amount_total, 265.0)
        invoice.write(
            {"invoice_line_ids": [Command.update(coffee.id, {"price_unit": 10.0})]}
        )
        self.assertAlmostEqual(balance.amount_total, 263.0)
        self.assertFalse(balance._get_invoice_adjustments())

    def test_ledger_shows_adjustment_not_rounding(self):
        """The ledger lists the four charges (263.00), one row *Adjusted on the
        Invoice* of +2.00 for the coffee and the billing of -265.00: no tax
        rounding row, the running balance ends at 0.00."""
        balance = self._bill_and_adjust(self.lisa)
        rows = self._ledger(self.lisa)
        self.assertFalse(rows.filtered(lambda row: row.kind == "rounding"))
        adjustment = rows.filtered(lambda row: row.kind == "adjustment")
        self.assertEqual(len(adjustment), 1)
        self.assertRecordValues(
            adjustment,
            [
                {
                    "name": "Coffee",
                    "amount": 2.0,
                    "invoice_id": balance.invoice_id.id,
                    "balance_id": balance.id,
                    "contact_id": self.lisa.id,
                }
            ],
        )
        billed = rows.filtered(lambda row: row.kind == "billed")
        self.assertAlmostEqual(billed.amount, -265.0)
        charges = rows.filtered(lambda row: row.kind == "charge")
        self.assertAlmostEqual(sum(charges.mapped("amount")), 263.0)
        self.assertAlmostEqual(sum(rows.mapped("amount")), 0.0)
        self.assertAlmostEqual(rows[0].running_balance, 0.0)

    def test_ledger_line_added_on_draft(self):
        """A line the accountant adds on the draft (a late fee of 5.00) is an
        adjustment of its own, without item."""
        items = self._june_items(self.lisa)
        balance = items.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Late fee", "price_unit": 5.0, "tax_ids": []}
                    )
                ]
            }
        )
        invoice.action_post()
        self.assertAlmostEqual(balance.amount_total, 268.0)
        rows = self._ledger(self.lisa)
        adjustment = rows.filtered(lambda row: row.kind == "adjustment")
        self.assertRecordValues(
            adjustment, [{"name": "Late fee", "amount": 5.0, "line_id": False}]
        )
        self.assertFalse(rows.filtered(lambda row: row.kind == "rounding"))
        self.assertAlmostEqual(rows[0].running_balance, 0.0)

    def test_item_line_cannot_be_removed_from_draft(self):
        """Removing the coffee's line from the draft is refused with the way to
        do it (a quantity or price change, or cancelling the invoice); setting
        its quantity to 0 shows as an adjustment of -10.00."""
        items = self._june_items(self.lisa)
        balance = items.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        coffee = items.filtered(lambda item: item.name == "Coffee").invoice_line_id
        with self.assertRaisesRegex(UserError, "cannot be removed from the invoice"):
            invoice.write({"invoice_line_ids": [Command.delete(coffee.id)]})
        invoice.write(
            {"invoice_line_ids": [Command.update(coffee.id, {"quantity": 0.0})]}
        )
        invoice.action_post()
        self.assertAlmostEqual(balance.amount_total, 253.0)
        self.assertAlmostEqual(balance.invoice_adjustment_untaxed, -10.0)

    def test_draft_deleted_puts_items_back(self):
        """Deleting the whole draft still puts its items back on the balance,
        which opens again."""
        items = self._june_items(self.lisa)
        balance = items.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        balance.invoice_id.unlink()
        self.assertEqual(balance.state, "open")
        self.assertEqual(set(items.mapped("state")), {"pending"})

    def test_real_rounding_stays_rounding(self):
        """Rounded globally, three items of 1.02 at 21 % are billed 3.70 (3.69
        item by item): the ledger shows one rounding row of 0.01 and no
        adjustment, with or without a change of the draft elsewhere."""
        self.company.tax_calculation_rounding_method = "round_globally"
        tax_21 = self.env["account.tax"].create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale"}
        )
        balance = self._balance(self.lisa)
        for _index in range(3):
            self._item(balance, 1.02, tax_ids=[Command.set(tax_21.ids)])
        balance.action_consolidate()
        balance.invoice_id.action_post()
        self.assertAlmostEqual(balance.amount_total, 3.70)
        rows = self._ledger(self.lisa)
        self.assertFalse(rows.filtered(lambda row: row.kind == "adjustment"))
        rounding = rows.filtered(lambda row: row.kind == "rounding")
        self.assertEqual(len(rounding), 1)
        self.assertAlmostEqual(rounding.amount, 0.01)
        self.assertAlmostEqual(rows[0].running_balance, 0.0)

    def test_statement_shows_the_adjustment(self):
        """The statement lists the items, a section *Adjusted on the invoice*
        with the coffee's +2.00, and the invoice's totals: 235.00 untaxed,
        265.00 in total."""
        balance = self._bill_and_adjust(self.lisa)
        text = self._statement_text(balance)
        self.assertIn("Adjusted on the invoice", text)
        self.assertRegex(text, r"Total \D*265\.00")
        self.assertRegex(text, r"Untaxed Amount \D*235\.00")
        self.assertNotIn("263.00", text)

    def test_chatter_says_what_was_adjusted(self):
        """Posting the changed draft says on the balance that the coffee was
        adjusted on the invoice, naming the invoice by its posted name."""
        balance = self._bill_and_adjust(self.lisa)
        chatter = self._chatter(balance)
        self.assertIn("Adjusted on the invoice before posting: Coffee", chatter)
        self.assertIn(balance.invoice_id.name, chatter)

    def test_unchanged_invoice_posts_quietly(self):
        """An invoice posted as it was made: no adjustment, totals unchanged, no
        adjustment message."""
        items = self._june_items(self.lisa)
        balance = items.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        balance.invoice_id.action_post()
        self.assertAlmostEqual(balance.amount_total, 263.0)
        self.assertFalse(balance.invoice_adjustment_untaxed)
        self.assertNotIn("Adjusted on the invoice", self._chatter(balance))
        self.assertFalse(
            self._ledger(self.lisa).filtered(
                lambda row: row.kind in ("adjustment", "rounding")
            )
        )


@tagged("post_install", "-at_install")
class TestInvoiceNames(CustomerBalanceCommon):
    """Once posted, a consolidated invoice is named by its number in the
    balance's chatter and the bill run's lines, not *Draft Invoice*."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_auto_post = False

    def test_chatter_names_posted_invoice(self):
        """Billed as a draft on 1 July and posted on 2 July: the balance's
        messages and its tracked consolidated invoice name INV/2026/…, and no
        message says *Draft Invoice* any more."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        self.env.flush_all()
        self.assertIn("Draft Invoice", self._messages(balance))
        with freeze_time("2026-07-02 08:00:00"):
            invoice.action_post()
        self.env.flush_all()
        messages = self._messages(balance)
        self.assertNotIn("Draft Invoice", messages)
        self.assertIn(invoice.name, messages)
        self.assertIn(f'data-oe-id="{invoice.id}"', messages)
        balance.invalidate_recordset(["message_ids"])
        trackings = balance.message_ids.tracking_value_ids.filtered(
            lambda tracking: tracking.field_id.name == "invoice_id"
        )
        self.assertTrue(trackings)
        self.assertEqual(set(trackings.mapped("new_value_char")), {invoice.name})
        formatted = str(trackings._tracking_value_format())
        self.assertNotIn("Draft Invoice", formatted)

    def test_auto_posted_invoice_named_in_chatter(self):
        """Confirmed at once by the bill run: the message of its creation names
        it by its number."""
        self.company.balance_auto_post = True
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        invoice = balance.invoice_id
        self.assertEqual(invoice.state, "posted")
        messages = self._messages(balance)
        self.assertNotIn("Draft Invoice", messages)
        self.assertIn(invoice.name, messages)

    def test_invoice_now_named_after_posting(self):
        """Items invoiced on their own: their balance's message names the
        invoice by its number once it is posted."""
        balance = self._balance(self.lisa)
        item = self._item(balance, 30.0, name="Printer paper")
        self._item(balance, 100.0)
        item.action_invoice_now()
        invoice = item.invoice_id
        self.assertIn("Draft Invoice", self._messages(balance))
        invoice.action_post()
        self.env.flush_all()
        messages = self._messages(balance)
        self.assertNotIn("Draft Invoice", messages)
        self.assertIn(invoice.name, messages)

    def test_bill_run_line_names_posted_invoice(self):
        """The bill run's line of the balance shows the invoice's number once it
        is posted, as its form reads it."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        with freeze_time("2026-07-01 08:00:00"):
            run = self._bill_run()
        line = run.line_ids.filtered(lambda line: line.balance_id == balance)
        invoice = balance.invoice_id
        self.assertEqual(line.invoice_id, invoice)
        invoice.action_post()
        self.env.invalidate_all()
        values = run.web_read(
            {"line_ids": {"fields": {"invoice_id": {"fields": {"display_name": {}}}}}}
        )[0]
        names = [value["invoice_id"]["display_name"] for value in values["line_ids"]]
        self.assertIn(invoice.name, names)
        self.assertNotIn("Draft Invoice", str(names))


@tagged("post_install", "-at_install")
class TestInvoiceAdjustmentPortal(
    InvoiceAdjustmentMixin, CustomerBalanceTestMixin, HttpCase
):
    """Lisa reads her billed June balance in the portal: the items, the coffee
    adjusted on the invoice and the invoice's total, which the items and the
    adjustment add up to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.company.write(
            {
                "balance_enabled": True,
                "balance_period": "month",
                "balance_billing_delay": 0,
                "balance_grouping": "person",
                "balance_portal_visible": True,
                "balance_auto_post": False,
                "tax_calculation_rounding_method": "round_per_line",
                "account_price_include": "tax_excluded",
            }
        )
        cls.tax_sale_a = cls.env["account.tax"].create(
            {
                "name": "Tax 15%",
                "amount": 15.0,
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.lisa = cls.env["res.partner"].create(
            {"name": "Lisa Solo", "email": "lisa@example.org"}
        )
        new_test_user(
            cls.env,
            login="portal.lisa",
            password="portal.lisa",
            groups="base.group_portal",
            partner_id=cls.lisa.id,
        )

    def _amounts(self, html, css_class):
        """The amounts of the table cells of ``css_class``, as numbers."""
        amounts = []
        for cell in re.findall(
            rf'<td[^>]*class="[^"]*{css_class}[^"]*"[^>]*>(.*?)</td>', html, re.S
        ):
            text = re.sub(r"<[^>]+>", " ", cell)
            amount = re.search(r"-?[\d,]+\.\d\d", text)
            amounts.append(float(amount.group(0).replace(",", "")))
        return amounts

    def test_portal_page_adds_up_to_the_invoice(self):
        """The page lists the four items (233.00 untaxed) and the coffee
        adjusted by +2.00: together the invoice's 235.00 untaxed; the total is
        265.00 on the page and in the list."""
        balance = self._bill_and_adjust(self.lisa)
        self.authenticate("portal.lisa", "portal.lisa")
        page = self.url_open(f"/my/balances/{balance.id}")
        self.assertEqual(page.status_code, 200)
        html = page.text
        self.assertIn("Adjusted on the invoice", html)
        items = self._amounts(html, "o_customer_balance_item_amount")
        adjustments = self._amounts(html, "o_customer_balance_adjustment_amount")
        self.assertEqual(len(items), 4)
        self.assertAlmostEqual(sum(items), 233.0)
        self.assertEqual(adjustments, [2.0])
        self.assertAlmostEqual(sum(items) + sum(adjustments), 235.0)
        self.assertRegex(
            html, re.compile(r"o_customer_balance_total.{0,200}?265\.00", re.S)
        )
        self.assertNotIn("263.00", html)
        listing = self.url_open("/my/balances").text
        self.assertIn("265.00", listing)
        self.assertNotIn("263.00", listing)
