# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import threading
import time
from contextlib import closing
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

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
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with closing(self._cursor()) as cr:
            env = self._env(cr)
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
            env.invalidate_all()
            env["res.partner"].browse(self.partner_ids).unlink()
            settings = dict(self.saved_settings)
            settings.pop("id")
            env["res.company"].browse(self.company_id).write(settings)
            cr.commit()  # pylint: disable=invalid-commit

    def test_two_bill_runs_at_once_bill_each_balance_once(self):
        """Two workers start the bill run at the same moment; billing is slowed down
        so that they overlap. Each balance gets exactly one consolidated invoice and
        each item is invoiced once."""
        Balance = Registry(get_db_name())["customer.balance"]
        original = Balance._bill_due
        start = threading.Barrier(2)
        errors = []
        billed_by = {}

        def slow_bill_due(balance):
            time.sleep(0.2)
            billed_by.setdefault(balance.id, []).append(threading.current_thread().name)
            return original(balance)

        def worker():
            try:
                with closing(self._cursor()) as cr:
                    env = self._env(cr)
                    start.wait(timeout=30)
                    env["customer.balance"]._cron_consolidate_due(batch_size=50)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        with patch.object(Balance, "_bill_due", slow_bill_due):
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
