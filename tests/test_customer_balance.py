# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestCustomerBalance(CustomerBalanceCommon):
    def test_name_from_sequence(self):
        """Each balance gets the next number of the balance sequence."""
        first = self._balance(self.anna)
        second = self._balance(self.ben)
        self.assertRegex(first.name, r"^BAL/\d{4}/\d{5}$")
        self.assertNotEqual(first.name, second.name)
        self.assertEqual(int(second.name[-5:]), int(first.name[-5:]) + 1)

    def test_one_open_balance_per_period_in_database(self):
        """A second open balance for the same partner, company, currency and period
        is rejected by the database itself, not only by Python code."""
        self._balance(self.anna)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self.env.cr.execute(
                    """
                    INSERT INTO customer_balance (name, partner_id, company_id,
                        currency_id, period_type, period_start, state)
                    VALUES ('dup', %s, %s, %s, 'month', '2026-06-01', 'open')
                    """,
                    [self.anna.id, self.company.id, self.currency.id],
                )

    def test_one_open_balance_per_period_through_orm(self):
        """Through the ORM the duplicate fails too, and the user reads why."""
        self._balance(self.anna)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError) as caught:
            with self.cr.savepoint():
                self._balance(self.anna)
                self.env.flush_all()
        message = self.env["customer.balance"]._sql_error_to_message(caught.exception)
        self.assertIn("one open balance per company, currency and period", message)

    def test_open_balance_uniqueness_scope(self):
        """Other partners, other periods, closed balances and manual balances (no
        period) each follow the rule on their own."""
        june = self._balance(self.anna)
        self._balance(self.ben)
        self._balance(self.anna, period_start="2026-07-01", period_end="2026-07-31")
        june._cancel("Closed")
        june.flush_recordset()
        self._balance(self.anna)  # June again, the first one is no longer open
        self._balance(
            self.anna,
            period_type="manual",
            period_start=False,
            period_end=False,
            billing_date=False,
        )
        self.env.flush_all()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self._balance(
                    self.anna,
                    period_type="manual",
                    period_start=False,
                    period_end=False,
                    billing_date=False,
                )
                self.env.flush_all()

    def test_period_end_before_start_refused(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self._balance(self.anna, period_end="2026-05-01")
                self.env.flush_all()

    def test_totals_from_pending_items(self):
        """The totals are the tax engine's over the pending items; cancelled items and
        credits count as they should."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        self._item(balance, 50.0, partner=self.ben)
        credit = self._item(balance, -30.0)
        cancelled = self._item(balance, 999.0)
        cancelled._waive()
        tax_rate = self.tax_sale_a.amount / 100
        self.assertAlmostEqual(balance.amount_untaxed, 120.0)
        self.assertAlmostEqual(balance.amount_tax, round(120.0 * tax_rate, 2))
        self.assertAlmostEqual(balance.amount_total, 120.0 + round(120.0 * tax_rate, 2))
        self.assertEqual(balance.item_count, 3)
        self.assertAlmostEqual(credit.price_subtotal, -30.0)
        credit.unlink()
        self.assertAlmostEqual(balance.amount_untaxed, 150.0)
        self.assertEqual(balance.item_count, 2)

    def test_is_scheduled(self):
        """A balance whose period has not started yet is scheduled, in the company's
        time zone: on 31 May 23:30 in Berlin (21:30 UTC) June has not begun."""
        june = self._balance(self.anna)
        may = self._balance(
            self.anna, period_start="2026-05-01", period_end="2026-05-31"
        )
        Balance = self.env["customer.balance"]
        with freeze_time("2026-05-31 21:30:00"):
            june.invalidate_recordset(["is_scheduled"])
            self.assertTrue(june.is_scheduled)
            self.assertFalse(may.is_scheduled)
            scheduled = Balance.search(
                [("is_scheduled", "=", True), ("id", "in", (june + may).ids)]
            )
            self.assertEqual(scheduled, june)
        with freeze_time("2026-05-31 22:30:00"):  # 00:30 on 1 June in Berlin
            june.invalidate_recordset(["is_scheduled"])
            self.assertFalse(june.is_scheduled)
            scheduled = Balance.search(
                [("is_scheduled", "=", True), ("id", "in", (june + may).ids)]
            )
            self.assertFalse(scheduled)

    def test_invoiced_balance_cannot_be_deleted(self):
        balance = self._balance(self.anna)
        balance._consolidate()  # nothing to bill: closed as invoiced
        with self.assertRaisesRegex(UserError, "invoiced cannot be deleted"):
            balance.unlink()

    def test_state_changes_tracked_in_chatter(self):
        """State changes are visible to the accountant in the chatter."""
        tracked_env = self.env(
            context=dict(self.env.context, tracking_disable=False, mail_notrack=False)
        )
        balance = tracked_env["customer.balance"].create(
            {
                "partner_id": self.anna.id,
                "period_start": "2026-06-01",
                "period_end": "2026-06-30",
            }
        )
        self.env.cr.flush()
        balance._cancel("Closed")
        self.env.flush_all()
        self.env.cr.flush()  # tracking values are written before commit
        tracked = balance.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "state" and value.old_value_char
        )
        self.assertEqual(tracked.old_value_char, "Open")
        self.assertEqual(tracked.new_value_char, "Cancelled")

    def test_form_and_menu(self):
        """The balance form shows the items and totals; the menu sits under
        Invoicing > Customers."""
        balance = self._balance(self.anna)
        self._item(balance, 80.0)
        form = Form(balance)
        self.assertEqual(len(form.line_ids), 1)
        self.assertAlmostEqual(form.amount_untaxed, 80.0)
        menu = self.env.ref("customer_balance.menu_customer_balance")
        self.assertEqual(
            menu.parent_id, self.env.ref("account.menu_finance_receivables")
        )
        self.assertEqual(
            menu.action, self.env.ref("customer_balance.action_customer_balance")
        )

    def test_partner_open_amount(self):
        """The partner's open balance sums its open balances of the company."""
        june = self._balance(self.anna)
        july = self._balance(
            self.anna, period_start="2026-07-01", period_end="2026-07-31"
        )
        self._item(june, 100.0, tax_ids=[Command.clear()])
        self._item(july, 50.0, tax_ids=[Command.clear()])
        done = self._balance(
            self.anna, period_start="2026-04-01", period_end="2026-04-30"
        )
        self._item(done, 1000.0, tax_ids=[Command.clear()])
        done._cancel("Closed")
        self.assertEqual(self.anna.balance_count, 3)
        self.assertAlmostEqual(self.anna.balance_open_amount, 150.0)
        found = self.env["res.partner"].search(
            [
                ("balance_open_amount", ">", 100.0),
                ("id", "in", (self.anna + self.ben).ids),
            ]
        )
        self.assertEqual(found, self.anna)

    def test_every_balance_view_loads(self):
        """List, kanban (grouped by state), form, pivot and graph views load, and
        the Balance Items menu opens the items."""
        views = self.env["customer.balance"].get_views(
            [(False, kind) for kind in ("list", "kanban", "form", "pivot", "graph")]
        )["views"]
        self.assertEqual(set(views), {"list", "kanban", "form", "pivot", "graph"})
        self.assertIn('default_group_by="state"', views["kanban"]["arch"])
        menu = self.env.ref("customer_balance.menu_customer_balance_line")
        self.assertEqual(
            menu.action, self.env.ref("customer_balance.action_customer_balance_line")
        )
