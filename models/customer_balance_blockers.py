# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import format_date


class CustomerBalance(models.Model):
    """What would make billing a balance fail, said before the bill run tries
    (the bill run, *Bill now* and the bill run preview decide with it), and what
    the preview tells the accountant about a balance that bills all the same."""

    _inherit = "customer.balance"

    # === BUSINESS METHODS === #

    def _get_billing_blockers(self, on_date=None):
        """Add what creating or sending the consolidated invoice really fails on:
        a consolidated invoice of the balance that is already there (the
        database refuses a second one), an item whose product has no income
        account while the sales journal has no default account either (the
        invoice line would have no account), and, when invoices are e-mailed
        automatically, nobody with an e-mail to send it to. Checked for the
        whole set with a fixed number of queries."""
        blockers = defaultdict(list)
        for balance, reasons in super()._get_billing_blockers(on_date=on_date).items():
            blockers[balance].extend(reasons)
        if not self:
            return dict(blockers)
        for balance, reason in self._get_existing_invoice_blockers():
            blockers[balance].append(reason)
        for balance, reason in self._get_income_account_blockers():
            blockers[balance].append(reason)
        for balance, reason in self._get_recipient_blockers():
            blockers[balance].append(reason)
        return dict(blockers)

    def _get_existing_invoice_blockers(self):
        """``(balance, reason)`` for each balance that already has a consolidated
        invoice that is not cancelled (reset to draft after its cancellation
        reopened the balance, say): a second one cannot be created."""
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [("balance_id", "in", self.ids), ("state", "!=", "cancel")],
                ["balance_id"],
                ["id:recordset"],
            )
        )
        for balance, moves in groups:
            yield (
                balance.with_env(self.env),
                self.env._(
                    "Its consolidated invoice %s is already there (not cancelled): "
                    "confirm it and close the balance, or cancel or delete it.",
                    ", ".join(moves.mapped("display_name")),
                ),
            )

    def _get_income_account_blockers(self):
        """``(balance, reason)`` for each balance with a pending item whose product
        gives no income account while the sales journal the invoice is created
        in has no default account: the invoice line would have no account."""
        # The company's income account ends the product's chain: only a company
        # without one can have a product without (no query for the others).
        journal_accounts = {}
        for company in self.company_id.filtered(
            lambda company: not company.income_account_id
        ):
            journal = (
                self.env["account.journal"]
                .sudo()
                .search(
                    [
                        *self.env["account.journal"]._check_company_domain(company),
                        ("type", "=", "sale"),
                    ],
                    limit=1,
                )
            )
            journal_accounts[company] = journal.default_account_id
        companies = self.env["res.company"].union(
            *(company for company, account in journal_accounts.items() if not account)
        )
        if not companies:
            return
        groups = (
            self.env["customer.balance.line"]
            .sudo()
            ._read_group(
                [
                    ("balance_id", "in", self.ids),
                    ("company_id", "in", companies.ids),
                    ("state", "=", "pending"),
                    ("product_id", "!=", False),
                ],
                ["balance_id", "product_id"],
            )
        )
        for balance, product in groups:
            accounts = product.with_company(
                balance.company_id
            ).product_tmpl_id._get_product_accounts()
            if not accounts["income"]:
                yield (
                    balance.with_env(self.env),
                    self.env._(
                        "Product %s has no income account (nor its category, nor "
                        "the company), and the sales journal has no default "
                        "account.",
                        product.display_name,
                    ),
                )

    def _get_recipient_blockers(self):
        """``(balance, reason)`` for each balance whose company e-mails
        consolidated invoices automatically while nobody would receive it: no
        invoice address with an e-mail, and no contact of the company with one
        (``account.move.send``'s own choice of recipients)."""
        sending = self.filtered(
            lambda balance: (
                balance.company_id.balance_auto_post
                and balance.company_id.balance_auto_send
            )
        )
        MoveSend = self.env["account.move.send"]
        for balance in sending:
            partner = balance._get_invoice_partner()
            if not MoveSend._get_balance_mail_partners(
                self.env["account.move"], partner=partner, balance=balance
            ):
                yield (
                    balance,
                    self.env._(
                        "No invoice address with an e-mail: the invoice could not "
                        "be sent. Add an e-mail to %s or to a contact of the "
                        "company.",
                        partner.display_name,
                    ),
                )

    @api.model
    def _get_lock_date_day(self, company, on_date):
        """The day after the lock dates that would refuse a customer invoice of
        ``company`` dated ``on_date``, or ``None``: the invoice is dated then
        (see ``_get_consolidation_date``)."""
        locks = company._get_lock_date_violations(
            on_date, fiscalyear=True, sale=True, purchase=False, tax=True, hard=True
        )
        if not locks:
            return None
        return max(lock_date for lock_date, _field in locks) + relativedelta(days=1)

    def _get_billing_notes(self, on_date=None):
        """What the bill run preview says of balances billed all the same:
        ``{balance: [note]}``. An archived customer is billed like any other; an
        invoice whose day is locked is dated after the lock dates."""
        notes = defaultdict(list)
        lock_days = {}
        for balance in self:
            company = balance.company_id
            if company not in lock_days:
                lock_days[company] = self._get_lock_date_day(
                    company, on_date or company._balance_today()
                )
            if lock_days[company]:
                notes[balance].append(
                    self.env._(
                        "Dated %s: the books are locked before that day.",
                        format_date(self.env, lock_days[company]),
                    )
                )
            if not balance.partner_id.active:
                notes[balance].append(
                    self.env._(
                        "%s is archived: billed all the same.",
                        balance.partner_id.display_name,
                    )
                )
        return dict(notes)
