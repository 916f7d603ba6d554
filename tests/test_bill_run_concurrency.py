# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import threading
import time
from contextlib import closing
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import date_utils


@tagged("post_install", "-at_install")
class TestBillRunConcurrency(BaseCase):
    """Two bill runs on two real database connections at the same time bill each
    balance exactly once. The data is committed (other connections must see it) and
    removed again at the end."""

    BALANCES = 6

    def _cursor(self):
        """A real connection of its own, outside any test transaction."""
        return sql_db.db_connect(get_db_name()).cursor()

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def setUp(self):
        super().setUp()
        with closing(self._cursor()) as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            self.saved_settings = company.read(
                ["balance_enabled", "balance_period", "balance_billing_delay"]
            )[0]
            company.write(
                {
                    "balance_enabled": True,
                    "balance_period": "month",
                    "balance_billing_delay": 0,
                }
            )
            today = company._balance_today()
            last_month = date_utils.start_of(today - relativedelta(months=1), "month")
            partners = env["res.partner"].create(
                [{"name": f"Concurrent {n}"} for n in range(self.BALANCES)]
            )
            env["customer.balance.line"].create(
                [
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "currency_id": company.currency_id.id,
                        "name": f"Desk day {day}",
                        "price_unit": 10.0 * (day + 1),
                        "service_date": last_month + relativedelta(days=day),
                        "tax_ids": [Command.clear()],
                    }
                    for partner in partners
                    for day in range(3)
                ]
            )
            cr.commit()  # pylint: disable=invalid-commit
            self.partner_ids = partners.ids
            self.company_id = company.id
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM customer_balance_run")
            self.last_run_id = cr.fetchone()[0]
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with closing(self._cursor()) as cr:
            env = self._env(cr)
            orders = env["sale.order"].search([("partner_id", "in", self.partner_ids)])
            if orders:
                invoices = orders.invoice_ids
                invoices.filtered(lambda move: move.state == "posted").button_draft()
                cr.execute(
                    "DELETE FROM customer_balance_line WHERE sale_line_id IN %s",
                    [tuple(orders.order_line.ids)],
                )
                env.invalidate_all()
                orders._action_cancel()
                orders.unlink()
            balances = env["customer.balance"].search(
                [("partner_id", "in", self.partner_ids)]
            )
            invoices = env["account.move"].search([("balance_id", "in", balances.ids)])
            if balances:
                cr.execute(
                    "DELETE FROM customer_balance_line WHERE balance_id IN %s",
                    [tuple(balances.ids)],
                )
            invoices.filtered(lambda move: move.state == "posted").button_draft()
            invoices.unlink()
            if balances:
                cr.execute(
                    "DELETE FROM customer_balance WHERE id IN %s", [tuple(balances.ids)]
                )
            # The bill run records of the two runs (their outcomes go with them).
            cr.execute(
                "DELETE FROM customer_balance_run WHERE id > %s", [self.last_run_id]
            )
            env.invalidate_all()
            env["res.partner"].browse(self.partner_ids).unlink()
            env["ir.config_parameter"].set_param(
                "customer_balance.bill_run_invoice_batch_size", False
            )
            settings = dict(self.saved_settings)
            settings.pop("id")
            env["res.company"].browse(self.company_id).write(settings)
            cr.commit()  # pylint: disable=invalid-commit

    def test_two_bill_runs_at_once_bill_each_balance_once(self):
        """Two workers start the bill run at the same moment, billing batches of
        two balances; billing is slowed down so that they overlap. Each balance
        gets exactly one consolidated invoice and each item is invoiced once."""
        with closing(self._cursor()) as cr:
            params = self._env(cr)["ir.config_parameter"]
            params.set_param("customer_balance.bill_run_invoice_batch_size", "2")
            cr.commit()  # pylint: disable=invalid-commit
        Run = Registry(get_db_name())["customer.balance.run"]
        original = Run._bill_locked_balances
        start = threading.Barrier(2)
        errors = []
        billed_by = {}

        def slow_bill_due(run, balances):
            time.sleep(0.2)
            for balance in balances:
                billed_by.setdefault(balance.id, []).append(
                    threading.current_thread().name
                )
            return original(run, balances)

        def worker():
            try:
                with closing(self._cursor()) as cr:
                    env = self._env(cr)
                    start.wait(timeout=30)
                    env["customer.balance"]._cron_consolidate_due(batch_size=50)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        with patch.object(Run, "_bill_locked_balances", slow_bill_due):
            threads = [
                threading.Thread(target=worker, name=f"worker-{n}") for n in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertFalse(errors)

        with closing(self._cursor()) as cr:
            env = self._env(cr)
            balances = env["customer.balance"].search(
                [("partner_id", "in", self.partner_ids)]
            )
            self.assertEqual(len(balances), self.BALANCES)
            self.assertEqual(set(balances.mapped("state")), {"invoiced"})
            invoices = env["account.move"].search([("balance_id", "in", balances.ids)])
            self.assertEqual(len(invoices), self.BALANCES)
            self.assertEqual(invoices.balance_id, balances)
            items = balances.line_ids
            self.assertEqual(len(items), 3 * self.BALANCES)
            self.assertEqual(set(items.mapped("state")), {"invoiced"})
            self.assertEqual(len(items.invoice_line_id), len(items))
            for balance in balances:
                self.assertEqual(balance.invoice_id.amount_total, 60.0)
        # Both workers billed, and each balance was billed by one worker only.
        workers = {name for names in billed_by.values() for name in names}
        self.assertEqual(workers, {"worker-0", "worker-1"})
        self.assertEqual(
            sorted(len(workers) for workers in billed_by.values()),
            [1] * self.BALANCES,
        )

    # === AN ITEM ADDED WHILE THE BILL RUN BILLS ITS BALANCE === #

    def _add_charge(self, env, kind, amount):
        """Record a charge for the first partner's due balance (last month): a
        manual item of ``amount`` (0.00 included), or a booking whose service
        started last month."""
        company = env["res.company"].browse(self.company_id)
        day = date_utils.start_of(
            company._balance_today() - relativedelta(months=1), "month"
        ) + relativedelta(days=10)
        partner = env["res.partner"].browse(self.partner_ids[0])
        if kind == "order":
            product = env["product.product"].create(
                {
                    "name": "Concurrent desk",
                    "type": "service",
                    "list_price": amount,
                    "invoice_policy": "order",
                    "taxes_id": [Command.clear()],
                    "balance_invoice_timing": "start",
                }
            )
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": amount,
                                "service_start": f"{day} 09:00:00",
                            }
                        )
                    ],
                }
            )
            order.action_confirm()
            return order.order_line.balance_line_ids
        return env["customer.balance.line"].create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "name": "Late charge",
                "price_unit": amount,
                "service_date": day,
                "tax_ids": [Command.clear()],
            }
        )

    def _due_balance_id(self):
        with closing(self._cursor()) as cr:
            env = self._env(cr)
            return (
                env["customer.balance"]
                .search(
                    [("partner_id", "=", self.partner_ids[0]), ("state", "=", "open")]
                )
                .id
            )

    def _bill_run(self):
        with closing(self._cursor()) as cr:
            self._env(cr)["customer.balance"]._cron_consolidate_due(batch_size=50)
            cr.commit()  # pylint: disable=invalid-commit

    def _check_outcome(self, item_id, balance_id):
        """The item is on the balance's invoice, or pending on an open balance;
        never pending on a billed balance."""
        with closing(self._cursor()) as cr:
            env = self._env(cr)
            item = env["customer.balance.line"].browse(item_id)
            balance = env["customer.balance"].browse(balance_id)
            self.assertEqual(balance.state, "invoiced")
            if item.state == "invoiced":
                self.assertEqual(item.invoice_id, balance.invoice_id)
            else:
                self.assertEqual(item.state, "pending")
                self.assertEqual(item.balance_id.state, "open")
                self.assertNotEqual(item.balance_id, balance)
            cr.execute(
                """SELECT count(*) FROM customer_balance_line line
                     JOIN customer_balance balance ON balance.id = line.balance_id
                    WHERE line.state = 'pending' AND balance.state != 'open'"""
            )
            self.assertEqual(cr.fetchone()[0], 0)
            return item.state

    def _race_bill_run_commits_first(self, kind, amount):
        """The charge's transaction starts (sees the balance open), the bill run
        bills and commits, then the charge is recorded and committed: its write
        on the balance row fails with a serialization error, the request is
        retried (as Odoo retries it) and the item waits on an open balance."""
        balance_id = self._due_balance_id()
        started, billed = threading.Event(), threading.Event()
        result, failures = {}, []

        def charge():
            try:
                for _attempt in range(3):
                    with closing(self._cursor()) as cr:
                        env = self._env(cr)
                        # Reading starts the transaction: its snapshot sees the
                        # balance open.
                        result["seen"] = (
                            env["customer.balance"].browse(balance_id).state
                        )
                        started.set()
                        billed.wait(timeout=60)
                        try:
                            result["item"] = self._add_charge(env, kind, amount).id
                            env.flush_all()
                            cr.commit()  # pylint: disable=invalid-commit
                            return
                        except pg_errors.SerializationFailure:
                            result["retried"] = True
                            cr.rollback()
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(error)

        def bill_run():
            try:
                started.wait(timeout=60)
                self._bill_run()
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(error)
            finally:
                billed.set()

        threads = [threading.Thread(target=charge), threading.Thread(target=bill_run)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(failures)
        self.assertTrue(result.get("retried"), "the stale charge was not refused")
        self.assertEqual(self._check_outcome(result["item"], balance_id), "pending")

    def _race_charge_commits_first(self, kind, amount):
        """The charge is recorded (its transaction holds the balance row) while
        the bill run runs: the bill run skips the locked balance; once the charge
        is committed, the next bill run bills it with the item on the invoice."""
        balance_id = self._due_balance_id()
        added, billed = threading.Event(), threading.Event()
        result, failures = {}, []

        def charge():
            try:
                with closing(self._cursor()) as cr:
                    env = self._env(cr)
                    result["item"] = self._add_charge(env, kind, amount).id
                    env.flush_all()
                    added.set()
                    billed.wait(timeout=60)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(error)
            finally:
                added.set()

        def bill_run():
            try:
                added.wait(timeout=60)
                self._bill_run()
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(error)
            finally:
                billed.set()

        threads = [threading.Thread(target=charge), threading.Thread(target=bill_run)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(failures)
        with closing(self._cursor()) as cr:
            balance = self._env(cr)["customer.balance"].browse(balance_id)
            self.assertEqual(balance.state, "open", "billed without the new item")
        self._bill_run()
        self.assertEqual(self._check_outcome(result["item"], balance_id), "invoiced")

    def test_zero_charge_while_billing_bill_run_first(self):
        """A 0.00 charge (no stored total changes) recorded on a stale view of the
        balance the bill run just billed: it ends pending on an open balance."""
        self._race_bill_run_commits_first("manual", 0.0)

    def test_zero_charge_while_billing_charge_first(self):
        """A 0.00 charge committed while the bill run runs: it ends on the
        invoice."""
        self._race_charge_commits_first("manual", 0.0)

    def test_charge_while_billing_bill_run_first(self):
        """A 12.50 charge, bill run first: pending on an open balance."""
        self._race_bill_run_commits_first("manual", 12.5)

    def test_order_confirmed_while_billing_bill_run_first(self):
        """An order confirmed on a stale view of the balance the bill run just
        billed: its item ends pending on an open balance."""
        self._race_bill_run_commits_first("order", 40.0)

    def test_order_confirmed_while_billing_order_first(self):
        """An order confirmed (not yet committed) while the bill run runs: the
        balance is billed afterwards with the booking on its invoice."""
        self._race_charge_commits_first("order", 40.0)

    def test_two_charges_at_once_keep_the_sums(self):
        """Two requests add a charge to the same open balance at the same time:
        the second waits for the first's lock on the balance row, fails to
        serialize and is retried (as Odoo retries it); both charges are on the
        balance once, its sums are those of its items and its total their
        sum."""
        balance_id = self._due_balance_id()
        ready = threading.Barrier(2, timeout=60)
        result, failures = {"retried": 0, "items": []}, []

        def charge(amount):
            try:
                for attempt in range(3):
                    with closing(self._cursor()) as cr:
                        env = self._env(cr)
                        # Reading starts the transaction: both see the balance
                        # as it is before either charge.
                        result.setdefault("seen", []).append(
                            env["customer.balance"].browse(balance_id).item_count
                        )
                        if not attempt:
                            ready.wait()
                        try:
                            item = self._add_charge(env, "manual", amount)
                            env.flush_all()
                            if not attempt:
                                time.sleep(0.5)
                            cr.commit()  # pylint: disable=invalid-commit
                            result["items"].append(item.id)
                            return
                        except pg_errors.SerializationFailure:
                            result["retried"] += 1
                            cr.rollback()
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(error)

        threads = [
            threading.Thread(target=charge, args=(amount,)) for amount in (12.5, 7.25)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(failures)
        self.assertEqual(len(result["items"]), 2)
        self.assertGreaterEqual(result["retried"], 1)
        with closing(self._cursor()) as cr:
            env = self._env(cr)
            balance = env["customer.balance"].browse(balance_id)
            items = env["customer.balance.line"].browse(result["items"])
            self.assertEqual(items.balance_id, balance)
            self.assertEqual(balance.item_count, 3 + 2)
            self.assertFalse(
                balance.currency_id.compare_amounts(
                    balance.amount_total, 10.0 + 20.0 + 30.0 + 12.5 + 7.25
                ),
                balance.amount_total,
            )
            kept = balance._read_pending_sums()[balance.id]
            balance._recount_pending_sums()
            self.assertEqual(kept, balance._read_pending_sums()[balance.id])
            cr.rollback()
