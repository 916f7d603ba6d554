# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from freezegun import freeze_time

from odoo import Command
from odoo.tests import Form, tagged

from .common import CustomerBalanceCommon


class WorkspaceCommon(CustomerBalanceCommon):
    """The coworking space's accountant at work in June and July 2026."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ledger = cls.env["customer.balance.ledger"]

    def _charge(self, partner, price_unit, service_date, name="Desk day", **vals):
        """An item of ``partner`` without tax, finding its own balance."""
        return self.Item.create(
            {
                "partner_id": partner.id,
                "name": name,
                "price_unit": price_unit,
                "tax_ids": [Command.clear()],
                "service_date": service_date,
                **vals,
            }
        )


@tagged("post_install", "-at_install")
class TestWorkspace(WorkspaceCommon):
    """Views, filters, smart buttons and the partner's balance tab."""

    def test_every_view_loads(self):
        """Every view of balances, items, the ledger and the partner's tab loads
        through the web client's own call, and the balances open as a kanban
        grouped by state as well."""
        views = self.Balance.get_views(
            [
                (False, kind)
                for kind in ("list", "kanban", "form", "pivot", "graph", "search")
            ]
        )["views"]
        self.assertIn("is_above_threshold", views["search"]["arch"])
        self.assertIn("bill_run_inactive", views["form"]["arch"])
        self.assertIn('default_group_by="state"', views["kanban"]["arch"])
        self.assertIn('string="Print Statement"', views["form"]["arch"])
        for model, kinds in (
            ("customer.balance.line", ("list", "form", "search")),
            ("customer.balance.ledger", ("list", "search")),
            ("res.partner", ("list", "form")),
        ):
            loaded = self.env[model].get_views([(False, kind) for kind in kinds])
            self.assertEqual(set(loaded["views"]), set(kinds), model)
        partner_form = self.env["res.partner"].get_views([(False, "form")])["views"]
        for button in (
            "action_view_open_balances",
            "action_view_balance_ledger",
            "action_view_balance_history",
            "action_view_upcoming_items",
            "action_view_scheduled_items",
        ):
            self.assertIn(button, partner_form["form"]["arch"])
        action = self.env.ref("customer_balance.action_customer_balance")
        self.assertIn("kanban", action.view_mode.split(","))
        items_menu = self.env.ref("customer_balance.menu_customer_balance_line")
        self.assertEqual(items_menu.name, "Balance Items")

    @freeze_time("2026-07-02 10:00:00")
    def test_form_buttons(self):
        """From the balance form the accountant previews, prints, adds an entry,
        bills a balance and cancels another, each button's action doing its job."""
        june = self._balance(self.anna)
        self._item(june, 100.0)
        form = Form(june)
        self.assertEqual(form.item_count, 1)
        form.save()

        preview_action = june.action_preview()
        preview = Form(
            self.env[preview_action["res_model"]].with_context(
                **preview_action["context"]
            )
        )
        self.assertAlmostEqual(preview.amount_total, 115.0)

        entry_action = june.action_add_entry()
        with Form(
            self.env[entry_action["res_model"]].with_context(**entry_action["context"])
        ) as entry:
            entry.entry_type = "credit"
            entry.name = "Goodwill"
            entry.amount = 10.0
            entry.tax_ids.clear()
        entry.record.action_add()
        self.assertAlmostEqual(june.amount_untaxed, 90.0)

        html = self._statement_html(june)
        self.assertIn("Goodwill", html)

        invoice_action = june.action_consolidate()
        self.assertEqual(invoice_action["res_model"], "account.move")
        self.assertEqual(june.state, "invoiced")
        self.assertEqual(june.invoice_id.id, invoice_action["res_id"])
        self.assertAlmostEqual(june.invoice_id.amount_total, 105.0)

        july = self._balance(self.anna, month=7)
        self._item(july, 40.0)
        cancel_action = july.action_cancel()
        with Form(
            self.env[cancel_action["res_model"]].with_context(
                **cancel_action["context"]
            )
        ) as cancel:
            cancel.reason = "Booked by mistake"
        cancel.record.action_cancel()
        self.assertEqual(july.state, "cancel")
        self.assertEqual(july.line_ids.state, "cancel")

    def _statement_html(self, balance):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "customer_balance.action_report_balance_statement", balance.ids
        )
        return html.decode()

    def test_above_threshold_filter(self):
        """With a threshold of 150, the open balance of 172.50 is found by the
        Above Threshold filter; the one of 57.50 and a billed one are not."""
        big = self._balance(self.anna)
        self._item(big, 100.0)
        self._item(big, 50.0)
        small = self._balance(self.ben)
        self._item(small, 50.0)
        billed = self._balance(self.lisa)
        self._item(billed, 500.0)
        billed.action_consolidate()
        # Set afterwards: reaching it while adding items bills the balance at once.
        self.company.balance_threshold_amount = 150.0
        search = self.Balance.get_views([(False, "search")])["views"]["search"]
        self.assertIn('name="above_threshold"', search["arch"])
        found = self.Balance.search(
            [
                ("is_above_threshold", "=", True),
                ("id", "in", (big | small | billed).ids),
            ]
        )
        self.assertEqual(found, big)
        self.assertTrue(big.is_above_threshold)
        self.assertFalse(small.is_above_threshold)
        self.assertEqual(
            self.Balance.search(
                [
                    ("is_above_threshold", "=", False),
                    ("id", "in", (big | small | billed).ids),
                ]
            ),
            small | billed,
        )
        self.company.balance_threshold_amount = 0.0
        self.assertFalse(
            self.Balance.search(
                [("is_above_threshold", "=", True), ("id", "in", big.ids)]
            )
        )

    def test_bill_run_inactive_warning(self):
        """Switching the bill run off flags every balance, which the form shows as a
        banner and the list and kanban as a warning on open balances."""
        balance = self._balance(self.anna)
        cron = self.env.ref("customer_balance.ir_cron_consolidate_due")
        self.assertFalse(balance.bill_run_inactive)
        cron.active = False
        balance.invalidate_recordset(["bill_run_inactive"])
        self.assertTrue(balance.bill_run_inactive)
        self.assertTrue(Form(balance).bill_run_inactive)
        views = self.Balance.get_views([(False, "list"), (False, "kanban")])["views"]
        self.assertIn("bill_run_inactive", views["list"]["arch"])
        self.assertIn("Bill run off", views["kanban"]["arch"])
        open_cron = self.env.ref("customer_balance.action_customer_balance_bill_run")
        self.assertEqual(open_cron.res_id, cron.id)

    def test_sort_partners_by_open_balance(self):
        """The customer list sorts by open balance: who owes most comes first."""
        self._item(self._balance(self.anna), 100.0, tax_ids=[Command.clear()])
        self._item(self._balance(self.ben), 300.0, tax_ids=[Command.clear()])
        self._item(self._balance(self.lisa), 20.0, tax_ids=[Command.clear()])
        partners = self.anna | self.ben | self.lisa | self.figma
        Partner = self.env["res.partner"]
        self.assertTrue(
            Partner.fields_get(["balance_open_amount"], ["sortable"])[
                "balance_open_amount"
            ]["sortable"]
        )
        ordered = Partner.search(
            [("id", "in", partners.ids)], order="balance_open_amount desc, id"
        )
        self.assertEqual(
            ordered.ids, [self.ben.id, self.anna.id, self.lisa.id, self.figma.id]
        )
        self.assertEqual(
            Partner.search(
                [("id", "in", partners.ids)], order="balance_open_amount asc, id"
            )[:1],
            self.figma,
        )
        # The web client's own read of the customer list, sorted on the column.
        rows = Partner.web_search_read(
            [("id", "in", partners.ids)],
            {"balance_open_amount": {}},
            order="balance_open_amount desc",
        )["records"]
        self.assertEqual(
            [row["balance_open_amount"] for row in rows], [300, 100, 20, 0]
        )

    @freeze_time("2026-07-02 10:00:00")
    def test_company_shows_its_contacts_balances(self):
        """Balances kept per person: Figma's form shows the open balances of Anna
        and Ben, their total, the past June balance with its invoice, and its
        buttons open them all."""
        june = self._balance(self.anna)
        self._item(june, 80.0, tax_ids=[Command.clear()])
        june.action_consolidate()
        anna_july = self._balance(
            self.anna, period_start="2026-07-01", period_end="2026-07-31"
        )
        self._item(anna_july, 100.0, tax_ids=[Command.clear()])
        ben_july = self._balance(
            self.ben, period_start="2026-07-01", period_end="2026-07-31"
        )
        self._item(ben_july, 50.0, tax_ids=[Command.clear()])
        lisa = self._balance(self.lisa)
        self._item(lisa, 10.0, tax_ids=[Command.clear()])

        figma = self.figma
        open_balances = self.Balance.search(figma.action_view_open_balances()["domain"])
        self.assertEqual(open_balances, anna_july | ben_july)
        self.assertEqual(figma.balance_open_count, 2)
        self.assertAlmostEqual(figma.balance_company_open_amount, 150.0)
        self.assertAlmostEqual(figma.balance_open_amount, 0.0)
        self.assertEqual(figma.balance_count, 3)
        history = self.Balance.search(figma.action_view_balance_history()["domain"])
        self.assertEqual(history, june)
        self.assertTrue(history.invoice_id)
        self.assertEqual(
            self.Item.search(figma.action_view_upcoming_items()["domain"]),
            (anna_july | ben_july).line_ids,
        )
        self.assertEqual(figma.balance_upcoming_count, 2)
        self.assertEqual(
            self.Balance.search(self.anna.action_view_open_balances()["domain"]),
            anna_july,
        )
        self.assertEqual(
            self.Balance.search(figma.action_view_balances()["domain"]),
            june | anna_july | ben_july,
        )
        items = self.Item.search(figma.action_view_balance_items()["domain"])
        self.assertEqual(items, (june | anna_july | ben_july).line_ids)
        form = Form(figma)
        self.assertEqual(form.balance_open_count, 2)
        self.assertAlmostEqual(form.balance_company_open_amount, 150.0)

    @freeze_time("2026-06-10 10:00:00")
    def test_smart_buttons_both_ways(self):
        """A booking's balance lists the booking; the booking, the partner and the
        consolidated invoice lead back to the items and the balance."""
        self._sell_desk_days()
        order = self.env["sale.order"].create(
            {
                "partner_id": self.anna.id,
                "order_line": [
                    Command.create({"product_id": self.desk.id, "product_uom_qty": 2})
                ],
            }
        )
        order.action_confirm()
        balance = order.balance_line_ids.balance_id
        self.assertTrue(balance)
        bookings = self.env.ref(
            "customer_balance.action_customer_balance_view_bookings"
        )
        action = bookings.with_context(
            active_model="customer.balance",
            active_id=balance.id,
            active_ids=balance.ids,
        ).run()
        self.assertEqual(action["res_model"], "sale.order")
        self.assertEqual(action.get("res_id"), order.id)
        self.assertEqual(
            order.action_view_balance_items()["res_model"], "customer.balance.line"
        )
        self.assertEqual(
            self.anna.action_view_balance_ledger()["res_model"],
            "customer.balance.ledger",
        )
        invoice = self.env["account.move"].browse(
            balance.action_consolidate()["res_id"]
        )
        self.assertEqual(invoice.balance_id, balance)
        self.assertEqual(invoice.balance_line_ids, balance.line_ids)
        self.assertEqual(balance.action_view_invoice()["res_id"], invoice.id)

    @freeze_time("2026-06-10 10:00:00")
    def test_items_list_filters(self):
        """The Balance Items list finds scheduled items apart from those of the
        upcoming invoice, with mass Move and Invoice Now at hand."""
        current = self._charge(self.anna, 30.0, "2026-06-05")
        scheduled = self._charge(self.anna, 40.0, "2026-07-20")
        search = self.Item.get_views([(False, "search")])["views"]["search"]["arch"]
        for name in ("scheduled", "upcoming", "due", "credits"):
            self.assertIn(f'name="{name}"', search)
        mine = [("partner_id", "=", self.anna.id)]
        self.assertEqual(
            self.Item.search(
                [
                    *mine,
                    ("state", "=", "pending"),
                    ("balance_id.is_scheduled", "=", True),
                ]
            ),
            scheduled,
        )
        self.assertEqual(
            self.Item.search(
                [
                    *mine,
                    ("state", "=", "pending"),
                    ("balance_id.is_scheduled", "=", False),
                ]
            ),
            current,
        )
        for xmlid in (
            "customer_balance.action_customer_balance_line_move",
            "customer_balance.action_customer_balance_line_invoice_now",
        ):
            server_action = self.env.ref(xmlid)
            self.assertEqual(server_action.binding_model_id.model, self.Item._name)
        invoice_action = scheduled.action_invoice_now()
        self.assertEqual(scheduled.state, "invoiced")
        self.assertEqual(invoice_action["res_model"], "account.move")


