# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestCheckoutTour(CustomerBalanceTestMixin, HttpCase):
    def test_member_adds_quotation_to_balance(self):
        """A member opens her quotation in the portal, chooses "Add to my customer
        balance" and confirms: the order is confirmed without any charge and its
        locker lands on her balance."""
        self._setup_balance_company(balance_grouping="person")
        provider = self._enable_balance_provider()
        member = self.env["res.partner"].create(
            {"name": "Checkout Member", "email": "checkout.member@example.org"}
        )
        self._portal_user(member, "checkout.member")
        locker = self.env["product.product"].create(
            {
                "name": "Locker",
                "type": "service",
                "list_price": 15.0,
                "balance_policy": "optional",
                "taxes_id": [Command.clear()],
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": member.id,
                "require_signature": False,
                "require_payment": True,
                "prepayment_percent": 1.0,
                "order_line": [
                    Command.create({"product_id": locker.id, "product_uom_qty": 2})
                ],
            }
        )
        order.action_quotation_sent()

        self.start_tour(
            f"/my/orders/{order.id}",
            "customer_balance_checkout_tour",
            login="checkout.member",
        )

        self.assertEqual(order.state, "sale")
        self.assertTrue(order.balance_requested)
        item = order.order_line.balance_line_ids
        self.assertEqual(item.state, "pending")
        self.assertEqual(item.balance_id.partner_id, member)
        self.assertAlmostEqual(item.balance_id.amount_total, 30.0)
        transaction = order.transaction_ids
        self.assertEqual(transaction.provider_id, provider)
        self.assertEqual(transaction.state, "pending")
        self.assertFalse(transaction.payment_id)
        self.assertFalse(order.invoice_ids)
