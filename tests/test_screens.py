# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CustomerBalanceCommon


class ScreensCommon(CustomerBalanceCommon):
    """The coworking space's screens and documents in June 2026: whatever the
    accountant or the member looks at says the same, to the cent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ledger = cls.env["customer.balance.ledger"]
        cls.tax_21 = cls.env["account.tax"].create(
            {"name": "VAT 21%", "amount": 21.0, "type_tax_use": "sale"}
        )

    # === HELPERS === #

    def _statement_text(self, balance):
        """The balance statement rendered as HTML, as plain text."""
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "customer_balance.action_report_balance_statement", balance.ids
        )
        return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())

    def _statement_total(self, balance):
        """The total printed on the balance's statement, as a number."""
        match = re.search(r"Total \D*([\d,]+\.\d\d)", self._statement_text(balance))
        self.assertTrue(match, "the statement prints a total")
        return float(match.group(1).replace(",", ""))

    def _three_items_at_21(self, balance):
        """Three items of 1.02 at 21%: 3.69 item by item, 3.70 on the total."""
        return self.Item.union(
            *(
                self._item(balance, 1.02, tax_ids=[Command.set(self.tax_21.ids)])
                for _index in range(3)
            )
        )


@freeze_time("2026-06-20 10:00:00")
@tagged("post_install", "-at_install")
class TestDocumentsAgree(ScreensCommon):
    """Totals, statement, invoice and ledger of one balance agree."""

    def test_statement_equals_invoice_after_invoice_now(self):
        """Lisa's balance holds 100, 60 and 30 (plus 15%); the 30 is invoiced on
        its own. The statement of the later consolidated invoice lists the two
        others only, and its total is the invoice's and the balance's: 184.00."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0, name="Desk day A")
        self._item(balance, 60.0, name="Desk day B")
        alone = self._item(balance, 30.0, name="Printer paper")
        alone.action_invoice_now()
        self.assertEqual(alone.state, "invoiced")
        self.assertNotIn(alone, balance._get_document_lines())
        self.assertAlmostEqual(balance.amount_total, 184.0)
        self.assertAlmostEqual(self._statement_total(balance), 184.0)

        balance.action_consolidate()
        invoice = balance.invoice_id
        self.assertAlmostEqual(invoice.amount_total, 184.0)
        text = self._statement_text(balance)
        self.assertNotIn("Printer paper", text)
        self.assertIn("Desk day A", text)
        self.assertAlmostEqual(self._statement_total(balance), invoice.amount_total)
        self.assertAlmostEqual(balance.amount_total, invoice.amount_total)

    def test_billed_balance_shows_what_was_billed(self):
        """Once billed, the list row of the balance reads the billed total and
        count (not 0.00 and 0), with its invoice and payment state."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        self._item(balance, 40.0)
        balance.action_consolidate()
        invoice = balance.invoice_id
        self.env.invalidate_all()
        row = self.Balance.search_read(
            [("id", "=", balance.id)],
            ["amount_untaxed", "amount_total", "item_count", "invoice_payment_state"],
        )[0]
        self.assertAlmostEqual(row["amount_untaxed"], 140.0)
        self.assertAlmostEqual(row["amount_total"], invoice.amount_total)
        self.assertAlmostEqual(row["amount_total"], 161.0)
        self.assertEqual(row["item_count"], 2)
        self.assertEqual(row["invoice_payment_state"], invoice.payment_state)
        list_arch = self.Balance.get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="invoice_payment_state"', list_arch)

    def test_rounding_method_switch_recomputes_stored_totals(self):
        """Three items of 1.02 at 21% total 3.69 rounded per line and 3.70 rounded
        globally: switching the company's method rewrites the stored totals."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        self._three_items_at_21(balance)
        self.assertAlmostEqual(balance.amount_total, 3.69)
        self.company.tax_calculation_rounding_method = "round_globally"
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT amount_tax, amount_total FROM customer_balance WHERE id = %s",
            [balance.id],
        )
        self.assertEqual(
            tuple(map(float, self.env.cr.fetchone())),
            (0.64, 3.70),
        )
        self.assertAlmostEqual(self._statement_total(balance), 3.70)

    def test_no_tracking_noise_on_totals(self):
        """Adding items changes the totals without logging them in the chatter."""
        balance = self._balance(self.anna)
        self.env.flush_all()
        messages = len(balance.message_ids)
        self._item(balance, 100.0)
        self.env.flush_all()
        self.assertEqual(len(balance.message_ids), messages)

    def test_ledger_sums_like_balance_and_invoice(self):
        """Under both rounding methods the ledger rows of Anna's open balance sum
        to its total (3.69 per line, 3.70 globally), and after billing the rows
        up to the billing sum to the invoice's total: the running balance ends at
        0.00."""
        for method, total in (("round_per_line", 3.69), ("round_globally", 3.70)):
            with self.subTest(method=method):
                self.company.tax_calculation_rounding_method = method
                partner = self.env["res.partner"].create({"name": f"Ann {method}"})
                balance = self._balance(partner)
                self._three_items_at_21(balance)
                self.assertAlmostEqual(balance.amount_total, total)
                self.env.flush_all()
                rows = self.Ledger.search([("partner_id", "=", partner.id)])
                self.assertAlmostEqual(sum(rows.mapped("amount")), total)
                self.assertAlmostEqual(rows[0].running_balance, total)

                balance.action_consolidate()
                invoice = balance.invoice_id
                self.assertAlmostEqual(invoice.amount_total, total)
                self.env.flush_all()
                rows = self.Ledger.search([("partner_id", "=", partner.id)])
                billed = rows.filtered(lambda row: row.kind == "billed")
                self.assertAlmostEqual(billed.amount, -invoice.amount_total)
                charged = rows - billed
                self.assertAlmostEqual(sum(charged.mapped("amount")), total)
                self.assertAlmostEqual(rows[0].running_balance, 0.0)
                self.assertEqual(
                    bool(rows.filtered(lambda row: row.kind == "rounding")),
                    method == "round_globally",
                )

    def test_ledger_opens_flat_without_running_sums(self):
        """The ledger opens ungrouped, newest first; the running balance is never
        summed in groups."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_ledger"
        )
        self.assertNotIn("group_by", str(action.get("context", "")))
        self.assertNotIn("group_by", str(self.figma.action_view_balance_ledger()))
        self.assertFalse(self.Ledger._fields["running_balance"].aggregator)
        self.assertEqual(self.Ledger._order.split(",")[0], "date desc")


