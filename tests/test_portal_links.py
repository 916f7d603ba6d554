# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import html
import re
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta

from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import date_utils

from .common import CustomerBalanceTestMixin

# Every URL a page hands on: links, forms, frames and the data attributes of
# widgets (the chatter's token).
LINK_RE = re.compile(r'(?:href|action|src|data-[\w-]+)="([^"]*)"')


@tagged("post_install", "-at_install")
class TestPortalLinks(CustomerBalanceTestMixin, HttpCase):
    """Every link each role is shown on the balance pages (list, page,
    previous / next, statement, invoice, chatter) carries a balance's access
    token only for whom may read that balance in full, and only when she came
    with it (a share link): a token opens the whole balance to whoever holds it.

    Roles: Lisa, the member owning her balances; Lena, Figma's billing contact;
    Tom, a Figma employee who sees his part only; a visitor of a share link.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_portal_company()
        Partner = cls.env["res.partner"]
        cls.figma = Partner.create({"name": "Figma", "is_company": True})
        cls.lena, cls.tom = Partner.create(
            [
                {
                    "name": "Lena",
                    "parent_id": cls.figma.id,
                    "balance_billing_contact": True,
                },
                {"name": "Tom", "parent_id": cls.figma.id},
            ]
        )
        cls.lisa = Partner.create({"name": "Lisa"})
        for partner in (cls.lena, cls.tom, cls.lisa):
            cls._portal_user(partner, f"links.{partner.name.lower()}")
        today = cls.company._balance_today()
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        item = cls._untaxed_item
        cls.figma_open = (
            item(cls.lena, "Desk day (Lena)", 100.0)
            + item(cls.tom, "Meeting room (Tom)", 72.5)
        ).balance_id
        cls.figma_past = (
            item(cls.lena, "Old desk day (Lena)", 40.0, last_month)
            + item(cls.tom, "Old locker (Tom)", 25.0, last_month)
        ).balance_id
        cls.lisa_open = item(cls.lisa, "Desk day (Lisa)", 30.0).balance_id
        cls.lisa_past = item(cls.lisa, "Old desk (Lisa)", 20.0, last_month).balance_id
        for past in cls.figma_past + cls.lisa_past:
            past._consolidate().action_post()
        cls.balances = cls.figma_open + cls.figma_past + cls.lisa_open + cls.lisa_past
        # Tokens exist (as after a first Share): a link that carries one shows it.
        for record in [*cls.balances, *cls.balances.invoice_id]:
            record._portal_ensure_token()

    # === HELPERS === #

    def _links(self, text):
        """The URLs of the page ``text``, unescaped, those of this server
        without its address."""
        links = set()
        for url in LINK_RE.findall(text):
            parts = urlsplit(html.unescape(url))
            if parts.netloc and parts.netloc != urlsplit(self.base_url()).netloc:
                continue
            links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        return links

    def _crawl(self, start, login):
        """Open ``start`` as ``login`` (``None``: a visitor without login) and
        every balance or invoice page it links to, then theirs. Returns the
        responses by URL."""
        self.authenticate(login, login)
        seen, todo = {}, [start]
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            response = self.url_open(url, allow_redirects=False)
            seen[url] = response
            if response.status_code != 200 or "pdf" in response.headers.get(
                "Content-Type", ""
            ):
                continue
            for link in self._links(response.text):
                path = urlsplit(link).path
                if path.startswith(("/my/balances/", "/my/invoices/")):
                    todo.append(link)
        return seen

    def _tokens(self, records):
        return {record.access_token for record in records}

    def _assert_no_token(self, pages, records, role):
        """No page of ``pages`` shows a token of ``records``."""
        for url, response in pages.items():
            for token in self._tokens(records):
                # Not assertNotIn: the whole page would be the message.
                self.assertFalse(token in response.text, f"{role}: token on {url}")
                self.assertFalse(token in url, f"{role} was led to {url}")

    # === TESTS === #

    def test_plain_employee_links_carry_no_token(self):
        """Tom, from My Account through every balance link he is shown (list,
        page, previous / next, his statement): no link carries a token, none
        opens more than his own items and his part's total, no chatter composer
        on a company balance (and posting on it is refused), no link into the
        company's invoice."""
        pages = self._crawl("/my/balances", "links.tom")
        self.assertIn(f"/my/balances/{self.figma_open.id}", pages)
        self.assertIn(f"/my/balances/{self.figma_past.id}", pages)
        self._assert_no_token(pages, [*self.balances, *self.balances.invoice_id], "Tom")
        for url, response in pages.items():
            with self.subTest(url=url):
                self.assertEqual(response.status_code, 200)
                for colleague in (
                    "Desk day (Lena)",
                    "Old desk day (Lena)",
                    "172.50",
                    "65.00",
                    "Lisa",
                ):
                    self.assertFalse(colleague in response.text, colleague)
                self.assertFalse("o_portal_chatter" in response.text, "chatter")
                self.assertFalse("/my/invoices/" in response.text, "invoice link")
        page = pages[f"/my/balances/{self.figma_open.id}"]
        self.assertIn("Meeting room (Tom)", page.text)
        self.assertIn("72.50", page.text)
        statement = f"/my/balances/{self.figma_open.id}/statement?download=true"
        self.assertIn(statement, pages)
        self.assertIn("Meeting room (Tom)", pages[statement].text)
        self.assertNotIn("access_token", "".join(pages))
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                "/mail/message/post",
                {
                    "thread_model": "customer.balance",
                    "thread_id": self.figma_open.id,
                    "post_data": {"body": "Hello", "message_type": "comment"},
                },
            )
        self.assertFalse(
            self.figma_open.message_ids.filtered(lambda m: "Hello" in (m.body or ""))
        )

    def test_billing_contact_links_carry_no_token(self):
        """Lena reads Figma's balances in full by her rights: her links (list,
        page, previous / next, statement, invoice) and the chatter need no
        token, and none is shown; each link opens the whole balance."""
        pages = self._crawl("/my/balances", "links.lena")
        self._assert_no_token(pages, self.balances, "Lena")
        page = pages[f"/my/balances/{self.figma_open.id}"]
        self.assertIn("Desk day (Lena)", page.text)
        self.assertIn("Meeting room (Tom)", page.text)
        self.assertIn("172.50", page.text)
        self.assertRegex(page.text, r'class="[^"]*o_portal_chatter')
        self.assertNotIn("data-token=", page.text)
        statement = f"/my/balances/{self.figma_open.id}/statement?download=true"
        self.assertIn(statement, pages)
        self.assertEqual(pages[statement].status_code, 200)
        self.assertIn("Meeting room (Tom)", pages[statement].text)
        past = pages[f"/my/balances/{self.figma_past.id}"]
        invoice = self.figma_past.invoice_id
        self.assertIn(f"/my/invoices/{invoice.id}", past.text)
        self.assertFalse(
            any(self.lisa_open.name in response.text for response in pages.values())
        )

    def test_member_links_carry_no_token(self):
        """Lisa reads her own balances: her links and chatter need no token and
        show none; every link opens her balance in full."""
        pages = self._crawl("/my/balances", "links.lisa")
        self._assert_no_token(pages, self.balances, "Lisa")
        self.assertIn(f"/my/balances/{self.lisa_open.id}", pages)
        self.assertIn(f"/my/balances/{self.lisa_past.id}", pages)
        self.assertNotIn(f"/my/balances/{self.figma_open.id}", pages)
        page = pages[f"/my/balances/{self.lisa_open.id}"]
        self.assertIn("Desk day (Lisa)", page.text)
        self.assertRegex(page.text, r'class="[^"]*o_portal_chatter')
        self.assertNotIn("data-token=", page.text)
        self.assertIn(
            f"/my/balances/{self.lisa_open.id}/statement?download=true", pages
        )

    def test_share_link_carries_its_own_token_only(self):
        """A visitor of Figma's share link reads that balance in full: its page,
        statement and chatter carry that balance's token (how she reads them),
        and no other balance's or invoice's."""
        balance = self.figma_open
        start = balance._get_share_url(redirect=False)
        pages = self._crawl(start, None)
        self._assert_no_token(
            pages, [*(self.balances - balance), *self.balances.invoice_id], "visitor"
        )
        page = pages[start]
        self.assertIn("Meeting room (Tom)", page.text)
        self.assertIn("172.50", page.text)
        self.assertIn(f'data-token="{balance.access_token}"', page.text)
        statement = (
            f"/my/balances/{balance.id}/statement?download=true"
            f"&access_token={balance.access_token}"
        )
        self.assertIn(statement, pages)
        self.assertEqual(pages[statement].status_code, 200)
        self.assertIn("Desk day (Lena)", pages[statement].text)
