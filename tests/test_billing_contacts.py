# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestBillingContacts(CustomerBalanceTestMixin, HttpCase):
    """Balances per company: Figma's whole balance is for its billing contacts
    (Carla, marked so by the accountant, and the invoice address Dora); Anna and
    Ben, plain employees, see their own items on it and their part's total; Zoe
    of Acme sees nothing of Figma's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_portal_company()
        cls._setup_portal_customers("bc")
        Partner = cls.env["res.partner"]
        cls.anna, cls.ben, cls.carla, cls.dora = Partner.create(
            [
                {"name": "Anna", "parent_id": cls.figma.id},
                {"name": "Ben", "parent_id": cls.figma.id},
                {
                    "name": "Carla",
                    "parent_id": cls.figma.id,
                    "balance_billing_contact": True,
                },
                {"name": "Dora Payable", "parent_id": cls.figma.id, "type": "invoice"},
            ]
        )
        for partner in (cls.anna, cls.ben, cls.carla, cls.dora):
            cls._portal_user(partner, f"bc.{partner.name.split()[0].lower()}")
        item = cls._untaxed_item
        cls.anna_item = item(cls.anna, "Desk day (Anna)", 100.0)
        cls.ben_item = item(cls.ben, "Meeting room (Ben)", 72.5)
        cls.balance = cls.anna_item.balance_id
        cls.acme_balance = item(cls.zoe, "Secret Acme booking", 999.0).balance_id

    def _rpc_search_read(self, login, model, fields):
        """What ``login`` reads of ``model`` by RPC, as a script would."""
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/search_read",
            {
                "model": model,
                "method": "search_read",
                "args": [[]],
                "kwargs": {"fields": fields},
            },
        )

    def test_plain_employee_sees_her_part_only(self):
        """Anna opens Figma's balance: her desk day and her part's total (100.00),
        not Ben's meeting room nor the company's total (172.50)."""
        self.assertEqual(self.balance.partner_id, self.figma)
        response = self._get(f"/my/balances/{self.balance.id}", "bc.anna")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Desk day (Anna)", response.text)
        self.assertIn("100.00", response.text)
        self.assertIn("o_customer_balance_partial", response.text)
        self.assertNotIn("Meeting room (Ben)", response.text)
        self.assertNotIn("72.50", response.text)
        self.assertNotIn("172.50", response.text)
        # Her statement is of her part (see test_plain_employee_statement_is_her_part).
        self.assertIn(f"/my/balances/{self.balance.id}/statement", response.text)

        listing = self._get("/my/balances", "bc.anna")
        self.assertIn(self.balance.name, listing.text)
        self.assertIn("100.00", listing.text)
        self.assertNotIn("172.50", listing.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["balance_count"]}
        )
        self.assertEqual(counters["balance_count"], 1)

        ben = self._get(f"/my/balances/{self.balance.id}", "bc.ben")
        self.assertIn("Meeting room (Ben)", ben.text)
        self.assertIn("72.50", ben.text)
        self.assertNotIn("Desk day (Anna)", ben.text)

    def test_plain_employee_statement_is_her_part(self):
        """Anna downloads her own statement of Figma's balance from its page: her
        desk day and her part's total (100.00), never Ben's meeting room nor the
        company's total (172.50); the same through the report link. Billed, it
        still lists only her billed item, and no payment of the company's
        invoice."""
        page = self._get(f"/my/balances/{self.balance.id}", "bc.anna")
        url = f"/my/balances/{self.balance.id}/statement?download=true"
        self.assertIn(url.replace("&", "&amp;"), page.text)
        for link in (url, f"/my/balances/{self.balance.id}?report_type=pdf"):
            with self.subTest(link=link):
                statement = self.url_open(link, allow_redirects=False)
                self.assertEqual(statement.status_code, 200)
                self.assertEqual(statement.headers["Content-Type"], "application/pdf")
                # Reports render as HTML in tests: the items are readable.
                self.assertIn("Desk day (Anna)", statement.text)
                self.assertIn("100.00", statement.text)
                self.assertIn("o_balance_statement_part", statement.text)
                self.assertNotIn("Meeting room (Ben)", statement.text)
                self.assertNotIn("72.50", statement.text)
                self.assertNotIn("172.50", statement.text)
        invoice = self.balance._consolidate()
        invoice.action_post()
        statement = self._get(url, "bc.anna")
        self.assertEqual(statement.status_code, 200)
        self.assertIn("Desk day (Anna)", statement.text)
        self.assertNotIn("Meeting room (Ben)", statement.text)
        self.assertNotIn("172.50", statement.text)
        self.assertNotIn("o_balance_statement_payment", statement.text)
        # Ben's is his.
        ben = self._get(url, "bc.ben")
        self.assertIn("Meeting room (Ben)", ben.text)
        self.assertNotIn("Desk day (Anna)", ben.text)
        # Carla, billing contact, still gets the whole balance.
        carla = self._get(url, "bc.carla")
        self.assertIn("Meeting room (Ben)", carla.text)
        self.assertIn("172.50", carla.text)
        self.assertNotIn("o_balance_statement_part", carla.text)

    def test_plain_employee_rpc_reads_no_colleague_data(self):
        """By RPC, Anna reads her own item only and not Figma's balance (so not
        its total either)."""
        balances = self._rpc_search_read(
            "bc.anna", "customer.balance", ["name", "amount_total"]
        )
        self.assertEqual(balances, [])
        items = self._rpc_search_read(
            "bc.anna", "customer.balance.line", ["name", "price_total"]
        )
        self.assertEqual([item["name"] for item in items], ["Desk day (Anna)"])

    def test_billing_contacts_see_the_whole_balance(self):
        """Carla (marked billing contact) and Dora (Figma's invoice address) see
        both items and the company's total, in the page and by RPC, and download
        the statement."""
        for login in ("bc.carla", "bc.dora"):
            with self.subTest(login=login):
                response = self._get(f"/my/balances/{self.balance.id}", login)
                self.assertEqual(response.status_code, 200)
                self.assertIn("Desk day (Anna)", response.text)
                self.assertIn("Meeting room (Ben)", response.text)
                self.assertIn("172.50", response.text)
                self.assertNotIn("o_customer_balance_partial", response.text)
                statement = self.url_open(
                    f"/my/balances/{self.balance.id}/statement",
                    allow_redirects=False,
                )
                self.assertEqual(statement.status_code, 200)
                self.assertIn("Meeting room (Ben)", statement.text)
                balances = self._rpc_search_read(
                    login, "customer.balance", ["amount_total"]
                )
                self.assertEqual(
                    balances, [{"id": self.balance.id, "amount_total": 172.5}]
                )
                items = self._rpc_search_read(login, "customer.balance.line", ["name"])
                self.assertEqual(len(items), 2)

    def test_other_company_contact_sees_nothing(self):
        """Zoe of Acme gets a 404 on Figma's balance and its statement, and reads
        none of its items by RPC."""
        for url in (
            f"/my/balances/{self.balance.id}",
            f"/my/balances/{self.balance.id}/statement",
        ):
            response = self._get(url, "bc.zoe")
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("Desk day (Anna)", response.text)
            self.assertNotIn("172.50", response.text)
        items = self._rpc_search_read("bc.zoe", "customer.balance.line", ["name"])
        self.assertEqual([item["name"] for item in items], ["Secret Acme booking"])
        # And Anna does not reach Acme's balance through her own-items access.
        response = self._get(f"/my/balances/{self.acme_balance.id}", "bc.anna")
        self.assertEqual(response.status_code, 404)

    def test_billed_balance_shows_her_billed_part(self):
        """Once Figma's balance is billed, Anna still sees her billed item and
        her part's total, without a link into the company's invoice; Carla sees
        the invoice's total."""
        invoice = self.balance._consolidate()
        invoice.action_post()
        anna = self._get(f"/my/balances/{self.balance.id}", "bc.anna")
        self.assertEqual(anna.status_code, 200)
        self.assertIn("Desk day (Anna)", anna.text)
        self.assertIn("100.00", anna.text)
        self.assertNotIn("172.50", anna.text)
        self.assertNotIn(f"/my/invoices/{invoice.id}", anna.text)
        carla = self._get(f"/my/balances/{self.balance.id}", "bc.carla")
        self.assertIn("172.50", carla.text)
        self.assertIn(invoice.name, carla.text)

    def test_item_invoiced_on_its_own_leaves_the_page(self):
        """Ben's meeting room is invoiced on its own (Invoice Now): Figma's page
        lists Anna's desk day only, with the total the consolidated invoice will
        bill (100.00); Ben's part is empty."""
        self.ben_item.action_invoice_now()
        carla = self._get(f"/my/balances/{self.balance.id}", "bc.carla")
        self.assertIn("Desk day (Anna)", carla.text)
        self.assertNotIn("Meeting room (Ben)", carla.text)
        self.assertIn("100.00", carla.text)
        self.assertNotIn("172.50", carla.text)
        ben = self._get(f"/my/balances/{self.balance.id}", "bc.ben")
        self.assertEqual(ben.status_code, 404)
        self.assertNotIn("Desk day (Anna)", ben.text)
