# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import date_utils


@tagged("post_install", "-at_install")
class TestAccountantUi(HttpCase):
    def test_accountant_bills_a_due_balance(self):
        """An accountant opens Customer Balances, filters Due, opens the member's
        balance, previews it, bills it and lands on the posted consolidated
        invoice."""
        company = self.env.ref("base.main_company")
        company.write({"balance_enabled": True, "balance_auto_post": True})
        today = company._balance_today()
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        member = self.env["res.partner"].create(
            {"name": "Tour Member", "email": "tour.member@example.org"}
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

        self.start_tour("/odoo", "customer_balance_bill_tour", login="admin")

        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id.state, "posted")
        self.assertEqual(balance.invoice_id.amount_total, 130.0)
        self.assertEqual(balance.invoice_id.partner_id, member)
