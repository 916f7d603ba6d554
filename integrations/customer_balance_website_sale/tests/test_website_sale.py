# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.customer_balance.tests.common import (
    CustomerBalanceCommon,
    CustomerBalanceTestMixin,
)


@tagged("post_install", "-at_install")
class TestShopCheckoutOptions(CustomerBalanceCommon):
    """Which carts the shop offers to put on the customer balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_partner_category_ids = cls.community
        cls.provider = cls.env.ref(
            "customer_balance.payment_provider_customer_balance"
        ).sudo()
        cls.provider.write(
            {"company_id": cls.company.id, "state": "enabled", "is_published": True}
        )
        cls.website = (
            cls.env["website"]
            .sudo()
            .create({"name": "Coworking shop", "company_id": cls.company.id})
        )
        cls.room = cls._create_product(
            name="Meeting room (hour)", lst_price=40.0, balance_policy="optional"
        )
        cls.coffee = cls._create_product(
            name="Coffee", lst_price=3.0, balance_policy="none"
        )
        cls.desk.balance_policy = "always"

    def _cart(self, partner, product, quantity=1):
        return (
            self.env["sale.order"]
            .sudo()
            .create(
                {
                    "partner_id": partner.id,
                    "website_id": self.website.id,
                    "company_id": self.company.id,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "product_uom_qty": quantity}
                        )
                    ],
                }
            )
        )

    def _offers_balance(self, order):
        providers = (
            self.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                order.company_id.id,
                order.partner_id.id,
                order.amount_total,
                currency_id=order.currency_id.id,
                sale_order_id=order.id,
                website_id=self.website.id,
            )
        )
        return self.provider in providers

    def test_member_sees_balance_option(self):
        """Anna (a member) books the meeting room in the shop: *Add to my customer
        balance* is among her payment options."""
        self.assertTrue(self._offers_balance(self._cart(self.anna, self.room)))

    def test_not_offered_to_customers_without_balances(self):
        """Lisa, who is not a member, pays as usual: no balance option."""
        self.assertFalse(self._offers_balance(self._cart(self.lisa, self.room)))

    def test_not_offered_for_products_paid_immediately(self):
        """Coffee is paid at once: no balance option for a cart of coffee."""
        self.assertFalse(self._offers_balance(self._cart(self.anna, self.coffee)))

    def test_not_offered_above_maximum(self):
        """With a maximum order amount of 100.00, ten hours of the meeting room
        (460.00) are paid as usual."""
        self.company.balance_max_order_amount = 100.0
        self.assertFalse(self._offers_balance(self._cart(self.anna, self.room, 10)))
        self.assertTrue(self._offers_balance(self._cart(self.anna, self.room, 2)))

    def test_always_on_balance_skips_payment_for_members_only(self):
        """A cart of desk days (always on balance) skips payment for Anna, not for
        Lisa; a cart with a product she may choose for goes through payment."""
        self.assertTrue(self._cart(self.anna, self.desk)._balance_skips_payment())
        self.assertFalse(self._cart(self.lisa, self.desk)._balance_skips_payment())
        self.assertFalse(self._cart(self.anna, self.room)._balance_skips_payment())


@tagged("post_install", "-at_install")
class TestShopTour(CustomerBalanceTestMixin, HttpCase):
    """A member checks out in the shop and puts her order on her balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_shop_company(balance_billing_delay=2, balance_grouping="person")
        cls.provider = cls._enable_balance_provider()
        cls.website = cls.env["website"].get_current_website()
        cls.member = cls._shop_member("shop.member@example.org", "shop.member")

    def _cart(self, product):
        return self.env["sale.order"].create(
            {
                "partner_id": self.member.id,
                "website_id": self.website.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )

    def _product(self, name, policy):
        return self.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "list_price": 40.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                "balance_policy": policy,
                "website_published": True,
            }
        )

    def test_member_puts_meeting_room_on_balance(self):
        """The member books an hour of the meeting room in the shop and chooses
        *Add to my customer balance*: the order is confirmed with no charge, its
        item waits on her balance, and the confirmation page gives the period and
        the date of the consolidated invoice."""
        order = self._cart(self._product("Meeting room (hour)", "optional"))

        self.start_tour(
            "/shop/checkout?try_skip_step=true",
            "customer_balance_shop_balance_tour",
            login="shop.member",
        )

        self.assertEqual(order.state, "sale")
        item = order.order_line.balance_line_ids
        self.assertEqual(item.state, "pending")
        self.assertEqual(item.balance_id.partner_id, self.member)
        self.assertAlmostEqual(item.balance_id.amount_total, 40.0)
        transaction = order.transaction_ids
        self.assertEqual(transaction.provider_id, self.provider)
        self.assertEqual(transaction.state, "pending")
        self.assertFalse(transaction.payment_id)
        self.assertFalse(order.invoice_ids)

    def test_always_on_balance_cart_skips_payment(self):
        """A cart of desk days (always on balance) needs no payment: the member
        confirms it and reads on the confirmation page when it is billed."""
        order = self._cart(self._product("Desk day", "always"))

        self.start_tour(
            "/shop/checkout?try_skip_step=true",
            "customer_balance_shop_always_tour",
            login="shop.member",
        )

        self.assertEqual(order.state, "sale")
        self.assertFalse(order.transaction_ids)
        self.assertEqual(order.order_line.balance_line_ids.state, "pending")
        self.assertAlmostEqual(order.balance_line_ids.balance_id.amount_total, 40.0)
        # The confirmation e-mail gives the period and the billing date too.
        mail = html2plaintext("\n".join(order.message_ids.mapped("body")))
        self.assertIn("It is not invoiced now", mail)
        self.assertIn("for the period", mail)
        self.assertIn("consolidated invoice will be created on", mail)
