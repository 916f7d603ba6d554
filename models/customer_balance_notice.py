# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from psycopg2 import errors

from odoo import api, fields, models
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

NOTICE_TEMPLATE = "customer_balance.mail_template_balance_upcoming_invoice"


class CustomerBalance(models.Model):
    """The *upcoming invoice* notice (DESIGN 5.10): a few days before a balance is
    billed, its recipients are e-mailed what the invoice will hold, once."""

    _inherit = "customer.balance"

    notice_date = fields.Date(
        string="Notice Sent On",
        readonly=True,
        copy=False,
        help="The day the upcoming invoice notice was e-mailed to the balance's "
        "recipients. It is sent once: items added later are on the balance page.",
    )

    # === BUSINESS METHODS === #

    @api.model
    def _get_notice_domain(self):
        """Open balances whose notice is due today: not sent yet, something to
        bill, and billed (as the bill run decides it) within the company's
        ``balance_notice_days``, but not by today's run, which bills them anyway
        (due, or above the billing threshold)."""
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("balance_enabled", "=", True), ("balance_notice_days", ">", 0)])
        )
        if not companies:
            return Domain.FALSE
        # Due on the last day of the window = billed within the window: the bill
        # run's own rule of what is due, asked for another day.
        in_window = Domain.OR(
            Domain("company_id", "=", company.id)
            & self._get_due_domain(
                with_errors=True,
                with_threshold=False,
                on_date=company._balance_today()
                + relativedelta(days=company.balance_notice_days),
            )
            for company in companies
        )
        return (
            Domain("state", "=", "open")
            & Domain("notice_date", "=", False)
            & Domain("amount_total", "!=", 0)
            & in_window
            & ~self._get_due_domain(with_errors=True)
        )

    def _get_notice_recipients(self):
        """Who receives the notice: the member; for a company, its billing
        contacts, else the address its consolidated invoice is e-mailed to. All
        of them may read the whole balance (the notice links to it)."""
        self.ensure_one()
        partner = self.partner_id
        if not partner.is_company:
            return partner if partner.email else partner.browse()
        contacts = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("id", "!=", partner.id),
                    ("balance_billing_contact", "=", True),
                    ("email", "!=", False),
                ],
                order="id",
            )
        )
        if contacts:
            return contacts.with_env(self.env)
        return self.env["account.move.send"]._get_balance_mail_partners(
            self.env["account.move"], partner=self._get_invoice_partner(), balance=self
        )

    def _get_notice_lines(self):
        """The items the notice lists: what the invoice would bill today."""
        self.ensure_one()
        return self._get_document_lines().sorted(
            lambda item: (item.service_date or fields.Date.today(), item.id)
        )

    def _get_notice_portal_url(self):
        """The balance page, with the access token: the notice's recipients may
        read the whole balance. Empty when the company shows no balances in the
        portal (the page would not open)."""
        self.ensure_one()
        company = self.company_id
        if not (company.balance_enabled and company.balance_portal_visible):
            return ""
        return self.get_portal_url()

    def _notice_offers_pay_now(self):
        """Whether the balance page offers *Pay now* (``balance_portal_pay``)."""
        self.ensure_one()
        # ``balance_portal_pay`` comes with the Pay now feature: absent before it.
        return bool(
            self._get_notice_portal_url()
            and self.company_id._fields.get("balance_portal_pay")
            and self.company_id.balance_portal_pay
        )

    def _send_upcoming_notice(self):
        """E-mail the upcoming invoice notice of this balance to its recipients,
        rendered from the editable template in the customer's language and
        posted on its chatter addressed to them, and record the day. Returns
        whether it was sent (not without a recipient with an e-mail)."""
        self.ensure_one()
        template = self.env.ref(NOTICE_TEMPLATE, raise_if_not_found=False)
        recipients = self._get_notice_recipients()
        if not template or not recipients:
            _logger.info("Balance %s: no notice recipient with an e-mail", self.id)
            return False
        self._portal_ensure_token()
        values = template._generate_template(
            self.ids, ["subject", "body_html", "email_from", "reply_to"]
        )[self.id]
        # Queued, not sent inside the run: the mail queue sends it once this
        # notice is committed, with its notice date.
        self.with_context(mail_notify_force_send=False).message_post(
            body=values["body_html"],
            subject=values["subject"],
            email_from=values.get("email_from") or None,
            reply_to=values.get("reply_to") or None,
            author_id=self.company_id.partner_id.id,
            partner_ids=recipients.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid=template.email_layout_xmlid
            or "mail.mail_notification_light",
        )
        self.notice_date = self.company_id._balance_today()
        return True

    def _get_notice_balances(self):
        """The balances of ``self`` the notice goes to: those the bill run would
        bill on their invoice date as things stand (not those it would close,
        carry over or fail), asked with the run's own decision."""
        by_date = defaultdict(lambda: self.browse())
        for balance in self:
            by_date[balance.invoice_creation_date] |= balance
        to_notify = self.browse()
        for day, balances in by_date.items():
            decisions = balances._get_bill_decision(on_date=day)
            to_notify |= balances.filtered(
                lambda balance, decisions=decisions: (
                    decisions[balance]["outcome"] == "bill"
                )
            )
        return to_notify


class CustomerBalanceRun(models.Model):
    _inherit = "customer.balance.run"

    @api.model
    def _send_upcoming_notices(self):
        """Step 6 of the bill run: send the upcoming invoice notice of each balance
        whose notice is due, each under a row lock. In the scheduled run each
        notice is committed with its notice date as the run's progress, so that
        a run that dies after sending resumes without sending it again (the mail
        itself is queued in the same transaction). Run by hand (*Run Now*, a
        request) nothing is committed here. When the scheduled run's time is up,
        the rest is sent by the next run (still in their notice window)."""
        super()._send_upcoming_notices()
        Balance = self.env["customer.balance"]
        domain = Balance._get_notice_domain()
        balances = Balance.search(domain, order="billing_date, id")
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        for balance_id in balances._get_notice_balances().ids:
            balance = Balance.browse(balance_id)
            try:
                with self.env.cr.savepoint():
                    # Another worker may hold it, or have sent its notice since.
                    balance = balance.try_lock_for_update()
                    balance.invalidate_recordset(["state", "notice_date"])
                    if balance.filtered_domain(domain):
                        balance._send_upcoming_notice()
            except errors.SerializationFailure:
                self.env.invalidate_all()
            except Exception as error:  # noqa: BLE001 - a notice never stops the run
                self.env.invalidate_all()
                _logger.warning(
                    "Bill run: notice of balance %s failed: %s", balance_id, error
                )
            if in_cron and self.env["ir.cron"]._commit_progress(1) <= 0:
                return
