# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.account_payment.tests.common import AccountPaymentCommon

from .common import CustomerBalanceCommon

PAID = ("paid", "in_payment")
DECLINED = "The card was declined by the issuer."


@tagged("post_install", "-at_install")
class TestAutoPayment(CustomerBalanceCommon, AccountPaymentCommon):
    """Members who saved a card are charged when their consolidated invoice is
    confirmed. Built on Odoo's payment test setup (``PaymentCommon``, through
    ``account_payment``'s ``AccountPaymentCommon``): its dummy provider, with a
    journal and payment method, stands for the card processor; each saved card says
    how its charges end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"balance_auto_post": True, "balance_auto_pay": True})

    def setUp(self):
        super().setUp()
        # The card processor: a charge ends as the card says.
        self.card_outcomes = outcomes = {}

        def send_payment_request(tx):
            if outcomes.get(tx.token_id.id) == "done":
                tx._set_done()
            else:
                tx._set_error(DECLINED)

        self.startPatcher(
            patch.object(
                type(self.env["payment.transaction"]),
                "_send_payment_request",
                send_payment_request,
            )
        )

    # === HELPERS === #

    def _token(self, partner, outcome):
        """A card ``partner`` saved, whose charges end ``outcome`` (done or
        error)."""
        token = self._create_token(
            partner_id=partner.id, provider_ref=f"card-{partner.id}"
        )
        self.card_outcomes[token.id] = outcome
        return token

    def _june_balance(self, partner=None):
        """``partner``'s (Anna's) June balance: desk days of 100.00 and 60.00 and
        her 50.00 membership charge, 241.50 with the 15 % tax."""
        balance = self._balance(partner or self.anna)
        self._item(balance, 100.0)
        self._item(balance, 60.0)
        self._item(balance, 50.0, name="Membership", origin="subscription")
        self.assertEqual(balance.amount_total, 241.5)
        return balance

    def _transactions(self, invoice):
        return (
            self.env["payment.transaction"]
            .sudo()
            .search([("invoice_ids", "in", invoice.ids)])
        )

    # === TESTS === #

    @freeze_time("2026-07-01 08:00:00")
    def test_saved_card_pays_the_consolidated_invoice(self):
        """Anna saved a card: the bill run of 1 July confirms her June invoice
        (desk days and membership, 241.50) and charges the card for it; the
        invoice is paid, with the payment linked to the transaction."""
        token = self._token(self.anna, "done")
        balance = self._june_balance()

        self._bill_run()

        invoice = balance.invoice_id
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, PAID)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        tx = self._transactions(invoice)
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.operation, "offline")
        self.assertEqual(tx.token_id, token)
        self.assertEqual(tx.amount, 241.5)
        self.assertEqual(tx.payment_id.amount, 241.5)
        self.assertFalse(invoice.activity_ids)
        self.assertFalse(balance.billing_error)

    @freeze_time("2026-07-01 08:00:00")
    def test_refused_card_leaves_invoice_open_with_follow_up(self):
        """Anna's card is refused: her June invoice is confirmed but stays open
        for the full 241.50; the invoice and the balance say why the charge
        failed, and a to-do asks the accountant to follow up."""
        self._token(self.anna, "error")
        balance = self._june_balance()

        self._bill_run()

        invoice = balance.invoice_id
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 241.5)
        self.assertEqual(self._transactions(invoice).state, "error")
        for record in (invoice, balance):
            chatter = self._chatter(record)
            self.assertIn("failed", chatter)
            self.assertIn(DECLINED, chatter)
            self.assertIn("The invoice stays open", chatter)
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertEqual(activity.summary, "Automatic payment failed")
        self.assertTrue(activity.user_id)
        self.assertFalse(activity.user_id._is_superuser())

    @freeze_time("2026-06-20 08:00:00")
    def test_company_card_pays_company_balance(self):
        """Per company, Figma saved a card: billing Figma's balance early charges
        Figma's card."""
        self.company.balance_grouping = "company"
        token = self._token(self.figma, "done")
        balance = self._june_balance(self.figma)

        invoice = balance._consolidate()

        self.assertIn(invoice.payment_state, PAID)
        self.assertEqual(self._transactions(invoice).token_id, token)

    @freeze_time("2026-06-20 08:00:00")
    def test_no_charge_without_setting_or_card(self):
        """No card saved, or the company does not charge saved cards: the
        confirmed invoice waits to be paid and no transaction is made."""
        balance = self._june_balance()
        invoice = balance._consolidate()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self._transactions(invoice))

        self.company.balance_auto_pay = False
        self._token(self.lisa, "done")
        balance = self._june_balance(self.lisa)
        invoice = balance._consolidate()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self._transactions(invoice))

    def test_card_of_disabled_provider_not_used(self):
        """A card of a provider that is switched off is not charged."""
        self._token(self.anna, "done")
        self.provider.state = "disabled"
        with freeze_time("2026-06-20 08:00:00"):
            invoice = self._june_balance()._consolidate()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self._transactions(invoice))
