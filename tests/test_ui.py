# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestAccountantUi(CustomerBalanceTestMixin, HttpCase):
    def test_accountant_bills_a_due_balance(self):
        """An accountant opens Customer Balances, filters Due, opens the member's
        balance, previews it, bills it and lands on the posted consolidated
        invoice."""
        self._setup_balance_company(balance_auto_post=True)
        balance = self._due_balance("Tour Member", "tour.member@example.org")
        member = balance.partner_id
        self.assertTrue(balance.is_due)

        self.start_tour("/odoo", "customer_balance_bill_tour", login="admin")

        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id.state, "posted")
        self.assertEqual(balance.invoice_id.amount_total, 130.0)
        self.assertEqual(balance.invoice_id.partner_id, member)
