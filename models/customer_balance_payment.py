# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import formatLang, str2bool


class CustomerBalance(models.Model):
    """Pay now: a member (or whoever holds the balance's share link) settles an
    open balance from its portal page. The balance is billed at once through the
    same transition as *Bill now*, its invoice posted, and paid on Odoo's own
    invoice payment page with the company's payment providers."""

    _inherit = "customer.balance"

    # === BUSINESS METHODS === #

    def _is_pay_now_enabled(self):
        """The company offers Pay now on the balance pages of its portal."""
        self.ensure_one()
        company = self.company_id
        return bool(
            company.balance_enabled
            and company.balance_portal_visible
            and company.balance_portal_pay
        )

    def _get_pay_now_invoice(self):
        """The posted consolidated invoice of this balance still to be paid
        online, if any."""
        self.ensure_one()
        invoice = self.invoice_id
        if self.state == "invoiced" and invoice.state == "posted":
            return invoice
        return self.env["account.move"]

    def _get_pay_now_blocker(self):
        """Why this balance cannot be paid now, in a sentence for the member, or
        ``False`` when it can. Nothing is billed for a balance that cannot.

        A balance of a period that has not started (scheduled items) is not paid
        early: its bookings may still be moved or cancelled before they take
        place, and it is billed once its period is over. A manual balance is
        billed by the accountant only."""
        self.ensure_one()
        online = str2bool(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("account_payment.enable_portal_payment", "True")
        )
        if not online or not self._get_pay_now_providers():
            return self.env._(
                "Online payment is not available: please contact us to pay."
            )
        if self.state == "invoiced":
            invoice = self.invoice_id
            if not invoice:
                return self.env._(
                    "Nothing to pay: the items of this balance net to zero."
                )
            if invoice.state != "posted":
                return self.env._(
                    "Your invoice is being prepared: you can pay it once it is issued."
                )
            if invoice.payment_state in ("paid", "in_payment", "reversed"):
                return self.env._("This balance is paid.")
            if invoice.move_type != "out_invoice":
                return self.env._(
                    "Nothing to pay: this balance is a credit in your favour."
                )
            if not invoice._has_to_be_paid():
                return self.env._("A payment of this invoice is being processed.")
            return False
        if self.state != "open":
            return self.env._("This balance is closed: there is nothing to pay.")
        if not self.billing_date or self.period_type == "manual":
            return self.env._(
                "This balance is billed by your account manager: it cannot be paid "
                "online before it is invoiced."
            )
        if self.is_scheduled:
            return self.env._(
                "This balance is for a period that has not started yet: it can be "
                "paid once its period has begun."
            )
        if self.currency_id.compare_amounts(self.amount_total, 0.0) <= 0:
            return self.env._(
                "Nothing to pay: the total of this balance is %s.",
                formatLang(self.env, self.amount_total, currency_obj=self.currency_id),
            )
        return False

    def _get_pay_now_providers(self):
        """The company's enabled payment providers an invoice can be paid with
        (not the checkout choice *Add to my customer balance*)."""
        self.ensure_one()
        return (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("state", "in", ("enabled", "test")),
                    ("custom_mode", "!=", "customer_balance"),
                ]
            )
        )

    def _pay_now(self):
        """Make this balance payable online now and return the posted invoice to
        pay. An open balance is billed at once through *Bill now*'s transition
        (``_consolidate``) and its invoice posted even when the company reviews
        consolidated invoices first: the member pays it right away. A balance
        already billed returns its invoice, so paying twice (a double click, two
        tabs) never makes a second invoice.

        Raises ``UserError`` with the reason when there is nothing to pay, and
        ``LockError`` when another request or the bill run is billing the
        balance right now."""
        self.ensure_one()
        # The bill run, or a second tab paying, holds the row while it bills.
        self.lock_for_update()
        # What other transactions committed before the lock.
        self.invalidate_recordset()
        blocker = self._get_pay_now_blocker()
        if blocker:
            raise UserError(blocker)
        if self.state == "open":
            invoice = self._consolidate()
            if invoice.state == "draft":
                invoice.action_post()
            self.message_post(
                body=self.env._(
                    "Billed at once for an online payment (Pay now) by %s.",
                    self.env.user.name
                    if not self.env.user._is_public()
                    else self.env._("a visitor of its share link"),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return self._get_pay_now_invoice()

    def _log_pay_now_failure(self, error):
        """Tell the accountants on the chatter why Pay now could not bill this
        balance: the member is only told that the payment could not start.
        Reasons she is shown (nothing to pay) are no failure."""
        self.ensure_one()
        if self._get_pay_now_blocker():
            return
        self.message_post(
            body=self.env._("Pay now could not bill this balance: %s", error.args[0]),
            subtype_xmlid="mail.mt_note",
        )