@freeze_time("2026-06-20 10:00:00")
@tagged("post_install", "-at_install")
class TestBalanceScreens(ScreensCommon):
    """The balance form, its name, its pickers and its empty lists."""

    def test_display_name_carries_customer_and_period(self):
        """``BAL/… · Figma · June 2026``, with a period label per kind."""
        for period_type, start, end, label in (
            ("week", "2026-06-01", "2026-06-07", "Week 23, 2026"),
            ("month", "2026-06-01", "2026-06-30", "June 2026"),
            ("quarter", "2026-04-01", "2026-06-30", "Q2 2026"),
            ("year", "2026-01-01", "2026-12-31", "2026"),
            ("manual", False, False, "no period"),
        ):
            with self.subTest(period_type=period_type):
                balance = self._balance(
                    self.figma,
                    period_type=period_type,
                    period_start=start,
                    period_end=end,
                    billing_date=end,
                )
                self.assertEqual(
                    balance.display_name, f"{balance.name} · Figma · {label}"
                )
                balance.unlink()
        balance = self._balance(self.figma)
        found = self.Balance.name_search("Figma")
        self.assertIn(balance.id, [balance_id for balance_id, _name in found])

    def test_booking_item_price_read_only_on_the_balance(self):
        """A booking item's product, quantity, price, discount and taxes cannot be
        changed on the balance form (the order is edited instead); a manual
        charge's price can."""
        self._sell_desk_days()
        order = self.env["sale.order"].create(
            {
                "partner_id": self.lisa.id,
                "order_line": [Command.create({"product_id": self.desk.id})],
            }
        )
        order.action_confirm()
        balance = order.order_line.balance_line_ids.balance_id
        self.assertTrue(balance)
        self._item(balance, 10.0, name="Coffee")
        form = Form(balance)
        booking_index, manual_index = (
            (0, 1) if form.line_ids.edit(0).sale_line_id else (1, 0)
        )
        with form.line_ids.edit(booking_index) as line:
            for field in ("price_unit", "quantity", "discount", "product_id"):
                with self.assertRaises(AssertionError, msg=field):
                    setattr(line, field, 1.0 if field != "product_id" else self.desk)
        with form.line_ids.edit(manual_index) as line:
            line.price_unit = 12.0
        form.save()
        arch = self.Balance.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("edit the order", arch)

    def test_items_columns_fit_a_laptop(self):
        """At 1400 px the items show Subtotal and State: secondary columns are
        optional and hidden."""
        arch = self.Balance.get_views([(False, "form")])["views"]["form"]["arch"]
        items = arch[arch.index('name="line_ids"') :]
        items = items[: items.index("</list>")]
        for name in ("price_subtotal", "state"):
            column = re.search(rf'<field name="{name}"[^>]*>', items).group(0)
            self.assertNotIn("optional", column)
        for name in ("origin", "discount", "tax_ids"):
            column = re.search(rf'<field name="{name}"[^>]*>', items).group(0)
            self.assertIn('optional="hide"', column)

    def test_move_wizard_offers_other_open_balances_only(self):
        """Moving Anna's item lists her other open balances of the company and
        currency, with customer and period, but not the item's own balance."""
        june = self._balance(self.anna)
        july = self._balance(self.anna, month=7)
        closed = self._balance(self.ben, month=5)
        self._item(closed, 5.0)
        closed.action_consolidate()
        item = self._item(june, 50.0)
        action = item.action_move_to_balance()
        record = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"balance_id": july.id})
        )
        domain = safe_eval(
            record._fields["balance_id"].domain,
            {
                "company_id": record.company_id.id,
                "currency_id": record.currency_id.id,
                "source_balance_ids": record.source_balance_ids.ids,
                "source_partner_ids": record.source_partner_ids.ids,
                "to_other_customer": record.to_other_customer,
            },
        )
        targets = self.Balance.search(domain)
        self.assertIn(july, targets)
        self.assertNotIn(june, targets)
        self.assertNotIn(closed, targets)
        self.assertEqual(july.display_name, f"{july.name} · Anna Figma · July 2026")
        record.action_move()
        self.assertEqual(item.balance_id, july)

    def test_empty_list_help_when_filters_empty_it(self):
        """ "No customer balance yet" shows only when there is none; once balances
        exist an empty list says that no balance matches the search."""
        Balance = type(self.Balance)
        with patch.object(Balance, "search_count", return_value=0):
            self.assertIn(
                "No customer balance yet",
                self.Balance.get_empty_list_help("<p>No customer balance yet</p>"),
            )
        self._balance(self.anna)
        help_message = self.Balance.get_empty_list_help(
            "<p>No customer balance yet</p>"
        )
        self.assertNotIn("yet", help_message)
        self.assertIn("matches this search", help_message)

    def test_preview_says_when_the_invoice_is_made(self):
        """The preview speaks the form's words: created on 1 July, dated 1 July
        by the bill run; dated today when billed now. Its body is a QWeb
        template."""
        balance = self._balance(self.anna, billing_date="2026-06-30")
        self._item(balance, 100.0)
        self.assertEqual(str(balance.invoice_creation_date), "2026-07-01")
        wizard = self.env["customer.balance.preview"].new({"balance_id": balance.id})
        self.assertEqual(wizard.invoice_creation_date, balance.invoice_creation_date)
        text = " ".join(re.sub(r"<[^>]+>", " ", str(wizard.preview_html)).split())
        self.assertRegex(
            text, r"will create this invoice on 07/01/2026\s*,\s*dated 07/01/2026"
        )
        self.assertIn("created and dated 06/20/2026", text)
        self.assertIn("o_balance_preview_lines", str(wizard.preview_html))


