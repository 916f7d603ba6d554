# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import uuid

from dateutil.relativedelta import relativedelta
from psycopg2 import errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import clean_context, format_amount, format_date

_logger = logging.getLogger(__name__)


class CustomerBalance(models.Model):
    """An open account of pending items for one billed partner, company, currency and
    billing period; billed as one consolidated invoice once the period is over."""

    _name = "customer.balance"
    _description = "Customer Balance"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        index="trigram",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The partner the consolidated invoice is made for: the contact, or its "
        "company when balances are kept per company.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    period_type = fields.Selection(
        selection=lambda self: (
            self.env["res.company"]._fields["balance_period"].selection
        ),
        string="Period Kind",
        required=True,
        default="month",
        readonly=True,
        help="The billing period this balance was opened with. Changing the setting "
        "later does not change open balances.",
    )
    period_start = fields.Date(readonly=True, index=True)
    period_end = fields.Date(readonly=True)
    billing_date = fields.Date(
        readonly=True,
        index=True,
        tracking=True,
        help="The day the consolidated invoice is created: end of the period plus the "
        "billing delay. Empty for manual balances.",
    )
    state = fields.Selection(
        selection=[
            ("open", "Open"),
            ("invoiced", "Invoiced"),
            ("cancel", "Cancelled"),
        ],
        required=True,
        default="open",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
    )
    is_scheduled = fields.Boolean(
        string="Scheduled",
        compute="_compute_is_scheduled",
        search="_search_is_scheduled",
        help="The period of this balance has not started yet.",
    )
    line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="balance_id",
        string="Items",
    )
    invoice_id = fields.Many2one(
        comodel_name="account.move",
        string="Consolidated Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        check_company=True,
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount",
        compute="_compute_amounts",
        store=True,
        tracking=True,
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    item_count = fields.Integer(string="Items Count", compute="_compute_item_count")
    carried_from_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Carried Over From",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A balance below the minimum amount that was carried into this one.",
    )

    billing_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last bill run could not bill this balance. The bill run leaves "
        "it out until someone retries.",
    )
    is_due = fields.Boolean(
        string="Due",
        compute="_compute_is_due",
        search="_search_is_due",
        help="The period is over and the billing date has come: the bill run bills "
        "this balance.",
    )
    invoice_creation_date = fields.Date(
        string="Invoice Date",
        compute="_compute_invoice_creation_date",
        help="The day the consolidated invoice will be created.",
    )
    is_above_threshold = fields.Boolean(
        string="Above Threshold",
        compute="_compute_is_above_threshold",
        search="_search_is_above_threshold",
        help="The balance is open and its total reached the company's billing "
        "threshold: it is billed at once unless that failed.",
    )
    bill_run_inactive = fields.Boolean(
        compute="_compute_bill_run_inactive",
        help="The scheduled bill run is switched off: due balances are not billed "
        "by themselves.",
    )

    _one_open_balance_per_period = models.UniqueIndex(
        "(partner_id, company_id, currency_id,"
        " COALESCE(period_start, '0001-01-01'::date))"
        " WHERE state = 'open'",
        "A customer can only have one open balance per company, currency and period.",
    )
    _one_balance_per_invoice = models.UniqueIndex(
        "(invoice_id) WHERE invoice_id IS NOT NULL",
        "An invoice can only be the consolidated invoice of one balance.",
    )
    _period_consistent = models.Constraint(
        "CHECK (period_end IS NULL OR period_start IS NULL"
        " OR period_end >= period_start)",
        "The end of a billing period cannot be before its start.",
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "line_ids.state",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.discount",
        "line_ids.tax_ids",
        "line_ids.currency_id",
        "currency_id",
    )
    def _compute_amounts(self):
        """Totals of the pending items, computed over the whole set at once by the tax
        engine, as the consolidated invoice will compute them (so that rounding
        globally gives the same cents as the invoice)."""
        for balance in self:
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            totals = balance._compute_totals(lines)
            balance.amount_untaxed = totals["base_amount_currency"]
            balance.amount_tax = totals["tax_amount_currency"]
            balance.amount_total = totals["total_amount_currency"]

    @api.depends("line_ids.state")
    def _compute_item_count(self):
        counts = dict(
            self.env["customer.balance.line"]._read_group(
                [("balance_id", "in", self.ids), ("state", "=", "pending")],
                ["balance_id"],
                ["__count"],
            )
        )
        for balance in self:
            balance.item_count = counts.get(balance._origin, 0)

    @api.depends("period_start", "company_id")
    def _compute_is_scheduled(self):
        for balance in self:
            today = balance.company_id._balance_today()
            balance.is_scheduled = bool(
                balance.period_start and balance.period_start > today
            )

    def _search_is_scheduled(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        # One "today" per company: their time zones may differ.
        scheduled = Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("period_start", ">", company._balance_today())
            for company in self.env["res.company"].sudo().search([])
        )
        if (operator == "in") == (True in value):
            return scheduled
        return ~scheduled

    @api.depends("state", "billing_date", "period_end", "company_id")
    def _compute_is_due(self):
        for balance in self:
            balance.is_due = balance._is_due()

    def _search_is_due(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        due = self._get_due_domain(with_errors=True)
        if (operator == "in") == (True in value):
            return due
        return ~due

    @api.depends("billing_date", "period_end")
    def _compute_invoice_creation_date(self):
        for balance in self:
            # Billed once the period is over and the billing date has come.
            balance.invoice_creation_date = balance.billing_date and max(
                balance.billing_date, balance.period_end + relativedelta(days=1)
            )

    @api.depends("state", "amount_total", "currency_id", "company_id")
    def _compute_is_above_threshold(self):
        for balance in self:
            threshold = balance.company_id.balance_threshold_amount
            balance.is_above_threshold = bool(
                balance.state == "open"
                and threshold
                and balance.currency_id == balance.company_id.currency_id
                and balance.currency_id.compare_amounts(balance.amount_total, threshold)
                >= 0
            )

    def _search_is_above_threshold(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        # The threshold is in the company's currency, as the consolidation reads it.
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("balance_threshold_amount", ">", 0)])
        )
        above = Domain("state", "=", "open") & Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("currency_id", "=", company.currency_id.id)
            & Domain("amount_total", ">=", company.balance_threshold_amount)
            for company in companies
        )
        if (operator == "in") == (True in value):
            return above
        return ~above

    def _compute_bill_run_inactive(self):
        cron = self.env.ref(
            "customer_balance.ir_cron_consolidate_due", raise_if_not_found=False
        )
        # Only administrators read scheduled actions; everyone sees the warning.
        self.bill_run_inactive = not (cron and cron.sudo().exists().active)

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for balance in self:
            balance.access_url = f"/my/balances/{balance.id}"
        return res

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = (
                    self.env["res.company"].browse(vals.get("company_id"))
                    or self.env.company
                )
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("customer.balance")
                    or "/"
                )
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if any(balance.state == "invoiced" for balance in self):
            raise UserError(_("A balance that has been invoiced cannot be deleted."))
        if self.line_ids.filtered(lambda line: line.state == "invoiced"):
            raise UserError(_("A balance with invoiced items cannot be deleted."))

    # === ACTION METHODS === #

    def action_view_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_line"
        )
        action["domain"] = [("balance_id", "=", self.id)]
        action["context"] = {"default_balance_id": self.id, "search_default_pending": 1}
        return action

    def action_view_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def action_consolidate(self):
        """Bill now: all pending items of each balance become one consolidated
        invoice (or credit note). Also what the bill run calls per balance."""
        # A bill run billing this balance holds its lock: refuse rather than wait.
        self.lock_for_update()
        invoices = self._consolidate()
        if len(invoices) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": invoices.id,
                "view_mode": "form",
            }
        return invoices._get_records_action(name=_("Consolidated Invoices"))

    def action_preview(self):
        """What the consolidated invoice would contain, without creating it."""
        self.ensure_one()
        if self.state != "open":
            raise UserError(_("Only open balances can be previewed."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of the Consolidated Invoice"),
            "res_model": "customer.balance.preview",
            "view_mode": "form",
            "target": "new",
            "context": {"default_balance_id": self.id},
        }

    def action_revoke_share_links(self):
        """A new access token: links shared before no longer open the balance."""
        for balance in self:
            balance.access_token = str(uuid.uuid4())
            balance.message_post(body=_("Share links revoked."))

    def action_retry_billing(self):
        self.billing_error = False

    def action_cancel(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel Balance"),
            "res_model": "customer.balance.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_balance_ids": [Command.set(self.ids)]},
        }

    def action_add_entry(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_entry"
        )
        action["context"] = {
            "default_balance_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        return action

    # === BUSINESS METHODS === #

    @api.model
    def _create_for_assignment(self, vals_list):
        """Create the balances items were assigned to. Another transaction may have
        created the same balance meanwhile: the unique index refuses the duplicate
        and the transaction is retried as a concurrency conflict, after which the
        other balance is found."""
        try:
            with self.env.cr.savepoint():
                balances = self.create(vals_list)
                balances.flush_recordset()
        except errors.UniqueViolation as error:
            if "one_open_balance_per_period" not in str(error):
                raise
            raise errors.SerializationFailure(
                "customer balance created concurrently, retrying"
            ) from error
        return balances

    def _cancel(self, reason):
        """Cancel open balances and their pending items, saying why in the chatter."""
        for balance in self:
            if balance.state != "open":
                raise UserError(
                    _("Only open balances can be cancelled (%s).", balance.name)
                )
        pending = self.line_ids.filtered(lambda line: line.state == "pending")
        pending.write({"state": "cancel"})
        self.write({"state": "cancel"})
        for balance in self:
            balance.message_post(
                body=_("Balance cancelled: %s", reason),
                subtype_xmlid="mail.mt_note",
            )

    # --- Consolidation ---

    def _get_consolidation_date(self):
        """The consolidated invoice's date: the billing date, or today when billed
        early."""
        self.ensure_one()
        today = self.company_id._balance_today()
        if self.billing_date and self.billing_date <= today:
            return self.billing_date
        return today

    def _is_due(self):
        """The period is over and its billing date has come."""
        self.ensure_one()
        today = self.company_id._balance_today()
        return bool(
            self.state == "open"
            and self.billing_date
            and self.billing_date <= today
            and self.period_end < today
        )

    @api.model
    def _get_due_domain(self, with_errors=False):
        """Open balances whose period is over and whose billing date has come, in
        each company's own time zone, except (for the bill run) those whose billing
        failed."""
        companies = (
            self.env["res.company"].sudo().search([("balance_enabled", "=", True)])
        )
        return (
            Domain("state", "=", "open")
            & (Domain.TRUE if with_errors else Domain("billing_error", "=", False))
            & Domain.OR(
                Domain("company_id", "=", company.id)
                & Domain("billing_date", "<=", company._balance_today())
                & Domain("period_end", "<", company._balance_today())
                for company in companies
            )
        )

    def _consolidate(self):
        """Turn the pending items of each open balance into one invoice (a credit
        note when the net total is negative). Items netting to zero create nothing:
        they are closed with the balance. Returns the invoices."""
        invoices = self.env["account.move"]
        for balance in self:
            if balance.state != "open":
                raise UserError(
                    _("Balance %s is not open: it cannot be billed.", balance.name)
                )
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            total = balance._compute_totals(lines)["total_amount_currency"]
            if not lines or balance.currency_id.is_zero(total):
                lines.state = "cancel"
                balance.write({"state": "invoiced", "billing_error": False})
                balance.message_post(
                    body=_("Nothing to bill: the items net to zero. Balance closed."),
                )
                continue
            invoice = balance._invoice_items(
                lines, balance._get_consolidation_date(), consolidate=True
            )
            balance.write(
                {"invoice_id": invoice.id, "state": "invoiced", "billing_error": False}
            )
            balance.message_post(
                body=_(
                    "Consolidated %(document)s %(link)s created for %(count)s items.",
                    document=invoice.type_name,
                    link=invoice._get_html_link(),
                    count=len(lines),
                )
            )
            balance._post_and_send(invoice)
            invoices |= invoice
        return invoices

    def _post_and_send(self, invoice):
        """Confirm and e-mail the consolidated invoice as the company wants it."""
        self.ensure_one()
        company = self.company_id
        if not company.balance_auto_post:
            return
        invoice.action_post()
        if company.balance_auto_pay:
            self._charge_saved_payment_method(invoice)
        if not company.balance_auto_send:
            return
        recipients = self._get_invoice_mail_partners(invoice.partner_id)
        # Sent in the background by Odoo's own sending job, like batch sending.
        invoice.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
            "mail_partner_ids": recipients.ids,
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    # --- Automatic payment ---

    def _get_payment_token(self):
        """The saved payment method a consolidated invoice of this balance is charged
        with: the latest active token of the billed partner, else of its company,
        of a provider enabled (or in test mode) in the balance's company that
        captures at once."""
        self.ensure_one()
        partner = self.partner_id
        tokens = (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", (partner | partner.commercial_partner_id).ids),
                    ("provider_id.company_id", "=", self.company_id.id),
                    ("provider_id.state", "in", ("enabled", "test")),
                    ("provider_id.capture_manually", "=", False),
                ],
                order="id desc",
            )
        )
        return tokens.sorted(lambda token: token.partner_id != partner)[:1]

    def _prepare_payment_transaction_values(self, invoice, token):
        """Values of the transaction charging ``invoice`` with ``token``, as
        ``account_payment`` prepares a payment by token."""
        self.ensure_one()
        return {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": self.env["payment.transaction"]._compute_reference(
                token.provider_id.code, prefix=invoice.name
            ),
            "amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "partner_id": token.partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": [Command.set(invoice.ids)],
        }

    def _charge_saved_payment_method(self, invoice):
        """Charge the posted consolidated ``invoice`` with the customer's saved
        payment method through Odoo's payment flow: a confirmed transaction
        registers the payment and reconciles the invoice; a failed one leaves it
        open, says why on the invoice and the balance and asks the accountant to
        follow up. Returns the transaction, if any."""
        self.ensure_one()
        Transaction = self.env["payment.transaction"]
        if invoice.move_type != "out_invoice" or invoice.state != "posted":
            return Transaction
        if invoice.currency_id.is_zero(invoice.amount_residual):
            return Transaction
        token = self._get_payment_token()
        if not token:
            return Transaction
        tx = Transaction.sudo().create(
            self._prepare_payment_transaction_values(invoice, token)
        )
        tx._charge_with_token()
        if tx.state == "done":
            try:
                # A failed post-processing is retried by Odoo's own job.
                with self.env.cr.savepoint():
                    tx._post_process()
            except Exception as error:  # noqa: BLE001 - retried by the payment cron
                _logger.warning("Post-processing %s failed: %s", tx.reference, error)
        elif tx.state in ("error", "cancel"):
            self._report_failed_charge(invoice, tx)
        return tx

    def _report_failed_charge(self, invoice, tx):
        """A refused charge: say why on the invoice and the balance, and schedule a
        follow-up for the accountant on the invoice."""
        self.ensure_one()
        reason = tx.state_message or dict(
            tx._fields["state"]._description_selection(self.env)
        ).get(tx.state)
        body = _(
            "Charging %(token)s for %(amount)s failed: %(reason)s. The invoice stays "
            "open.",
            token=tx.token_id.display_name,
            amount=format_amount(self.env, tx.amount, tx.currency_id),
            reason=reason,
        )
        invoice.message_post(body=body)
        self.message_post(body=body)
        invoice.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Automatic payment failed"),
            note=reason,
            user_id=self._get_payment_follow_up_user().id,
        )

    def _get_payment_follow_up_user(self):
        """Who follows up a failed charge: the user who billed the balance, or when
        the bill run did, the company's first accounting manager."""
        self.ensure_one()
        user = self.env.user
        if user._is_internal() and not user._is_superuser():
            return user
        managers = self.env.ref("account.group_account_manager").sudo().all_user_ids
        managers = managers.filtered(
            lambda manager: (
                self.company_id in manager.company_ids and not manager._is_superuser()
            )
        )
        return managers.sorted("id")[:1] or user

    def _get_invoice_mail_partners(self, invoice_partner):
        """Who receives the consolidated invoice: the invoice address when it has an
        e-mail, else the first contact of the company that has one."""
        self.ensure_one()
        if invoice_partner.email:
            return invoice_partner
        company = self.partner_id.commercial_partner_id
        contacts = self.env["res.partner"].search(
            [
                ("id", "child_of", company.id),
                ("id", "!=", company.id),
                ("email", "!=", False),
                ("id", "!=", invoice_partner.id),
            ],
            order="id",
        )
        return contacts.sorted(lambda contact: contact.type != "invoice")[:1]

    def _consolidate_if_threshold_reached(self):
        """Bill at once the open balances whose total reached the threshold."""
        for balance in self.filtered(lambda balance: balance.state == "open"):
            threshold = balance.company_id.balance_threshold_amount
            if not threshold or balance.currency_id != balance.company_id.currency_id:
                continue
            if (
                balance.currency_id.compare_amounts(balance.amount_total, threshold)
                >= 0
            ):
                balance.message_post(
                    body=_("The billing threshold (%s) is reached.", threshold)
                )
                balance._consolidate()

    # --- Carry-over ---

    def _is_below_minimum(self):
        self.ensure_one()
        minimum = self.company_id.balance_min_amount
        currency = self.currency_id
        return bool(
            minimum
            and currency.compare_amounts(self.amount_total, 0.0) > 0
            and currency.compare_amounts(self.amount_total, minimum) < 0
        )

    def _carry_over(self):
        """Move the pending items of a small due balance into the next period's
        balance instead of billing them."""
        self.ensure_one()
        day = self.period_end + relativedelta(days=1)
        target = self._get_balance_for_date(day)
        lines = self.line_ids.filtered(lambda line: line.state == "pending")
        lines.balance_id = target
        target.carried_from_id = self
        self.state = "cancel"
        self.message_post(
            body=_(
                "Below the minimum invoice amount (%(minimum)s): %(count)s items "
                "carried over to %(balance)s.",
                minimum=self.company_id.balance_min_amount,
                count=len(lines),
                balance=target._get_html_link(),
            )
        )
        target.message_post(
            body=_(
                "%(count)s items carried over from %(balance)s.",
                count=len(lines),
                balance=self._get_html_link(),
            )
        )
        return target

    def _get_balance_for_date(self, day):
        """The open balance of this balance's partner, company and currency for the
        company-local date ``day`` (created when missing)."""
        self.ensure_one()
        key = (self.partner_id, self.company_id, self.currency_id)
        week = relativedelta(days=6)
        candidates = self.search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("currency_id", "=", self.currency_id.id),
                ("state", "!=", "cancel"),
                ("id", "!=", self.id),
                "|",
                ("period_start", "=", False),
                "&",
                # A year around the day, and the weeks straddling its new years.
                ("period_start", "<=", day.replace(month=12, day=31) + week),
                ("period_end", ">=", day.replace(month=1, day=1) - week),
            ]
        )
        to_create = {}
        target = self.env["customer.balance.line"]._resolve_balance_for_date(
            key, day, candidates, to_create
        )
        if to_create:
            target = self._create_for_assignment(list(to_create.values()))
        return target

    # --- Bill run ---

    @api.model
    def _cron_consolidate_due(self, batch_size=100):
        """The bill run: bill every due balance, each in its own transaction under a
        row lock, so that several workers can share the run and a run that dies
        resumes where it stopped. A balance that fails is rolled back, its error
        kept on it and logged in its chatter, and the run goes on without it."""
        Cron = self.env["ir.cron"]
        domain = self._get_due_domain()
        balances = self.search(domain, limit=batch_size, order="billing_date, id")
        if not balances:
            Cron._commit_progress(0, remaining=0)
            return
        Cron._commit_progress(remaining=self.search_count(domain))
        for balance_id in balances.ids:
            balance = self.browse(balance_id)
            try:
                with self.env.cr.savepoint():
                    balance = balance.try_lock_for_update().filtered_domain(domain)
                    if balance:
                        balance._bill_due()
            except errors.SerializationFailure:
                # Billed by another worker since this batch was read: skip it.
                self.env.invalidate_all()
                continue
            except Exception as error:  # noqa: BLE001 - reported on the balance
                self.env.invalidate_all()
                _logger.warning("Bill run: balance %s failed: %s", balance_id, error)
                balance = self.browse(balance_id)
                message = str(error) or error.__class__.__name__
                balance.billing_error = message
                balance.message_post(
                    body=_("The bill run could not bill this balance: %s", message)
                )
            if Cron._commit_progress(1) <= 0:
                break

    def _bill_due(self):
        """Bill a due balance, or carry it over when below the minimum amount."""
        self.ensure_one()
        if self._is_below_minimum():
            return self._carry_over()
        return self._consolidate()

    def _get_invoice_partner(self):
        """The address the consolidated invoice goes to: the billed partner's
        invoice address."""
        self.ensure_one()
        return self.env["res.partner"].browse(
            self.partner_id.address_get(["invoice"])["invoice"]
        )

    def _prepare_invoice_values(self, lines, invoice_date):
        """Header values of an invoice for ``lines`` (items of this balance), in the
        way ``sale.order._prepare_invoice`` prepares one."""
        self.ensure_one()
        partner = self._get_invoice_partner()
        fiscal_position = (
            self.env["account.fiscal.position"]
            .with_company(self.company_id)
            ._get_fiscal_position(partner)
        )
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": invoice_date,
            "invoice_origin": self.name,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": self.partner_id.with_company(
                self.company_id
            ).property_payment_term_id.id,
            "invoice_line_ids": [],
        }

    def _get_section_key(self, line):
        """Items are grouped on the invoice by contact and booking."""
        return (line.partner_id, line.sale_line_id.order_id)

    def _prepare_section_name(self, line):
        partner, order = self._get_section_key(line)
        if order:
            return _(
                "%(contact)s — %(order)s (%(date)s)",
                contact=partner.name,
                order=order.name,
                date=format_date(self.env, order.date_order),
            )
        return partner.name

    def _prepare_invoice_lines(self, lines):
        """Invoice line commands for ``lines``: a section per contact and booking,
        then the items. Returns the commands and, per item, its line's sequence."""
        commands = []
        sequences = {}
        sequence = 0
        ordered = lines.sorted(
            lambda line: (
                line.partner_id.name or "",
                line.sale_line_id.order_id.id or 0,
                line.service_date,
                line.id,
            )
        )
        for _key, section_lines in ordered.grouped(self._get_section_key).items():
            sequence += 1
            commands.append(
                Command.create(
                    {
                        "display_type": "line_section",
                        "name": self._prepare_section_name(section_lines[0]),
                        "sequence": sequence,
                    }
                )
            )
            for line in section_lines:
                sequence += 1
                sequences[line] = sequence
                commands.append(
                    Command.create(line._prepare_invoice_line_values(sequence=sequence))
                )
        return commands, sequences

    def _prepare_invoice_from_items(self, lines, invoice_date):
        """Complete values of the invoice for ``lines`` (pending items of this
        balance): a credit note when their net total is negative. Returns the
        values, each item's invoice line sequence, and the tax totals."""
        self.ensure_one()
        totals = self._compute_totals(lines)
        values = self._prepare_invoice_values(lines, invoice_date)
        commands, sequences = self._prepare_invoice_lines(lines)
        if self.currency_id.compare_amounts(totals["total_amount_currency"], 0.0) < 0:
            values["move_type"] = "out_refund"
            for command in commands:
                line_values = command[2]
                if line_values.get("display_type") == "product":
                    line_values["price_unit"] = -line_values["price_unit"]
        values["invoice_line_ids"] = commands
        return values, sequences, totals

    def _invoice_items(self, lines, invoice_date=None, consolidate=False):
        """Invoice ``lines`` (pending items of this balance) as one customer invoice,
        or credit note when their net total is negative, created in one call; link
        each item to its invoice line and mark it invoiced. Returns the invoice."""
        self.ensure_one()
        lines = lines.filtered(lambda line: line.state == "pending")
        if not lines:
            return self.env["account.move"]
        invoice_date = invoice_date or self.company_id._balance_today()
        values, sequences, _totals = self._prepare_invoice_from_items(
            lines, invoice_date
        )
        if consolidate:
            values["balance_id"] = self.id
            # The unique index only tolerates a cancelled previous invoice once its
            # cancellation is in the database, not just in the cache.
            self.env["account.move"].flush_model(["balance_id", "state"])
        # Callers' default_* keys (a balance's item list, a wizard) are not the
        # invoice's.
        invoice = (
            self.env["account.move"]
            .with_context(clean_context(self.env.context))
            .with_company(self.company_id)
            .create(values)
        )
        invoice_lines = {
            line.sequence: line
            for line in invoice.invoice_line_ids
            if line.display_type == "product"
        }
        for line in lines:
            line.invoice_line_id = invoice_lines[sequences[line]]
        lines.state = "invoiced"
        lines._close_checkout_transactions(invoice)
        return invoice

    def _get_consolidation_preview(self):
        """What ``_consolidate`` would create now, computed without writing."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.state == "pending")
        invoice_date = self._get_consolidation_date()
        values, sequences, totals = self._prepare_invoice_from_items(
            lines, invoice_date
        )
        item_by_sequence = {sequence: item for item, sequence in sequences.items()}
        preview_lines = []
        for command in values["invoice_line_ids"]:
            line_values = command[2]
            item = item_by_sequence.get(line_values.get("sequence"))
            preview_lines.append(
                {
                    "display_type": line_values.get("display_type"),
                    "name": line_values.get("name"),
                    "quantity": line_values.get("quantity", 0.0),
                    "price_unit": item.price_unit if item else 0.0,
                    "price_subtotal": item.price_subtotal if item else 0.0,
                }
            )
        partner = self.env["res.partner"].browse(values["partner_id"])
        return {
            "partner": partner,
            "mail_partners": self._get_invoice_mail_partners(partner),
            "invoice_date": invoice_date,
            "move_type": values["move_type"],
            "amount_untaxed": totals["base_amount_currency"],
            "amount_tax": totals["tax_amount_currency"],
            "amount_total": totals["total_amount_currency"],
            "lines": preview_lines,
        }

    def _compute_totals(self, lines):
        """Tax totals of ``lines`` over the whole set, as the invoice computes them."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        return AccountTax._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id,
            company=self.company_id,
        )

    def _get_portal_return_action(self):
        return self.env.ref("customer_balance.action_customer_balance")