@tagged("post_install", "-at_install")
class TestLedger(WorkspaceCommon):
    """Seed 001's ledger: charges, credits and billings with the running balance."""

    def _rows(self, partner):
        # The ledger is a view: rows read earlier in the test may be stale.
        self.Ledger.invalidate_model()
        return [
            (str(row.date), row.kind, row.amount, row.running_balance)
            for row in self.Ledger.search([("partner_id", "=", partner.id)])
        ]

    def test_running_balance_after_charges_credits_and_billing(self):
        """Anna is charged 100 and 50 in June and credited 30; June is billed
        (120) on 3 July, the day the invoice is made; later that day she is
        charged 20. Newest first, the running balance is what was charged and not
        billed yet at each row."""
        with freeze_time("2026-06-12 10:00:00"):
            self._charge(self.anna, 100.0, "2026-06-05")
            self._charge(self.anna, 50.0, "2026-06-10")
            self._charge(self.anna, -30.0, "2026-06-12", name="Goodwill")
            self._charge(self.ben, 999.0, "2026-06-12")
        june = self.Balance.search([("partner_id", "=", self.anna.id)])
        with freeze_time("2026-07-03 10:00:00"):
            june.action_consolidate()
        with freeze_time("2026-07-03 11:00:00"):
            self._charge(self.anna, 20.0, "2026-07-03")
        self.env.flush_all()
        self.assertEqual(
            self._rows(self.anna),
            [
                ("2026-07-03", "charge", 20.0, 20.0),
                ("2026-07-03", "billed", -120.0, 0.0),
                ("2026-06-12", "credit", -30.0, 120.0),
                ("2026-06-10", "charge", 50.0, 150.0),
                ("2026-06-05", "charge", 100.0, 100.0),
            ],
        )
        billed = self.Ledger.search(
            [("partner_id", "=", self.anna.id), ("kind", "=", "billed")]
        )
        self.assertEqual(billed.invoice_id, june.invoice_id)
        self.assertEqual(billed.date, june.invoice_id.invoice_date)
        # The partner's ledger button shows the same rows, newest first.
        action = self.anna.action_view_balance_ledger()
        self.assertEqual(
            self.Ledger.search(action["domain"]),
            self.Ledger.search([("partner_id", "=", self.anna.id)]),
        )
        self.assertEqual(action["context"]["default_partner_id"], self.anna.id)

    def test_ledger_amounts_with_taxes_and_cancelled_invoice(self):
        """Amounts carry taxes (100 at 15% is 115); cancelling the consolidated
        invoice removes its billed row, the items count as unbilled again; a
        cancelled item never counts."""
        with freeze_time("2026-06-12 10:00:00"):
            item = self._item(
                self._balance(self.lisa), 100.0, service_date="2026-06-15"
            )
            dropped = self._charge(self.lisa, 70.0, "2026-06-13")
            dropped._waive()
        balance = item.balance_id
        with freeze_time("2026-07-01 10:00:00"):
            balance.action_consolidate()
        self.env.flush_all()
        self.assertEqual(
            self._rows(self.lisa),
            [
                ("2026-07-01", "billed", -115.0, 0.0),
                ("2026-06-15", "charge", 115.0, 115.0),
            ],
        )
        balance.invoice_id.button_cancel()
        self.env.flush_all()
        self.assertEqual(
            self._rows(self.lisa), [("2026-06-15", "charge", 115.0, 115.0)]
        )
        self.assertEqual(
            self.Ledger.search([("line_id", "=", item.id)]).state, "pending"
        )

    def test_partner_amount_due_next_to_the_ledger(self):
        """The tab shows Odoo's amount due (the posted, unpaid invoices) next to
        the unbilled total: billing moves the amount from one to the other."""
        self.company.balance_auto_post = True
        with freeze_time("2026-06-12 10:00:00"):
            self._charge(self.lisa, 80.0, "2026-06-05")
        self.assertAlmostEqual(self.lisa.balance_company_open_amount, 80.0)
        self.assertAlmostEqual(self.lisa.balance_amount_due, 0.0)
        with freeze_time("2026-07-01 10:00:00"):
            self.Balance.search(
                [("partner_id", "=", self.lisa.id)]
            ).action_consolidate()
        self.lisa.invalidate_recordset()
        self.assertAlmostEqual(self.lisa.balance_company_open_amount, 0.0)
        self.assertAlmostEqual(self.lisa.balance_amount_due, 80.0)


