# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestAccess(CustomerBalanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.balance_anna = cls._balance(cls.anna)
        cls.item_anna = cls._item(cls.balance_anna, 100.0)
        cls.balance_figma = cls._balance(cls.figma)
        cls.item_figma = cls._item(cls.balance_figma, 40.0, partner=cls.ben)
        cls.balance_lisa = cls._balance(cls.lisa)
        cls.item_lisa = cls._item(cls.balance_lisa, 70.0)
        cls.portal_anna = new_test_user(
            cls.env,
            login="anna.portal",
            groups="base.group_portal",
            partner_id=cls.anna.id,
        )
        cls.portal_ben = new_test_user(
            cls.env,
            login="ben.portal",
            groups="base.group_portal",
            partner_id=cls.ben.id,
        )

    def _visible(self, user, model="customer.balance"):
        return self.env[model].with_user(user).search([]).sudo()

    def test_portal_user_reads_own_balances_only(self):
        """Anna, a plain employee of Figma, reads her own balance, neither Figma's
        (not even its total by RPC) nor Lisa's."""
        self.assertEqual(self._visible(self.portal_anna), self.balance_anna)
        self.balance_anna.with_user(self.portal_anna).check_access("read")
        for balance in (self.balance_figma, self.balance_lisa):
            with self.assertRaises(AccessError):
                balance.with_user(self.portal_anna).check_access("read")
            with self.assertRaises(AccessError):
                balance.with_user(self.portal_anna).read(["amount_total"])

    def test_portal_user_never_reads_a_colleague_own_balance(self):
        """Ben works at Figma too, but Anna's personal balance is hers alone; Ben
        reads his own items on Figma's balance, not the balance itself."""
        self.assertFalse(self._visible(self.portal_ben))
        self.assertEqual(
            self._visible(self.portal_ben, "customer.balance.line"), self.item_figma
        )
        with self.assertRaises(AccessError):
            self.balance_anna.with_user(self.portal_ben).read(["amount_total"])
        with self.assertRaises(AccessError):
            self.item_anna.with_user(self.portal_ben).read(["price_total"])

    def test_portal_user_items_follow_balances(self):
        """Anna reads the items of her own balance; Ben's item on Figma's balance
        and Lisa's stay hidden from her."""
        self.assertEqual(
            self._visible(self.portal_anna, "customer.balance.line"), self.item_anna
        )
        for item in (self.item_lisa, self.item_figma):
            with self.assertRaises(AccessError):
                item.with_user(self.portal_anna).read(["price_total"])

    def test_billing_contact_reads_company_balance(self):
        """Figma's accountant marks Anna as billing contact: she reads Figma's
        balance and all its items at once; unmarked, she loses them at once."""
        self.anna.balance_billing_contact = True
        self.assertEqual(
            self._visible(self.portal_anna), self.balance_anna + self.balance_figma
        )
        self.assertEqual(
            self._visible(self.portal_anna, "customer.balance.line"),
            self.item_anna + self.item_figma,
        )
        self.assertAlmostEqual(
            self.balance_figma.with_user(self.portal_anna).amount_total,
            self.balance_figma.amount_total,
        )
        self.assertFalse(self._visible(self.portal_ben))
        self.anna.balance_billing_contact = False
        self.assertEqual(self._visible(self.portal_anna), self.balance_anna)

    def test_invoice_address_is_a_billing_contact(self):
        """Figma's invoice address has a portal login: it reads Figma's balance
        and its items, never Lisa's."""
        payable = self.env["res.partner"].create(
            {"name": "Figma Payable", "type": "invoice", "parent_id": self.figma.id}
        )
        self.assertTrue(payable.balance_billing_company_id)
        self.assertFalse(self.anna.balance_billing_company_id)
        self.assertFalse(self.figma.balance_billing_company_id)
        user = new_test_user(
            self.env,
            login="figma.payable",
            groups="base.group_portal",
            partner_id=payable.id,
        )
        self.assertEqual(self._visible(user), self.balance_figma)
        self.assertEqual(self._visible(user, "customer.balance.line"), self.item_figma)

    def test_portal_user_cannot_write(self):
        with self.assertRaises(AccessError):
            self.balance_anna.with_user(self.portal_anna).write({"state": "cancel"})
        with self.assertRaises(AccessError):
            self.item_anna.with_user(self.portal_anna).write({"price_unit": 1.0})
        with self.assertRaises(AccessError):
            self.env["customer.balance"].with_user(self.portal_anna).create(
                {"partner_id": self.anna.id}
            )

    def test_accounting_user_of_another_company(self):
        """An accountant of Musterstadt cannot see or touch the balances of the
        coworking company."""
        other = self.setup_other_company(name="Musterstadt Hall")["company"]
        accountant = new_test_user(
            self.env,
            login="musterstadt.accountant",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertTrue(
            accountant.has_group("customer_balance.group_customer_balance_user")
        )
        own = (
            self.env["customer.balance"]
            .with_user(accountant)
            .create({"partner_id": self.lisa.id})
        )
        self.assertEqual(own.company_id, other)
        self.assertEqual(self._visible(accountant), own.sudo())
        with self.assertRaises(AccessError):
            self.balance_anna.with_user(accountant).read(["amount_total"])
        with self.assertRaises(AccessError):
            self.balance_anna.with_user(accountant).write({"state": "cancel"})
        with self.assertRaises(AccessError):
            self.item_anna.with_user(accountant).write({"price_unit": 1.0})

    def test_groups_follow_invoicing_groups(self):
        """Invoicing users are balance users; accounting administrators manage
        balances; a plain employee has no access."""
        billing = new_test_user(
            self.env, login="billing", groups="account.group_account_invoice"
        )
        admin = new_test_user(
            self.env, login="acc.admin", groups="account.group_account_manager"
        )
        employee = new_test_user(self.env, login="employee", groups="base.group_user")
        self.assertTrue(
            billing.has_group("customer_balance.group_customer_balance_user")
        )
        self.assertFalse(
            billing.has_group("customer_balance.group_customer_balance_manager")
        )
        self.assertTrue(
            admin.has_group("customer_balance.group_customer_balance_manager")
        )
        self.assertFalse(
            employee.has_group("customer_balance.group_customer_balance_user")
        )
        with self.assertRaises(AccessError):
            self.balance_anna.with_user(employee).read(["amount_total"])
        # Only managers delete balances.
        with self.assertRaises(AccessError):
            self.balance_lisa.with_user(billing).unlink()
        self.balance_lisa.line_ids.with_user(admin).unlink()
        self.balance_lisa.with_user(admin).unlink()
        self.assertFalse(self.balance_lisa.exists())
