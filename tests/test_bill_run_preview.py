# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CustomerBalanceCommon

RUN_LOGGER = "odoo.addons.customer_balance.models.customer_balance_run"
# What the run record calls each outcome of the preview.
RUN_OUTCOME = {
    "bill": "billed",
    "carry": "carried",
    "fail": "failed",
    "close": "closed",
}


@tagged("post_install", "-at_install")
class TestBillRunPreview(CustomerBalanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Preview = cls.env["customer.balance.run.preview"]
        cls.members = cls.env["res.partner"].create(
            [
                {"name": f"Member {number}", "email": f"member{number}@example.org"}
                for number in range(1, 4)
            ]
        )
        cls.cron = cls.env.ref("customer_balance.ir_cron_consolidate_due")

    # === HELPERS === #

    def _preview(self, day):
        """The bill run preview of ``day``, computed."""
        wizard = self.Preview.create({"date": day})
        wizard.action_compute()
        return wizard

    def _outcomes(self, wizard):
        """``{balance: (outcome, reason)}`` of a computed preview."""
        return {
            line.balance_id: (line.outcome, line.reason or "")
            for line in wizard.line_ids
        }

    def _mixed_balances(self):
        """The June balances of the run of 1 July, minimum invoice 50.00,
        invoices posted and e-mailed: Anna's 138.00 is billed, Lisa's 34.50
        carried into July, Member 1's booking and goodwill credit net to zero,
        Member 2 has no e-mail (the invoice could not be sent) and Member 3's
        balance already has a consolidated invoice in draft (imported, say)."""
        self.company.write(
            {
                "balance_min_amount": 50.0,
                "balance_auto_post": True,
                "balance_auto_send": True,
            }
        )
        anna = self._balance(self.anna)
        self._item(anna, 100.0)
        self._item(anna, 20.0)
        lisa = self._balance(self.lisa)
        self._item(lisa, 30.0)
        netted = self._balance(self.members[0])
        self._item(netted, 100.0)
        self._item(netted, -100.0)
        self.members[1].email = False
        no_email = self._balance(self.members[1])
        self._item(no_email, 100.0)
        drafted = self._balance(self.members[2])
        self._item(drafted, 100.0)
        draft = self.Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.members[2].id,
                "balance_id": drafted.id,
            }
        )
        return anna, lisa, netted, no_email, drafted, draft

    # === WHAT IT SAYS IS WHAT THE RUN DOES === #

    def test_preview_then_run_agree(self):
        """On 1 July the accountant previews the day's run: Anna billed for
        138.00, Lisa carried over (below 50.00), Member 1 closed (nets to zero),
        Member 2 failing (no e-mail to send the invoice to), Member 3 failing (a
        draft consolidated invoice is already there). The run then does exactly
        that, with the same reasons, and bills Anna the amount previewed."""
        anna, lisa, netted, no_email, drafted, draft = self._mixed_balances()
        with freeze_time("2026-07-01 08:00:00"):
            wizard = self._preview(date(2026, 7, 1))
            outcomes = self._outcomes(wizard)
            self.assertEqual(
                {balance: outcome for balance, (outcome, _r) in outcomes.items()},
                {
                    anna: "bill",
                    lisa: "carry",
                    netted: "close",
                    no_email: "fail",
                    drafted: "fail",
                },
            )
            self.assertIn("minimum invoice amount", outcomes[lisa][1])
            self.assertIn("No invoice address with an e-mail", outcomes[no_email][1])
            self.assertIn(draft.display_name, outcomes[drafted][1])
            self.assertIn("net to zero", outcomes[netted][1])
            anna_line = wizard.line_ids.filtered(lambda line: line.balance_id == anna)
            self.assertEqual(anna_line.amount_total, 138.0)
            self.assertEqual(anna_line.currency_id, self.currency)
            self.assertEqual(
                (
                    wizard.bill_count,
                    wizard.carry_count,
                    wizard.fail_count,
                    wizard.close_count,
                ),
                (1, 1, 2, 1),
            )

            with mute_logger(RUN_LOGGER):
                run = self._bill_run()

        done = {line.balance_id: line for line in run.line_ids}
        self.assertEqual(set(done), set(outcomes))
        for balance, (outcome, reason) in outcomes.items():
            self.assertEqual(done[balance].outcome, RUN_OUTCOME[outcome], balance.name)
            if outcome == "fail":
                self.assertEqual(done[balance].error, reason)
                self.assertEqual(balance.billing_error, reason)
        self.assertEqual(anna.invoice_id.amount_total, anna_line.amount_total)
        self.assertEqual(anna.invoice_id.state, "posted")
        self.assertEqual(lisa.state, "cancel")
        self.assertFalse(no_email.invoice_id)

    def test_preview_changes_nothing(self):
        """Previewing creates no invoice, no item, no balance (not even the July
        balance a carry-over would go to), uses no number of the balances' or
        the invoices' sequences, and changes no state nor any balance."""
        balances = self._mixed_balances()[:5]
        # An invoice posted before: the next one would take the next number.
        with freeze_time("2026-06-20 08:00:00"):
            posted = self._balance(self.ben, month=5)
            self._item(posted, 10.0)
            posted.action_consolidate()
        self.assertTrue(posted.invoice_id.name.startswith("INV"))
        sequence = self.env["ir.sequence"].search([("code", "=", "customer.balance")])

        def snapshot():
            self.env.invalidate_all()
            return {
                "moves": self.Move.search_count([]),
                "move_names": self.Move.search([], order="id").mapped("name"),
                "balances": self.Balance.search_count([]),
                "items": self.env["customer.balance.line"].search_count([]),
                "balance_number": sequence.number_next_actual,
                "states": [
                    (b.state, b.write_date, b.billing_error, b.amount_total)
                    for b in self.Balance.search([], order="id")
                ],
                "item_states": self.env["customer.balance.line"]
                .search([], order="id")
                .mapped("state"),
                "messages": self.env["mail.message"].search_count(
                    [("model", "=", "customer.balance")]
                ),
            }

        before = snapshot()
        with freeze_time("2026-07-01 08:00:00"):
            wizard = self._preview(date(2026, 7, 1))
        self.assertEqual(len(wizard.line_ids), len(balances))
        self.assertEqual(snapshot(), before)

    def test_preview_of_another_day(self):
        """On 20 June nothing is due: the preview of today lists nothing; the
        preview of 1 July lists the June balances, as the run of 1 July takes
        them. A preview of 30 June does not (June is not over yet)."""
        june = self._balance(self.anna)
        self._item(june, 100.0)
        with freeze_time("2026-06-20 08:00:00"):
            self.assertFalse(self._preview(date(2026, 6, 20)).line_ids)
            self.assertFalse(self._preview(date(2026, 6, 30)).line_ids)
            wizard = self._preview(date(2026, 7, 1))
            self.assertEqual(wizard.line_ids.balance_id, june)
            self.assertEqual(wizard.line_ids.outcome, "bill")

    def test_default_date_is_next_bill_run(self):
        """The preview proposes the day of the next scheduled run in the
        company's time zone: a run at 22:30 UTC on 30 June is on 1 July in
        Berlin. When the run is overdue it is today; switched off, today."""
        self.cron.nextcall = datetime(2026, 6, 30, 22, 30)
        with freeze_time("2026-06-30 12:00:00"):
            self.assertEqual(Form(self.Preview).date, date(2026, 7, 1))
        with freeze_time("2026-07-03 12:00:00"):
            self.assertEqual(Form(self.Preview).date, date(2026, 7, 3))
        self.cron.active = False
        with freeze_time("2026-06-30 12:00:00"):
            self.assertEqual(Form(self.Preview).date, date(2026, 6, 30))

    # === WHAT IT SHOWS === #

    def test_archived_customer_and_lock_date_notes(self):
        """Anna was archived and the books are locked until 15 July: her balance
        is billed all the same, dated 16 July, and the preview says both."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        self.anna.action_archive()
        self.company.sudo().fiscalyear_lock_date = date(2026, 7, 15)
        with freeze_time("2026-07-01 08:00:00"):
            wizard = self._preview(date(2026, 7, 1))
            self.assertEqual(wizard.line_ids.outcome, "bill")
            self.assertIn("archived", wizard.line_ids.reason)
            self.assertIn("07/16/2026", wizard.line_ids.reason)
            self._bill_run()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id.invoice_date, date(2026, 7, 16))

    def test_product_without_income_account_fails(self):
        """A product with no income account anywhere (product, category,
        company) while the sales journal has no default account either: the
        invoice line would have no account. The preview says so, the run fails
        the balance with the same reason and creates nothing."""
        product = self._create_product(name="Unaccounted room", lst_price=50.0)
        product.categ_id = self.env["product.category"].create({"name": "Bare"})
        product.property_account_income_id = False
        self.company.income_account_id = False
        journals = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "sale")]
        )
        journals.default_account_id = False
        balance = self._balance(self.anna)
        self._item(balance, 100.0, product_id=product.id, name="Room")
        with freeze_time("2026-07-01 08:00:00"):
            line = self._preview(date(2026, 7, 1)).line_ids
            self.assertEqual(line.outcome, "fail")
            self.assertIn("Unaccounted room", line.reason)
            with mute_logger(RUN_LOGGER):
                run = self._bill_run()
        self.assertEqual(run.line_ids.outcome, "failed")
        self.assertEqual(run.line_ids.error, line.reason)
        self.assertFalse(self.Move.search([("balance_id", "=", balance.id)]))

    def test_totals_per_currency(self):
        """Balances in euros and in the company's currency: the totals say per
        currency what would be billed, carried over or fail, with counts."""
        euro = self.setup_other_currency("EUR")
        for partner, price in ((self.anna, 100.0), (self.lisa, 200.0)):
            self._item(self._balance(partner), price)
        self._item(self._balance(self.ben, currency_id=euro.id), 300.0)
        with freeze_time("2026-07-01 08:00:00"):
            wizard = self._preview(date(2026, 7, 1))
        totals = dict(wizard._get_totals())
        self.assertEqual(totals[self.currency]["bill"], (2, 345.0))
        self.assertEqual(totals[euro]["bill"], (1, 345.0))
        self.assertIn("EUR", wizard.totals_html)
        self.assertIn("345.00", wizard.totals_html)

    def test_lines_open_as_a_list_to_filter_and_export(self):
        """*Open as List* shows the previewed balances in a list of their own,
        filtered on this preview, that can be grouped by outcome and exported."""
        self.company.balance_min_amount = 50.0
        self._item(self._balance(self.anna), 100.0)
        self._item(self._balance(self.lisa), 10.0)
        with freeze_time("2026-07-01 08:00:00"):
            wizard = self._preview(date(2026, 7, 1))
        action = wizard.action_view_lines()
        Line = self.env[action["res_model"]]
        lines = Line.search(action["domain"])
        self.assertEqual(lines, wizard.line_ids)
        groups = dict(Line._read_group(action["domain"], ["outcome"], ["__count"]))
        self.assertEqual(groups, {"bill": 1, "carry": 1})
        exported = lines.export_data(["balance_id", "outcome", "amount_total"])
        self.assertEqual(len(exported["datas"]), 2)

    def test_queries_do_not_grow_with_balances(self):
        """The preview reads the stored totals and decides for the whole set at
        once: previewing 12 balances takes no more queries than previewing 3."""
        partners = self.env["res.partner"].create(
            [{"name": f"Bench {n}", "email": f"b{n}@example.org"} for n in range(12)]
        )
        for partner in partners[:3]:
            self._item(self._balance(partner), 100.0)
        counts = []
        with freeze_time("2026-07-01 08:00:00"):
            for extra in (partners[3:3], partners[3:]):
                for partner in extra:
                    self._item(self._balance(partner), 100.0)
                wizard = self.Preview.create({"date": date(2026, 7, 1)})
                self.env.flush_all()
                self.env.invalidate_all()
                start = self.env.cr.sql_log_count
                wizard.action_compute()
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - start)
        self.assertEqual(len(wizard.line_ids), 12)
        self.assertLessEqual(counts[1], counts[0] + 2, counts)