@tagged("post_install", "-at_install")
class TestReports(WorkspaceCommon):
    """The balance statement and the consolidated invoice, rendered as HTML."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_grouping = "company"

    def _html(self, report, records):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            report, records.ids
        )
        return html.decode()

    def _text(self, html):
        """The rendered HTML as plain text, spaces collapsed."""
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    def _figma_june(self):
        """Anna books two desk days (100 and 60), Ben one (40): Figma's June
        balance, 200 before a 15% tax."""
        with freeze_time("2026-06-12 10:00:00"):
            for partner, price, day in (
                (self.anna, 100.0, "2026-06-03"),
                (self.anna, 60.0, "2026-06-04"),
                (self.ben, 40.0, "2026-06-10"),
            ):
                self.Item.create(
                    {
                        "partner_id": partner.id,
                        "name": f"Desk day {day}",
                        "price_unit": price,
                        "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        "service_date": day,
                    }
                )
        return self.Balance.search([("partner_id", "=", self.figma.id)])

    @freeze_time("2026-06-20 10:00:00")
    def test_statement_of_an_open_balance(self):
        """The statement lists the period, the items per contact with their
        subtotals, the totals and the date of the coming invoice."""
        balance = self._figma_june()
        self.assertAlmostEqual(balance.amount_total, 230.0)
        text = self._text(
            self._html("customer_balance.action_report_balance_statement", balance)
        )
        self.assertIn("Balance Statement", text)
        self.assertIn(balance.name, text)
        self.assertIn("06/01/2026 – 06/30/2026", text)
        # Per contact, in the order of the invoice sections, with subtotals.
        self.assertRegex(text, r"Anna Figma \D*160\.00")
        self.assertRegex(text, r"Ben Figma \D*40\.00")
        self.assertLess(text.index("Anna Figma"), text.index("Ben Figma"))
        for day in ("2026-06-03", "2026-06-04", "2026-06-10"):
            self.assertIn(f"Desk day {day}", text)
        self.assertRegex(text, r"Untaxed Amount \D*200\.00")
        self.assertRegex(text, r"Taxes \D*30\.00")
        self.assertRegex(text, r"Total \D*230\.00")
        self.assertIn("Invoice Date 07/01/2026", text)

    @freeze_time("2026-07-01 10:00:00")
    def test_consolidated_invoice_and_statement_after_billing(self):
        """The consolidated invoice keeps Odoo's layout with a section per
        contact, and says which balance and period it bills; the statement of the
        billed balance shows the billed items and the invoice's total."""
        balance = self._figma_june()
        balance.action_consolidate()
        invoice = balance.invoice_id
        self.assertAlmostEqual(invoice.amount_total, 230.0)
        html = self._html("account.account_invoices", invoice)
        text = self._text(html)
        self.assertIn('name="balance_period"', html)
        self.assertIn("Billing Period 06/01/2026 – 06/30/2026", text)
        self.assertIn(balance.name, text)
        # Odoo's section lines: per contact with the section subtotal.
        self.assertIn("o_line_section", html)
        self.assertLess(text.index("Anna Figma"), text.index("Ben Figma"))
        self.assertIn("Desk day 2026-06-10", text)
        self.assertRegex(text, r"Total \D*230\.00")

        statement = self._text(
            self._html("customer_balance.action_report_balance_statement", balance)
        )
        self.assertIn(invoice.name or "", statement)
        self.assertRegex(statement, r"Total \D*230\.00")
        self.assertRegex(statement, r"Anna Figma \D*160\.00")

    def test_invoice_without_balance_unchanged(self):
        """An ordinary invoice renders without the balance block."""
        invoice = self.init_invoice(
            "out_invoice", partner=self.lisa, amounts=[50.0], post=True
        )
        html = self._html("account.account_invoices", invoice)
        self.assertNotIn('name="balance_period"', html)
        self.assertNotIn("Billing Period", html)
