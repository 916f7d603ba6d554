# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged
from odoo.tools import convert_file

# The demo files `make run` loads (--with-demo), in the order their addons install.
DEMO_FILES = (
    ("customer_balance", "demo/customer_balance_demo.xml"),
    (
        "customer_balance_resource_booking",
        "demo/customer_balance_resource_booking_demo.xml",
    ),
    ("customer_balance_website_sale", "demo/customer_balance_website_sale_demo.xml"),
    (
        "customer_balance_website_sale_resource_booking",
        "demo/customer_balance_website_sale_resource_booking_demo.xml",
    ),
)


@tagged("post_install", "-at_install")
class TestDemo(HttpCase):
    """`make run`'s demo shows the product: the coworking products in the shop, the
    booking pages, the portal balances of a billing contact and of a plain employee,
    and the demo payment provider on the portal invoice. The test database has no demo
    data: the demo files are loaded here, as `make run` loads them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.env.ref("customer_balance.partner_figma", raise_if_not_found=False):
            for module, filename in DEMO_FILES:
                convert_file(cls.env, module, filename, {}, mode="init", noupdate=True)
        cls.figma = cls.env.ref("customer_balance.partner_figma")
        cls.figma_balance = cls.env["customer.balance"].search(
            [("partner_id", "=", cls.figma.id), ("state", "=", "open")],
            order="period_start",
            limit=1,
        )

    def test_shop_lists_the_coworking_products(self):
        """/shop answers and lists the published coworking products, the bookable
        meeting room included."""
        response = self.url_open("/shop")
        self.assertEqual(response.status_code, 200)
        for xmlid in (
            "customer_balance.product_desk_day",
            "customer_balance.product_meeting_room",
            "customer_balance_resource_booking.product_meeting_room_booking",
        ):
            product = self.env.ref(xmlid)
            self.assertTrue(product.is_published, xmlid)
            self.assertIn(product.name, response.text)

    def test_billing_contact_login(self):
        """Lena (lena / lena), Figma's billing contact, reads Figma's whole balance
        with Pay now, and her meeting-room booking waits in My Bookings."""
        self.authenticate("lena", "lena")
        response = self.url_open("/my/balances")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"/my/balances/{self.figma_balance.id}", response.text)
        response = self.url_open(f"/my/balances/{self.figma_balance.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Tom Berger", response.text, "the whole balance: colleagues too")
        self.assertIn(f"/my/balances/{self.figma_balance.id}/pay", response.text)
        booking = self.env.ref(
            "customer_balance_resource_booking.sale_order_figma_lena_booking"
        ).order_line.resource_booking_ids
        self.assertEqual(len(booking), 1)
        response = self.url_open("/my/bookings")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"/my/bookings/{booking.id}", response.text)

    def test_plain_employee_login(self):
        """Tom (tom / tom), a Figma employee who is not a billing contact, sees his
        part of Figma's balance, not his colleagues' items."""
        tom = self.env["res.users"].search([("login", "=", "tom")])
        self.assertEqual(
            tom.partner_id, self.env.ref("customer_balance.partner_figma_tom")
        )
        self.assertFalse(tom.partner_id.balance_billing_contact)
        self.assertTrue(tom._is_portal())
        self.authenticate("tom", "tom")
        response = self.url_open("/my/balances")
        self.assertEqual(response.status_code, 200)
        response = self.url_open(f"/my/balances/{self.figma_balance.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Meeting Room (hour)", response.text)
        self.assertNotIn("Lena Vogel", response.text)

    def test_portal_invoice_offers_the_demo_provider(self):
        """The demo's posted invoice (Studio Nord) offers the test-mode demo provider
        on its portal page, not "No payment method available"."""
        provider = self.env.ref("payment.payment_provider_demo")
        self.assertEqual(provider.state, "test")
        self.assertTrue(provider.is_published)
        self.assertEqual(provider.company_id, self.env.ref("base.main_company"))
        invoice = self.env.ref("customer_balance.balance_studio_nord_billed").invoice_id
        self.assertEqual(invoice.state, "posted")
        response = self.url_open(invoice.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-provider-code="demo"', response.text)
        self.assertNotIn("No payment method available", response.text)
