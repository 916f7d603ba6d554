# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from dateutil.relativedelta import relativedelta

from odoo import Command, http
from odoo.exceptions import LockError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import date_utils

from ..models.customer_balance_payment import CustomerBalance
from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestPayNow(CustomerBalanceTestMixin, HttpCase):
    """Pay now: Figma's billing contact Carla (or whoever opens the balance's
    share link) settles Figma's open balance from its page. The balance is billed
    at once, its invoice posted although Figma's invoices are reviewed first, and
    the visitor lands on Odoo's payment page of that invoice. Anna, a plain
    Figma employee, Zoe of Acme and anonymous visitors cannot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_portal_company(balance_auto_post=False)
        cls.provider = cls.env["payment.provider"].search(
            [("code", "=", "demo")], limit=1
        )
        cls.provider.write(
            {"state": "test", "is_published": True, "company_id": cls.company.id}
        )
        if not cls.provider.journal_id:
            cls.provider.journal_id = cls.env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
            )
        cls._setup_portal_customers("pay")
        cls.carla, cls.anna = cls.env["res.partner"].create(
            [
                {
                    "name": "Carla",
                    "parent_id": cls.figma.id,
                    "balance_billing_contact": True,
                    "email": "carla@figma.example.com",
                },
                {"name": "Anna", "parent_id": cls.figma.id},
            ]
        )
        for partner in (cls.carla, cls.anna):
            cls._portal_user(partner, f"pay.{partner.name.lower()}")
        cls.balance = (
            cls._untaxed_item(cls.anna, "Desk day (Anna)", 100.0)
            + cls._untaxed_item(cls.carla, "Meeting room (Carla)", 72.5)
        ).balance_id
        cls.acme_balance = cls._untaxed_item(cls.zoe, "Acme desk", 50.0).balance_id

    # === HELPERS === #

    def _pay(self, balance, login=None, access_token=None, csrf=True):
        """POST Pay now on ``balance``'s page as ``login`` (``None``: an anonymous
        visitor), as its form does."""
        self.authenticate(login, login)
        data = {}
        if csrf:
            data["csrf_token"] = http.Request.csrf_token(self)
        if access_token:
            data["access_token"] = access_token
        return self.url_open(
            f"/my/balances/{balance.id}/pay",
            data=data,
            method="POST",
            allow_redirects=False,
        )

    def _page(self, balance, login=None, query=""):
        self.authenticate(login, login)
        return self.url_open(f"/my/balances/{balance.id}{query}", allow_redirects=False)

    def _invoices(self, balance):
        return self.env["account.move"].search([("balance_id", "=", balance.id)])

    def _assert_nothing_billed(self, balance):
        balance.invalidate_recordset()
        self.assertEqual(balance.state, "open")
        self.assertFalse(self._invoices(balance))

    def _assert_to_payment_page(self, response, invoice):
        """``response`` sends the visitor to Odoo's payment page of ``invoice``:
        its portal page with the payment form open, as the invoice list's own
        Pay Now does."""
        self.assertEqual(response.status_code, 303)
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, f"/my/invoices/{invoice.id}")
        query = parse_qs(location.query)
        self.assertEqual(query["access_token"], [invoice.access_token])
        self.assertEqual(query["payment"], ["True"])
        self.assertEqual(location.fragment, "portal_pay")

    def _settle_online(self, invoice):
        """Pay ``invoice`` online with the demo provider, as the payment page's
        transaction does once the provider confirms it."""
        transaction = self.env["payment.transaction"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "invoice_ids": [Command.set(invoice.ids)],
                "reference": f"{invoice.name}-pay",
                "operation": "online_direct",
                "state": "done",
            }
        )
        transaction._post_process()
        self.assertTrue(transaction.payment_id)
        invoice.invalidate_recordset()
        return transaction

    # === TESTS === #

    def test_setting_on_by_default_and_in_settings(self):
        """Pay now is on for a new company and shown in the Settings."""
        company = self.env["res.company"].create({"name": "New coworking"})
        self.assertTrue(company.balance_portal_pay)
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn('name="balance_portal_pay"', arch)

    def test_billing_contact_pays_now(self):
        """Carla's page offers Pay now; it bills Figma's balance at once, posts
        its invoice although Figma's invoices are reviewed first, and sends her
        to the invoice's payment page, whose payment form offers the demo
        provider."""
        page = self._page(self.balance, "pay.carla")
        self.assertIn("o_customer_balance_pay_now", page.text)
        self.assertIn(f'action="/my/balances/{self.balance.id}/pay"', page.text)
        response = self._pay(self.balance, "pay.carla")
        invoice = self._invoices(self.balance)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(self.balance.state, "invoiced")
        self.assertEqual(self.balance.invoice_id, invoice)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 172.5)
        self._assert_to_payment_page(response, invoice)
        self.assertIn("Pay now", self._messages(self.balance))
        payment_page = self.url_open(response.headers["Location"])
        self.assertEqual(payment_page.status_code, 200)
        self.assertIn('id="pay_with"', payment_page.text)
        self.assertIn('data-payment-method-code="demo"', payment_page.text)

    def test_paying_twice_makes_one_invoice(self):
        """A double click, or Pay now in a second tab: the second POST finds the
        balance billed and goes to the same invoice's payment page; there is
        never a second invoice."""
        first = self._pay(self.balance, "pay.carla")
        invoice = self._invoices(self.balance)
        second = self._pay(self.balance, "pay.carla")
        self.assertEqual(self._invoices(self.balance), invoice)
        self.assertEqual(len(invoice), 1)
        self._assert_to_payment_page(first, invoice)
        self._assert_to_payment_page(second, invoice)

    def test_balance_being_billed_says_so(self):
        """While the bill run (or another tab) holds the balance's lock, Pay now
        says it is being billed and bills nothing itself."""
        with patch.object(
            CustomerBalance,
            "lock_for_update",
            side_effect=LockError("Cannot grab a lock on records"),
            autospec=True,
        ):
            response = self._pay(self.balance, "pay.carla")
        self.assertEqual(response.status_code, 303)
        self.assertIn("pay_error=busy", response.headers["Location"])
        self._assert_nothing_billed(self.balance)
        page = self.url_open(response.headers["Location"])
        self.assertIn("being billed right now", page.text)

    def test_billing_failure_bills_nothing_and_tells_the_accountant(self):
        """When billing fails (an account missing, say), Pay now leaves nothing
        billed, tells the visitor the payment could not start, and says why on
        the balance's chatter for the accountants."""
        with patch.object(
            type(self.env["customer.balance"]),
            "_consolidate",
            side_effect=UserError("No income account for Desk day"),
            autospec=True,
        ):
            response = self._pay(self.balance, "pay.carla")
        self.assertIn("pay_error=1", response.headers["Location"])
        self._assert_nothing_billed(self.balance)
        self.assertIn("No income account for Desk day", self._messages(self.balance))
        page = self.url_open(response.headers["Location"])
        self.assertIn("could not be started", page.text)
        self.assertNotIn("No income account", page.text)

    def test_invoiced_unpaid_balance_goes_to_the_same_page(self):
        """A balance the bill run billed and posted, not paid yet, still offers
        Pay now: it leads to its invoice's payment page and bills nothing more."""
        invoice = self.balance._consolidate()
        invoice.action_post()
        page = self._page(self.balance, "pay.carla")
        self.assertIn("o_customer_balance_pay_now", page.text)
        response = self._pay(self.balance, "pay.carla")
        self._assert_to_payment_page(response, invoice)
        self.assertEqual(self._invoices(self.balance), invoice)

    def test_draft_invoice_under_review_is_not_posted_by_pay_now(self):
        """A balance billed as a draft the accountant reviews: no Pay now; a
        POST says the invoice is being prepared and posts nothing."""
        invoice = self.balance._consolidate()
        self.assertEqual(invoice.state, "draft")
        page = self._page(self.balance, "pay.carla")
        self.assertNotIn("o_customer_balance_pay_now", page.text)
        response = self._pay(self.balance, "pay.carla")
        self.assertIn("pay_error=1", response.headers["Location"])
        self.assertEqual(invoice.state, "draft")
        page = self.url_open(response.headers["Location"])
        self.assertIn("being prepared", page.text)

    def test_share_link_visitor_pays_now(self):
        """Someone opening the share link without login sees Pay now (with the
        link's token in its form); it bills the balance and sends her to the
        invoice's payment page, which opens for her."""
        token = self.balance._portal_ensure_token()
        page = self._page(self.balance, None, f"?access_token={token}")
        self.assertIn("o_customer_balance_pay_now", page.text)
        self.assertIn(f'name="access_token" value="{token}"', page.text)
        response = self._pay(self.balance, None, access_token=token)
        invoice = self._invoices(self.balance)
        self.assertEqual(len(invoice), 1)
        self._assert_to_payment_page(response, invoice)
        payment_page = self.url_open(response.headers["Location"])
        self.assertEqual(payment_page.status_code, 200)
        self.assertIn('data-payment-method-code="demo"', payment_page.text)

    def test_anyone_else_gets_404_and_nothing_is_billed(self):
        """Anna (a plain employee, who sees her part only), Zoe of Acme, an
        anonymous visitor without token, with a wrong token or with another
        balance's token: 404, nothing billed, and no Pay now on Anna's page."""
        acme_token = self.acme_balance._portal_ensure_token()
        self.balance._portal_ensure_token()
        cases = [
            ("pay.anna", None),
            ("pay.zoe", None),
            (None, None),
            (None, "wrong-token"),
            (None, acme_token),
        ]
        for login, token in cases:
            with self.subTest(login=login, token=token):
                response = self._pay(self.balance, login, access_token=token)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Meeting room (Carla)", response.text)
                self._assert_nothing_billed(self.balance)
        page = self._page(self.balance, "pay.anna")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_customer_balance_pay_now", page.text)
        self.assertNotIn("/pay", page.text)

    def test_setting_off_or_portal_hidden_gives_404(self):
        """With Pay now off, or balances hidden from the portal, or the feature
        off, Pay now answers 404 to Carla and to the share link and bills
        nothing; with Pay now off the page shows no button."""
        token = self.balance._portal_ensure_token()
        for values in (
            {"balance_portal_pay": False},
            {"balance_portal_visible": False},
            {"balance_enabled": False},
        ):
            with self.subTest(values=values):
                self.company.write(values)
                for login, access_token in (("pay.carla", None), (None, token)):
                    response = self._pay(self.balance, login, access_token)
                    self.assertEqual(response.status_code, 404)
                    self._assert_nothing_billed(self.balance)
                if "balance_portal_pay" in values:
                    page = self._page(self.balance, "pay.carla")
                    self.assertEqual(page.status_code, 200)
                    self.assertNotIn("o_customer_balance_pay_now", page.text)
                self.company.write(
                    {
                        "balance_portal_pay": True,
                        "balance_portal_visible": True,
                        "balance_enabled": True,
                    }
                )

    def test_without_csrf_token_nothing_is_billed(self):
        """A POST without the form's CSRF token is refused and bills nothing."""
        response = self._pay(self.balance, "pay.carla", csrf=False)
        self.assertEqual(response.status_code, 400)
        self._assert_nothing_billed(self.balance)

    def test_nothing_to_pay_says_why(self):
        """No Pay now, and a POST bills nothing but says why, for: a balance
        whose items net to 0.00; a balance of a period not started yet
        (scheduled items are not paid early: they may still move or be
        cancelled); a manual balance, which only the accountant bills."""
        today = self.company._balance_today()
        # 0.00: a desk day and a goodwill credit of the same amount (last month's
        # balance, with its own items only).
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        zero = (
            self._untaxed_item(self.carla, "Desk day", 40.0, last_month)
            + self._untaxed_item(self.carla, "Goodwill", -40.0, last_month)
        ).balance_id
        next_month = date_utils.start_of(today + relativedelta(months=1), "month")
        scheduled = self._untaxed_item(
            self.carla, "Event hall", 300.0, next_month
        ).balance_id
        self.assertTrue(scheduled.is_scheduled)
        cases = [(zero, "Nothing to pay"), (scheduled, "has not started yet")]
        for balance, reason in cases:
            with self.subTest(reason=reason):
                page = self._page(balance, "pay.carla")
                self.assertNotIn("o_customer_balance_pay_now", page.text)
                response = self._pay(balance, "pay.carla")
                self.assertEqual(response.status_code, 303)
                self.assertIn("pay_error=1", response.headers["Location"])
                self._assert_nothing_billed(balance)
                message = self.url_open(response.headers["Location"])
                self.assertIn(reason, message.text)
                self.assertIn("o_customer_balance_pay_message", message.text)

        self.company.balance_period = "manual"
        lisa = self.env["res.partner"].create({"name": "Lisa"})
        self._portal_user(lisa, "pay.lisa")
        manual = self._untaxed_item(lisa, "Locker", 20.0).balance_id
        self.assertEqual(manual.period_type, "manual")
        response = self._pay(manual, "pay.lisa")
        self._assert_nothing_billed(manual)
        message = self.url_open(response.headers["Location"])
        self.assertIn("billed by your account manager", message.text)

    def test_paid_online_shows_paid(self):
        """Once paid online, the balance's page and the list say Paid, Pay now is
        gone, and the statement shows the payment and nothing left due."""
        self._pay(self.balance, "pay.carla")
        invoice = self.balance.invoice_id
        self._settle_online(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        page = self._page(self.balance, "pay.carla")
        self.assertIn("o_customer_balance_paid", page.text)
        self.assertNotIn("o_customer_balance_pay_now", page.text)
        listing = self.url_open("/my/balances")
        self.assertRegex(
            listing.text, r"o_customer_balance_paid\">\s*<i[^>]*></i>\s*Paid"
        )
        statement = self.url_open(f"/my/balances/{self.balance.id}/statement")
        self.assertIn("o_balance_statement_payment", statement.text)
        self.assertIn("Paid on", statement.text)
        self.assertRegex(
            statement.text,
            r"o_balance_statement_amount_due[^>]*>[^<]*<span[^>]*>0.00<",
        )
        response = self._pay(self.balance, "pay.carla")
        self.assertIn("pay_error=1", response.headers["Location"])
        self.assertEqual(self._invoices(self.balance), invoice)

    def test_pay_now_tour_from_share_link(self):
        """In a browser, an anonymous visitor opens the share link, clicks Pay
        now, pays with the demo provider and lands on the paid invoice; the
        invoice is paid and reconciled with the payment."""
        url = self.balance._get_share_url(redirect=False)
        self.start_tour(url, "customer_balance_pay_now_tour", login=None)
        invoice = self._invoices(self.balance)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        transaction = invoice.transaction_ids
        self.assertEqual(transaction.state, "done")
        self.assertTrue(transaction.payment_id)
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertTrue(receivable.reconciled)
        self.assertIn(
            transaction.payment_id.move_id,
            receivable.matched_credit_ids.credit_move_id.move_id,
        )
