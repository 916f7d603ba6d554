# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import date_utils

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestPortal(CustomerBalanceTestMixin, HttpCase):
    """Figma's billing contact follows her company's balance in the portal; nobody
    sees another company's or another person's balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_portal_company()
        cls._setup_portal_customers("portal")
        Partner = cls.env["res.partner"]
        # Anna is Figma's billing contact: she follows the company's whole balance.
        cls.anna = Partner.create(
            {
                "name": "Anna",
                "parent_id": cls.figma.id,
                "balance_billing_contact": True,
            }
        )
        cls.ben = Partner.create({"name": "Ben", "parent_id": cls.figma.id})
        for login, partner in (("anna", cls.anna), ("ben", cls.ben)):
            cls._portal_user(partner, f"portal.{login}")
        today = cls.company._balance_today()
        item = cls._untaxed_item
        cls.figma_items = item(cls.anna, "Desk day (Anna)", 100.0) + item(
            cls.ben, "Meeting room (Ben)", 72.5
        )
        cls.figma_balance = cls.figma_items.balance_id
        cls.acme_items = item(cls.zoe, "Secret Acme booking", 999.0)
        cls.acme_balance = cls.acme_items.balance_id
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        cls.past = item(cls.anna, "Old desk day", 50.0, last_month).balance_id
        cls.past._consolidate()
        cls.past.invoice_id.action_post()

    def test_member_browses_company_balance(self):
        """Anna: My Account -> Customer Balances -> the current balance -> its
        items and total (a real browser)."""
        self.start_tour("/my", "customer_balance_portal_tour", login="portal.anna")

    def test_home_counts_company_balances(self):
        """The Customer Balances card on My Account counts Figma's current and
        past balances for a Figma contact."""
        self.authenticate("portal.anna", "portal.anna")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["balance_count"]}
        )
        self.assertEqual(counters["balance_count"], 2)
        home = self.url_open("/my")
        self.assertIn('href="/my/balances" title="Customer Balances"', home.text)

    def test_list_shows_company_balances_and_past_invoice(self):
        """Anna sees Figma's balances (not Acme's); the past one links to its
        consolidated invoice's own portal page."""
        response = self._get("/my/balances", "portal.anna")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.figma_balance.name, response.text)
        self.assertIn(self.past.name, response.text)
        self.assertNotIn(self.acme_balance.name, response.text)
        detail = self._get(f"/my/balances/{self.past.id}")
        self.assertEqual(detail.status_code, 200)
        self.assertIn(self.past.invoice_id.name, detail.text)
        self.assertIn(f"/my/invoices/{self.past.invoice_id.id}", detail.text)
        self.assertIn("50.00", detail.text)

    def test_list_sorted_by_total(self):
        """Sorting by total puts the largest open balance first."""
        response = self._get("/my/balances?sortby=total", "portal.anna")
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertLess(text.index(self.figma_balance.name), text.index(self.past.name))

    def test_scheduled_items_are_marked(self):
        """A booking for next month waits on next month's balance, shown with its
        items marked Scheduled."""
        next_month = date_utils.start_of(
            self.company._balance_today() + relativedelta(months=1), "month"
        )
        item = self._untaxed_item(
            self.ben,
            "Event hall next month",
            300.0,
            day=next_month + relativedelta(days=4),
        )
        self.assertTrue(item.balance_id.is_scheduled)
        response = self._get(f"/my/balances/{item.balance_id.id}", "portal.anna")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Event hall next month", response.text)
        self.assertIn("o_customer_balance_scheduled", response.text)
        current = self._get(f"/my/balances/{self.figma_balance.id}")
        self.assertNotIn("o_customer_balance_scheduled", current.text)

    def test_other_company_balance_is_not_found(self):
        """Anna cannot open Acme's balance by its id, nor a balance that does
        not exist."""
        response = self._get(f"/my/balances/{self.acme_balance.id}", "portal.anna")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(self.acme_balance.name, response.text)
        self.assertNotIn("Secret Acme booking", response.text)
        self.assertNotIn("999.00", response.text)
        listing = self._get("/my/balances")
        self.assertNotIn(self.acme_balance.name, listing.text)
        self.assertNotIn("Secret Acme booking", listing.text)
        missing = self._get(f"/my/balances/{self.acme_balance.id + 1000}")
        self.assertEqual(missing.status_code, 404)

    def test_per_person_balance_of_a_colleague_is_not_found(self):
        """With balances per person, Ben cannot open Anna's."""
        self.company.balance_grouping = "person"
        own = self._untaxed_item(self.anna, "Anna's own locker", 42.0)
        response = self._get(f"/my/balances/{own.balance_id.id}", "portal.ben")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(own.balance_id.name, response.text)
        self.assertNotIn("Anna's own locker", response.text)
        self.assertNotIn("42.00", response.text)
        listing = self._get("/my/balances")
        self.assertNotIn(own.balance_id.name, listing.text)
        self.assertEqual(
            self._get(f"/my/balances/{own.balance_id.id}", "portal.anna").status_code,
            200,
        )

    def _share_link(self, balance):
        """The link the Share wizard gives for ``balance``, without its host."""
        link = (
            self.env["portal.share"]
            .with_context(active_model=balance._name, active_id=balance.id)
            .default_get(["share_link"])["share_link"]
        )
        parts = urlsplit(link)
        return f"{parts.path}?{parts.query}"

    def test_share_link_opens_without_login(self):
        """The Share wizard's link opens the balance read-only in a fresh browser
        without login; a wrong or revoked token does not."""
        url = self._share_link(self.figma_balance)
        self.assertIn("access_token=", url)
        self.start_tour(url, "customer_balance_share_tour", login=None)
        direct = self.figma_balance._get_share_url(redirect=False)
        self.assertEqual(self._get(direct).status_code, 200)
        wrong = self._get(f"/my/balances/{self.figma_balance.id}?access_token=nope")
        self.assertEqual(wrong.status_code, 404)
        self.assertNotIn(self.figma_balance.name, wrong.text)
        self.assertNotIn("Desk day (Anna)", wrong.text)
        self.figma_balance.action_revoke_share_links()
        old = self._get(direct)
        self.assertEqual(old.status_code, 404)
        # The wizard's old link now leads to the login page, not to the balance.
        old_wizard_link = self.url_open(url)
        self.assertNotIn(f"/my/balances/{self.figma_balance.id}", old_wizard_link.url)
        for response in (old, old_wizard_link):
            self.assertNotIn("Desk day (Anna)", response.text)
            self.assertNotIn("172.50", response.text)
        self.assertEqual(
            self._get(self.figma_balance._get_share_url(redirect=False)).status_code,
            200,
        )

    def test_accountant_shares_balance_from_form(self):
        """The Share button of the balance form opens Odoo's share wizard with a
        link carrying the balance's access token."""
        self.assertFalse(self.figma_balance.access_token)
        self.start_tour(
            "/odoo/action-customer_balance.action_customer_balance/"
            f"{self.figma_balance.id}",
            "customer_balance_share_button_tour",
            login="admin",
        )
        self.assertTrue(self.figma_balance.access_token)

    def test_shared_past_balance_hides_the_invoice_link(self):
        """Someone opening a shared past balance without login sees its items and
        the invoice number, but no way into the invoice itself."""
        response = self._get(self.past._get_share_url(redirect=False))
        self.assertEqual(response.status_code, 200)
        self.assertIn("Old desk day", response.text)
        self.assertIn(self.past.invoice_id.name, response.text)
        self.assertNotIn(f"/my/invoices/{self.past.invoice_id.id}", response.text)

    def test_pages_hidden_when_feature_or_portal_off(self):
        """With the feature or its portal pages off, the card counts nothing and
        the pages answer 404, even with a valid share link."""
        for values in ({"balance_portal_visible": False}, {"balance_enabled": False}):
            self.company.write(values)
            listing = self._get("/my/balances", "portal.anna")
            self.assertEqual(listing.status_code, 404)
            detail = self._get(f"/my/balances/{self.figma_balance.id}")
            self.assertEqual(detail.status_code, 404)
            self.assertNotIn("Desk day (Anna)", detail.text)
            counters = self.make_jsonrpc_request(
                "/my/counters", {"counters": ["balance_count"]}
            )
            self.assertEqual(counters["balance_count"], 0)
            self.authenticate(None, None)
            shared = self._get(self.figma_balance._get_share_url(redirect=False))
            self.assertEqual(shared.status_code, 404)
            self.assertNotIn("Desk day (Anna)", shared.text)
            self.company.write(
                {"balance_portal_visible": True, "balance_enabled": True}
            )

    # === STATEMENT === #

    def test_member_downloads_statement(self):
        """Anna downloads Figma's balance statement from the balance page: a PDF
        listing the items; the same through the account-style report link."""
        page = self._get(f"/my/balances/{self.figma_balance.id}", "portal.anna")
        statement_url = f"/my/balances/{self.figma_balance.id}/statement"
        self.assertIn(statement_url, page.text)
        response = self._get(f"{statement_url}?download=true")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn("attachment;", response.headers["Content-Disposition"])
        self.assertIn("Balance_Statement", response.headers["Content-Disposition"])
        # Reports render as HTML in tests: the items are readable.
        self.assertIn("Desk day (Anna)", response.text)
        self.assertIn("Meeting room (Ben)", response.text)
        inline = self._get(f"/my/balances/{self.figma_balance.id}?report_type=pdf")
        self.assertEqual(inline.status_code, 200)
        self.assertEqual(inline.headers["Content-Type"], "application/pdf")

    def test_statement_of_another_company_is_not_found(self):
        """Anna cannot download Acme's statement by its id, nor with a wrong
        token; nothing of Acme's reaches her."""
        for url in (
            f"/my/balances/{self.acme_balance.id}/statement",
            f"/my/balances/{self.acme_balance.id}/statement?access_token=nope",
            f"/my/balances/{self.acme_balance.id}?report_type=pdf",
        ):
            response = self._get(url, "portal.anna")
            self.assertEqual(response.status_code, 404, url)
            self.assertNotIn("Secret Acme booking", response.text)
            self.assertNotIn("999.00", response.text)

    def test_statement_with_share_link(self):
        """The share link's token opens the statement without login; a wrong
        token does not."""
        self.figma_balance._portal_ensure_token()
        token = self.figma_balance.access_token
        url = f"/my/balances/{self.figma_balance.id}/statement"
        response = self._get(f"{url}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Desk day (Anna)", response.text)
        page = self._get(f"/my/balances/{self.figma_balance.id}?access_token={token}")
        self.assertIn(f"{url}?download=true&amp;access_token={token}", page.text)
        wrong = self._get(f"{url}?access_token=nope")
        self.assertEqual(wrong.status_code, 404)
        self.assertNotIn("Desk day (Anna)", wrong.text)

    # === LAYOUT === #

    def test_home_icon_and_phone_layout(self):
        """The home card uses an SVG icon like Odoo's own portal cards; on a
        phone the item table shows each item's contact and status under its
        description (so that the amount stays on screen), each status a badge
        with its text."""
        home = self._get("/my", "portal.anna")
        self.assertIn(
            "/customer_balance/static/src/img/customer_balance.svg", home.text
        )
        icon = self.url_open("/customer_balance/static/src/img/customer_balance.svg")
        self.assertEqual(icon.status_code, 200)
        page = self._get(f"/my/balances/{self.figma_balance.id}")
        table = page.text[page.text.index("o_customer_balance_items") :]
        self.assertIn(">Contact</th>", table)
        self.assertRegex(
            table, r'd-sm-none[^"]*o_customer_balance_item_contact">[^<]*anna'
        )
        self.assertRegex(table, r"badge[^>]*>\s*Upcoming invoice\s*<")
        listing = self._get("/my/balances")
        self.assertRegex(
            listing.text, r"o_customer_balance_status\">\s*<i[^>]*></i>\s*Upcoming"
        )

    # === AMOUNTS === #

    def _taxed_balance(self):
        """Lisa's own balance (no company): a desk day of 100.00 with 15% tax."""
        tax = self.env["account.tax"].create(
            {"name": "Sales 15%", "amount": 15.0, "type_tax_use": "sale"}
        )
        lisa = self.env["res.partner"].create({"name": "Lisa"})
        self._portal_user(lisa, "portal.lisa")
        item = self.env["customer.balance.line"].create(
            {
                "partner_id": lisa.id,
                "name": "Taxed desk day",
                "price_unit": 100.0,
                "tax_ids": [Command.set(tax.ids)],
            }
        )
        return item.balance_id

    def _amount_cells(self, text, css_class):
        """The amounts shown in the cells of ``css_class`` (Odoo writes a minus
        sign followed by a zero-width no-break space)."""
        return [
            amount.replace("\ufeff", "")
            for amount in re.findall(
                rf'{css_class}[^"]*">\s*<span[^>]*>[^<]*'
                r'<span class="oe_currency_value">([^<]+)</span>',
                text,
            )
        ]

    def test_portal_and_statement_agree_on_line_amounts(self):
        """A 100.00 desk day with 15% tax: the portal page lists it at 100.00, as
        the statement and the invoice do (prices without tax), and shows the tax
        split of the statement: untaxed 100.00, taxes 15.00, total 115.00. When
        the company's invoices show prices with tax, both list 115.00."""
        balance = self._taxed_balance()
        page = self._get(f"/my/balances/{balance.id}", "portal.lisa")
        self.assertEqual(
            self._amount_cells(page.text, "o_customer_balance_item_amount"), ["100.00"]
        )
        self.assertEqual(
            self._amount_cells(page.text, "o_customer_balance_untaxed"), ["100.00"]
        )
        self.assertEqual(
            self._amount_cells(page.text, "o_customer_balance_tax"), ["15.00"]
        )
        self.assertIn("115.00", page.text)
        statement = self._get(f"/my/balances/{balance.id}/statement")
        self.assertRegex(
            statement.text,
            r"o_balance_statement_item(.|\n)*?oe_currency_value\">100.00<",
        )
        self.assertRegex(
            statement.text, r"o_balance_statement_tax[^>]*>[^<]*<span[^>]*>15.00"
        )

        # Odoo refuses the switch once a company has invoices (this one billed
        # last month's balance): set it as a new company would have it.
        self.env.cr.execute(
            "UPDATE res_company SET account_price_include = 'tax_included'"
            " WHERE id = %s",
            [self.company.id],
        )
        self.company.invalidate_recordset(["account_price_include"])
        page = self._get(f"/my/balances/{balance.id}")
        self.assertEqual(
            self._amount_cells(page.text, "o_customer_balance_item_amount"), ["115.00"]
        )
        statement = self._get(f"/my/balances/{balance.id}/statement")
        self.assertRegex(
            statement.text,
            r"o_balance_statement_item(.|\n)*?oe_currency_value\">115.00<",
        )

    def test_invoiced_balance_shows_its_invoice_date_in_the_list(self):
        """The list shows an invoiced balance's invoice date (the day its
        consolidated invoice was made), an open one's coming invoice date."""
        response = self._get("/my/balances", "portal.anna")
        cells = re.findall(
            r'o_customer_balance_invoice_date">\s*(?:<span>([^<]*)</span>)?',
            response.text,
        )
        lang = self.env["res.lang"]._lang_get("en_US")
        expected = {
            self.past.invoice_id.invoice_date.strftime(lang.date_format),
            self.figma_balance.invoice_creation_date.strftime(lang.date_format),
        }
        self.assertEqual(set(cells), expected)

    def test_credit_balance_shows_its_own_sign(self):
        """Anna's balance nets to a credit (a 30.00 desk day, an 80.00 goodwill
        credit) and is billed as a credit note: the list and the page show the
        balance's own signed amounts (-50.00), as its form does."""
        today = self.company._balance_today()
        last_month = date_utils.start_of(today - relativedelta(months=2), "month")
        items = self._untaxed_item(
            self.anna, "Desk day", 30.0, day=last_month
        ) + self._untaxed_item(self.anna, "Goodwill credit", -80.0, day=last_month)
        balance = items.balance_id
        balance._consolidate().action_post()
        self.assertEqual(balance.invoice_id.move_type, "out_refund")
        self.assertEqual(balance.amount_total, -50.0)
        page = self._get(f"/my/balances/{balance.id}", "portal.anna")
        self.assertRegex(
            page.text,
            r'o_customer_balance_total"[^>]*>[^<]*'
            r'<span class="oe_currency_value">-\ufeff50.00<',
        )
        self.assertEqual(
            self._amount_cells(page.text, "o_customer_balance_untaxed"), ["-50.00"]
        )
        listing = self._get("/my/balances?sortby=total")
        self.assertIn(">-\ufeff50.00<", listing.text)

    def test_phone_keeps_amounts_on_screen(self):
        """On a 390 px phone, the list's totals and the balance page's Amount
        column and totals lie inside the screen (a real browser measures)."""
        self.browser_size = "390x844"
        self.touch_enabled = True
        self._untaxed_item(
            self.anna,
            "Meeting room for a whole afternoon with a long description",
            12345.67,
        )
        self.start_tour(
            "/my/balances", "customer_balance_phone_tour", login="portal.anna"
        )
