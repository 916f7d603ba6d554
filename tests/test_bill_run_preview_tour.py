# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import date_utils


@tagged("post_install", "-at_install")
class TestBillRunPreviewTour(HttpCase):
    def test_accountant_previews_the_bill_run(self):
        """An accountant opens Customers ▸ Bill Run Preview: the next run's day is
        proposed; Preview lists the member's due balance as billed for 130.00
        with the totals; Open as List shows it in a list grouped by outcome.
        Nothing was billed."""
        company = self.env.ref("base.main_company")
        company.write({"balance_enabled": True, "balance_min_amount": 0.0})
        today = company._balance_today()
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        member = self.env["res.partner"].create(
            {"name": "Tour Preview Member", "email": "tour.preview@example.org"}
        )
        self.env["customer.balance.line"].create(
            [
                {
                    "partner_id": member.id,
                    "name": "Desk day",
                    "price_unit": price,
                    "service_date": last_month + relativedelta(days=day),
                    "tax_ids": [Command.clear()],
                }
                for day, price in ((2, 100.0), (9, 30.0))
            ]
        )
        balance = self.env["customer.balance"].search([("partner_id", "=", member.id)])
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
