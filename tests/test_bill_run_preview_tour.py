# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo.tests import HttpCase, tagged

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestBillRunPreviewTour(CustomerBalanceTestMixin, HttpCase):
    def test_accountant_previews_the_bill_run(self):
        """An accountant opens Customers ▸ Bill Run Preview: the next run's day is
        proposed; Preview lists the member's due balance as billed for 130.00
        with the totals; Open as List shows it in a list grouped by outcome.
        Nothing was billed."""
        company = self._setup_balance_company(balance_min_amount=0.0)
        today = company._balance_today()
        balance = self._due_balance("Tour Preview Member", "tour.preview@example.org")
        self.assertTrue(balance.is_due)
        # The next run: tomorrow at noon UTC (tomorrow wherever the company is).
        self.env.ref("customer_balance.ir_cron_consolidate_due").write(
            {
                "active": True,
                "nextcall": datetime.combine(
                    today + relativedelta(days=1), time(12, 0)
                ),
            }
        )
        moves = self.env["account.move"].search_count([])

        self.start_tour("/odoo", "customer_balance_run_preview_tour", login="admin")

        self.assertEqual(balance.state, "open")
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        preview = self.env["customer.balance.run.preview"].search([], limit=1)
        self.assertEqual(preview.date, today + relativedelta(days=1))
        line = preview.line_ids.filtered(lambda line: line.balance_id == balance)
        self.assertEqual((line.outcome, line.amount_total), ("bill", 130.0))