@tagged("post_install", "-at_install")
class TestOrderTellsTheTruth(ScreensCommon):
    """The order form and portal page say where the booking's charges stand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()

    def _book(self, **values):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.lisa.id,
                "order_line": [Command.create({"product_id": self.desk.id})],
                **values,
            }
        )
        order.action_confirm()
        return order

    @freeze_time("2026-06-12 10:00:00")
    def test_pending_billed_and_waived(self):
        """Pending on the June balance (ticked, no Create Invoice), then billed
        with a link to the consolidated invoice; another order whose balance is
        cancelled is waived."""
        order = self._book()
        self.assertEqual(order.balance_status, "pending")
        self.assertTrue(order.balance_on_balance)
        self.assertTrue(order.balance_covers_order)
        self.assertIn("will be created on", order.balance_summary)
        form_arch = order.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("balance_covers_order", form_arch)

        balance = order.order_line.balance_line_ids.balance_id
        with freeze_time("2026-07-01 10:00:00"):
            balance.action_consolidate()
        order.invalidate_recordset()
        self.assertEqual(order.balance_status, "billed")
        self.assertEqual(order.balance_invoice_ids, balance.invoice_id)
        self.assertIn("Billed on the consolidated invoice", order.balance_summary)
        self.assertNotIn("will be created", order.balance_summary)
        self.assertIn("action_view_balance_invoices", form_arch)
        self.assertEqual(
            order.action_view_balance_invoices()["res_id"], balance.invoice_id.id
        )

        waived = self._book()
        waived_balance = waived.order_line.balance_line_ids.balance_id
        waived_balance._cancel("Goodwill")
        self.assertEqual(waived_balance.state, "cancel")
        waived.invalidate_recordset()
        self.assertEqual(waived.balance_status, "waived")
        self.assertIn("waived", waived.balance_summary)

    @freeze_time("2026-04-10 10:00:00")
    def test_scheduled_booking(self):
        """A June desk booked in April (billed at service start) is scheduled."""
        self.desk.balance_invoice_timing = "start"
        order = self._book(commitment_date="2026-06-13 09:00:00")
        self.assertEqual(order.balance_status, "scheduled")
        self.assertIn("Scheduled", order.balance_summary)

    def test_order_off_balance(self):
        """An order of a customer without balances says nothing about them."""
        self.company.balance_enabled = False
        order = self._book()
        self.assertEqual(order.balance_status, "none")
        self.assertFalse(order.balance_on_balance)
        self.assertFalse(order.balance_summary)
