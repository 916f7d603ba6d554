# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.http import Request
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CustomerBalanceTestMixin


@tagged("post_install", "-at_install")
class TestCompanyMatching(CustomerBalanceTestMixin, HttpCase):
    """Balances per company. Mia, a member on her own, changes her e-mail in My
    Account to one at figma.com: she is proposed as Figma's, not linked; she reads
    none of Figma's balances, invoices or orders and her charges stay on her own
    balance until Figma's accountant confirms the proposal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_portal_company()
        cls.Partner = cls.env["res.partner"]
        cls.figma = cls.Partner.create(
            {"name": "Figma", "is_company": True, "email": "accounting@figma.com"}
        )
        cls.ben = cls.Partner.create(
            {"name": "Ben", "parent_id": cls.figma.id, "email": "ben@figma.com"}
        )
        cls.mia_user = new_test_user(
            cls.env,
            login="portal.mia",
            password="portal.mia",
            name="Mia Member",
            email="mia@gmail.com",
            groups="base.group_portal",
        )
        cls.mia = cls.mia_user.partner_id
        cls.accountant = new_test_user(
            cls.env,
            login="matching.accountant",
            groups="account.group_account_invoice,base.group_partner_manager",
        )
        cls.sales = new_test_user(
            cls.env, login="matching.sales", groups="sales_team.group_sale_salesman"
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Desk day", "type": "service", "list_price": 100.0}
        )
        cls.figma_item = cls._untaxed_item(cls.ben, "Ben's desk", 80.0)
        cls.figma_balance = cls.figma_item.balance_id
        cls.figma_invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.figma.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "price_unit": 500.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        cls.figma_invoice.action_post()
        cls.figma_order = cls.env["sale.order"].create(
            {
                "partner_id": cls.figma.id,
                "order_line": [Command.create({"product_id": cls.product.id})],
            }
        )

    def _submit_my_account(self, email):
        """Mia saves My Account (her details form) with ``email``."""
        self.authenticate("portal.mia", "portal.mia")
        response = self.url_open(
            "/my/address/submit",
            data={
                "partner_id": str(self.mia.id),
                "name": "Mia Member",
                "email": email,
                "phone": "+49 30 1234567",
                "street": "Unter den Linden 1",
                "city": "Berlin",
                "zip": "10117",
                "country_id": str(self.env.ref("base.de").id),
                "address_type": "billing",
                "use_delivery_as_billing": "true",
                "csrf_token": Request.csrf_token(self),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("invalid_fields", response.text, response.text)
        self.mia.invalidate_recordset()
        self.assertEqual(self.mia.email, email)

    def _assert_sees_nothing_of_figma(self):
        for model, record in (
            ("customer.balance", self.figma_balance),
            ("customer.balance.line", self.figma_item),
            ("account.move", self.figma_invoice),
            ("sale.order", self.figma_order),
        ):
            found = self.env[model].with_user(self.mia_user).search([])
            self.assertNotIn(record, found, model)
        page = self.url_open(
            f"/my/balances/{self.figma_balance.id}", allow_redirects=False
        )
        self.assertEqual(page.status_code, 404)
        self.assertNotIn("Ben's desk", page.text)

    def test_self_typed_email_domain_only_proposes(self):
        """Mia types mia@figma.com in My Account: a proposal, noted on both
        chatters and listed under the Company Proposal filter; no link, no
        access to Figma's documents, her next charge on her own balance."""
        self._submit_my_account("mia@figma.com")

        self.assertFalse(self.mia.parent_id)
        self.assertEqual(self.mia.commercial_partner_id, self.mia)
        self.assertEqual(self.mia.balance_company_proposal_id, self.figma)
        self.assertIn(
            "Company proposal for customer balances", self._messages(self.mia)
        )
        self.assertIn("waiting for confirmation", self._messages(self.figma))
        self.assertIn(
            self.mia,
            self.Partner.search(
                [
                    ("balance_company_proposal_id", "!=", False),
                    ("parent_id", "=", False),
                ]
            ),
        )
        self._assert_sees_nothing_of_figma()

        charge = self._untaxed_item(self.mia, "Mia's desk", 30.0)
        self.assertEqual(charge.balance_id.partner_id, self.mia)
        self.assertNotEqual(charge.balance_id, self.figma_balance)

    def test_accountant_confirms_the_proposal(self):
        """Figma's accountant confirms Mia's proposal in one click: she is linked
        to Figma (logged on both chatters) and her next charge goes on Figma's
        balance."""
        self._submit_my_account("mia@figma.com")
        before = self._untaxed_item(self.mia, "Mia's desk", 30.0)

        self.mia.with_user(self.accountant).action_balance_confirm_company()

        self.assertEqual(self.mia.parent_id, self.figma)
        self.assertFalse(self.mia.balance_company_proposal_id)
        self.assertIn("Linked to company", self._messages(self.mia))
        self.assertIn("was linked to this company", self._messages(self.figma))
        after = self._untaxed_item(self.mia, "Mia's meeting room", 45.0)
        self.assertEqual(after.balance_id, self.figma_balance)
        self.assertEqual(before.balance_id.partner_id, self.mia)

    def test_rejected_proposal_is_not_proposed_again(self):
        """Rejected, the proposal is cleared and remembered: Mia typing another
        figma.com address proposes nothing again."""
        self._submit_my_account("mia@figma.com")
        self.mia.with_user(self.accountant).action_balance_reject_company()

        self.assertFalse(self.mia.parent_id)
        self.assertFalse(self.mia.balance_company_proposal_id)
        self.assertEqual(self.mia.balance_company_rejected_ids, self.figma)
        self.assertIn("rejected", self._messages(self.mia))

        self._submit_my_account("mia.member@figma.com")
        self.assertFalse(self.mia.balance_company_proposal_id)
        self.assertFalse(self.mia.parent_id)
        with self.assertRaises(UserError):
            self.mia.with_user(self.accountant).action_balance_reject_company()
        # Nor does a later edit by staff link her to the rejected company.
        self.mia.with_user(self.accountant).write({"name": "Mia M. Member"})
        self.assertFalse(self.mia.parent_id)

    def test_only_balance_users_decide(self):
        """A salesman (no Customer Balances rights) can neither confirm nor
        reject; the proposal stays."""
        self._submit_my_account("mia@figma.com")
        for action in (
            "action_balance_confirm_company",
            "action_balance_reject_company",
        ):
            with self.assertRaises(AccessError):
                getattr(self.mia.with_user(self.sales), action)()
        self.assertEqual(self.mia.balance_company_proposal_id, self.figma)
        self.assertFalse(self.mia.parent_id)

    def test_signup_or_shop_contact_only_proposes(self):
        """A contact created by the public user (signup, shop checkout) with a
        Figma company name is proposed, not linked."""
        public = self.env.ref("base.public_user")
        newcomer = (
            self.Partner.with_user(public)
            .sudo()
            .create({"name": "Nina", "company_name": "Figma", "email": "n@gmail.com"})
        )
        self.assertFalse(newcomer.parent_id)
        self.assertEqual(newcomer.balance_company_proposal_id, self.figma)

    def test_internal_user_edit_links_at_once(self):
        """An accountant entering Mia's Figma e-mail in the backend links her at
        once: what staff enter is trusted."""
        self.mia.with_user(self.accountant).write({"email": "mia@figma.com"})
        self.assertEqual(self.mia.parent_id, self.figma)
        self.assertFalse(self.mia.balance_company_proposal_id)
        self.assertIn("Linked to company", self._messages(self.mia))

    def test_proposals_are_listed_for_balance_users(self):
        """Balance users find proposals under Customer Balances → Company
        Proposals (the contacts' Company Proposal filter), with Confirm and Reject
        buttons in the list and on the contact's form."""
        self._submit_my_account("mia@figma.com")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_partner_company_proposal"
        )
        self.assertIn("search_default_balance_company_proposal", action["context"])
        menu = self.env.ref("customer_balance.menu_partner_company_proposal")
        self.assertIn(
            self.env.ref("customer_balance.group_customer_balance_user"),
            menu.group_ids,
        )
        Partner = self.Partner.with_user(self.accountant)
        views = Partner.get_views(
            [
                (
                    self.env.ref(
                        "customer_balance.view_partner_company_proposal_list"
                    ).id,
                    "list",
                ),
                (False, "form"),
                (False, "search"),
            ]
        )["views"]
        self.assertIn('name="balance_company_proposal"', views["search"]["arch"])
        for kind in ("list", "form"):
            self.assertIn("action_balance_confirm_company", views[kind]["arch"])
            self.assertIn("action_balance_reject_company", views[kind]["arch"])
        self.assertEqual(
            Partner.search([("balance_company_proposal_id", "!=", False)]), self.mia
        )
