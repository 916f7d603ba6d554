# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import uuid
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup
from psycopg2 import errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, clean_context, format_amount, format_date

from .customer_balance_line import TRANSITION, TRANSITION_KEY

# Written only by the balance's transitions (``_consolidate``, ``_cancel``,
# ``_carry_over``, ``_reopen``): never by ``write`` from a form or an RPC call.
LIFECYCLE_FIELDS = {"state", "invoice_id"}
# What a balance is (whose, which company, currency and period) is fixed when it is
# created, and its totals are only ever computed: written directly, the total the
# member is shown would no longer be what the consolidated invoice bills, and items
# would sit on a balance of another currency or company.
FIXED_FIELDS = {
    "partner_id",
    "company_id",
    "currency_id",
    "period_type",
    "period_start",
    "period_end",
    "billing_date",
    "carried_from_id",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "item_count",
}


def _to_write_value(value):
    """A grouping key value as written or searched: a record's id."""
    return value.id if isinstance(value, models.BaseModel) else value


_logger = logging.getLogger(__name__)


def filtered_empty_list_help(model, help_message, title):
    """The help of an empty list of ``model``: the action's own help (``help_message``,
    "nothing yet") only while there is no record at all; once records exist, an empty
    list means the search filters left none, and ``title`` says so."""
    if not model.search_count([], limit=1):
        return help_message
    return Markup('<p class="o_view_nocontent_smiling_face">%s</p><p>%s</p>') % (
        title,
        model.env._("Try other filters, or remove them in the search bar."),
    )


class CustomerBalance(models.Model):
    """An open account of pending items for one billed partner, company, currency and
    billing period; billed as one consolidated invoice once the period is over."""

    _name = "customer.balance"
    _description = "Customer Balance"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "period_start desc, id desc"
    _check_company_auto = True
    # Pickers find a balance by its reference or its customer's name.
    _rec_names_search = ["name", "partner_id.name"]

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
        help="Open: the pending items. Invoiced: what its consolidated invoice billed.",
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    item_count = fields.Integer(
        string="Items Count",
        compute="_compute_item_count",
        store=True,
        help="Open: the pending items. Invoiced: the items its consolidated invoice "
        "billed.",
    )
    invoice_payment_state = fields.Selection(
        related="invoice_id.payment_state",
        string="Payment Status",
    )
    invoice_state = fields.Selection(
        related="invoice_id.state",
        string="Invoice Status",
    )
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
    threshold_notified = fields.Boolean(
        readonly=True,
        copy=False,
        help="The chatter said that the billing threshold is reached and the bill "
        "run was asked to bill this balance.",
    )
    bill_run_inactive = fields.Boolean(
        compute="_compute_bill_run_inactive",
        help="The scheduled bill run is switched off: due balances are not billed "
        "by themselves.",
    )
    bill_run_last_failed = fields.Boolean(
        compute="_compute_bill_run_last_failed",
        help="The last bill run could not bill some balances, or it stopped before "
        "the end: see Bill Runs.",
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
        "state",
        "line_ids.state",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.discount",
        "line_ids.tax_ids",
        "line_ids.currency_id",
        "line_ids.invoice_id",
        "currency_id",
        # Not the invoice's amounts: a dependency on them costs queries per
        # invoice line while the bill run builds the invoice. The totals are read
        # from the invoice when the balance is billed (state, invoice_id).
        "invoice_id",
        "company_id.tax_calculation_rounding_method",
    )
    def _compute_amounts(self):
        """Totals of the balance's documents (``_get_document_lines``). Open: the
        pending items, computed over the whole set at once by the tax engine, as
        the consolidated invoice will compute them (so that rounding globally gives
        the same cents as the invoice). Invoiced: what the consolidated invoice
        billed, signed as the items are (a credit note is negative)."""
        for balance in self:
            invoice = balance.invoice_id
            if balance.state == "invoiced" and invoice:
                sign = -1 if invoice.move_type == "out_refund" else 1
                balance.amount_untaxed = sign * invoice.amount_untaxed
                balance.amount_tax = sign * invoice.amount_tax
                balance.amount_total = sign * invoice.amount_total
                continue
            totals = balance._compute_totals(balance._get_document_lines())
            balance.amount_untaxed = totals["base_amount_currency"]
            balance.amount_tax = totals["tax_amount_currency"]
            balance.amount_total = totals["total_amount_currency"]

    @api.depends("state", "invoice_id", "line_ids.state", "line_ids.invoice_id")
    def _compute_item_count(self):
        for balance in self:
            balance.item_count = len(balance._get_document_lines())

    @api.depends("name", "partner_id", "period_type", "period_start")
    def _compute_display_name(self):
        """``BAL/2026/00001 · Figma · June 2026``: reference, customer and period,
        in pickers, breadcrumbs and the move wizard."""
        for balance in self:
            parts = [balance.name or "", balance.partner_id.name or ""]
            parts.append(balance._get_period_label())
            balance.display_name = " · ".join(part for part in parts if part)

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
        due = self._get_due_domain(with_errors=True, with_threshold=False)
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

    @api.depends(
        "state",
        "amount_total",
        "currency_id",
        "company_id",
        "company_id.balance_threshold_amount",
    )
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
        self.bill_run_inactive = self._is_bill_run_inactive()

    @api.model
    def _is_bill_run_inactive(self):
        """Whether the scheduled bill run is switched off."""
        cron = self.env.ref(
            "customer_balance.ir_cron_consolidate_due", raise_if_not_found=False
        )
        # Only administrators read scheduled actions; everyone sees the warning.
        return not (cron and cron.sudo().exists().active)

    def _compute_bill_run_last_failed(self):
        self.bill_run_last_failed = self.env[
            "customer.balance.run"
        ]._is_last_run_failed()

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
            if not self._in_transition() and (
                vals.get("state", "open") != "open" or vals.get("invoice_id")
            ):
                raise UserError(_("A new customer balance is always open."))
        return super().create(vals_list)

    def write(self, vals):
        if self._in_transition():
            return super().write(vals)
        if LIFECYCLE_FIELDS.intersection(vals):
            self.check_access("write")
            raise UserError(
                _(
                    "The state and the consolidated invoice of a customer balance "
                    "change only through its actions: Bill now, Cancel (with its "
                    "wizard), or cancelling its consolidated invoice."
                )
            )
        fixed = FIXED_FIELDS.intersection(vals)
        if fixed:
            self.check_access("write")
            raise UserError(
                _(
                    "The customer, company, currency, period and totals of a customer "
                    "balance cannot be changed (%(fields)s): move its items to another "
                    "balance instead.",
                    fields=", ".join(
                        self._fields[name]._description_string(self.env)
                        for name in sorted(fixed)
                    ),
                )
            )
        return super().write(vals)

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
        """Retry Billing: forget the error that keeps these balances out of the bill
        run, and hand the due ones to it at once: it bills them within minutes,
        in its own transaction, through the same transition as *Bill now*
        (``_consolidate``). Says in the chatter and a notification when each is
        billed."""
        self.billing_error = False
        due = self.filtered_domain(self._get_due_domain())
        bill_run_off = self._is_bill_run_inactive()
        if due and not bill_run_off:
            due._trigger_bill_run()
        notes = []
        for balance in self:
            if balance in due and bill_run_off:
                note = _(
                    "The scheduled bill run is switched off: bill it with Bill now."
                )
            elif balance in due:
                note = _("The bill run bills it within a few minutes.")
            elif balance.invoice_creation_date:
                note = _(
                    "The bill run bills it on %s.",
                    format_date(self.env, balance.invoice_creation_date),
                )
            else:
                note = _("A manual balance is billed with Bill now.")
            balance.message_post(body=_("Billing retried. %s", note))
            notes.append(note)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": _("Billing retried"),
                "message": " ".join(dict.fromkeys(notes)),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

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

    # --- Assignment: which balance an item goes on ---

    @api.model
    def _get_grouping_fields(self):
        """The fields of ``customer.balance`` that its items share with it (besides
        the period). Extend it together with ``_get_grouping_key``."""
        return ["partner_id", "company_id", "currency_id"]

    @api.model
    def _get_grouping_key(self, item, billed_partner):
        """The balance ``item`` goes on, as ``{field: value}`` for the fields of
        ``_get_grouping_fields``: its ``billed_partner`` (the contact, or its
        company when balances are kept per company: ``res.partner.
        _balance_billed_partner``), company and currency.

        The hook for modules that keep balances apart by more (a project, a
        contract): add the field to ``customer.balance``, its name to
        ``_get_grouping_fields`` and its value here; items with different keys
        never share a balance, and each key gets its own balance per period.
        """
        return {
            "partner_id": billed_partner,
            "company_id": item.company_id,
            "currency_id": item.currency_id,
        }

    @api.model
    def _freeze_grouping_key(self, key):
        """A grouping key as a hashable value (field names and ids)."""
        return tuple(
            sorted((field, _to_write_value(value)) for field, value in key.items())
        )

    def _get_balance_grouping_key(self):
        """This balance's own grouping key."""
        self.ensure_one()
        return {field: self[field] for field in self._get_grouping_fields()}

    @api.model
    def _get_or_create_for(self, items, day=None):
        """The open balance each of ``items`` goes on, as ``{item: balance}``: the
        balance of its grouping key (``_get_grouping_key``) for the period of its
        company-local date (``day``, else the item's own), created when missing.

        A fixed number of queries for the whole set: one search for the balances
        that may take them, one create.
        """
        key_of = {}
        keys = {}
        billed_partners = {}  # one look-up per contact and company, not per item
        for item in items:
            contact = (item.partner_id, item.company_id)
            if contact not in billed_partners:
                billed_partners[contact] = item.partner_id._balance_billed_partner(
                    item.company_id
                )
            key = self._get_grouping_key(item, billed_partners[contact])
            frozen = self._freeze_grouping_key(key)
            key_of[item] = frozen
            keys[frozen] = key
        day_of = {item: day or item._balance_date() for item in items}
        requests = {(key_of[item], day_of[item]) for item in items}
        targets = self._get_or_create_by_key(keys, requests)
        return {item: targets[key_of[item], day_of[item]] for item in items}

    @api.model
    def _get_or_create_by_key(self, keys, requests):
        """``{(frozen key, day): balance}`` for the ``requests`` (frozen key,
        company-local day), ``keys`` giving each frozen key's values."""
        if not requests:
            return {}
        candidates = self.search(
            self._get_candidate_balances_domain(
                list(keys.values()), [day for _key, day in requests]
            )
        )
        fields_ = self._get_grouping_fields()
        by_key = candidates.grouped(
            lambda balance: self._freeze_grouping_key(
                {field: balance[field] for field in fields_}
            )
        )
        found = {}  # request -> existing balance
        to_create = {}  # (frozen key, period start) -> values of the balance
        created_for = {}  # request -> (frozen key, period start)
        for frozen, day in requests:
            key = keys[frozen]
            company = key["company_id"]
            balance_candidates = by_key.get(frozen, self.browse())
            balance = self._find_open_balance(balance_candidates, company, day)
            if balance:
                found[frozen, day] = balance
                continue
            period = self._prepare_period_values(balance_candidates, company, day)
            create_key = (frozen, period["period_start"])
            if create_key not in to_create:
                to_create[create_key] = {
                    **{field: _to_write_value(value) for field, value in key.items()},
                    **period,
                }
            created_for[frozen, day] = create_key
        if to_create:
            created = self._create_for_assignment(list(to_create.values()))
            created_by_key = dict(zip(to_create, created, strict=True))
            for request, create_key in created_for.items():
                found[request] = created_by_key[create_key]
        return found

    @api.model
    def _get_candidate_balances_domain(self, keys, days):
        """Balances of the grouping ``keys`` that may hold, or border, the periods
        of the company-local ``days``."""
        companies = self.env["res.company"].union(*(key["company_id"] for key in keys))
        todays = [company._balance_today() for company in companies]
        first = min(list(days) + todays)
        last = max(list(days) + todays)
        # The widest period (a year) around the dates covers every natural period,
        # but for weeks, which straddle the new year by up to six days.
        first = first.replace(month=1, day=1) - relativedelta(days=6)
        last = last.replace(month=12, day=31) + relativedelta(days=6)
        same_key = Domain.OR(
            Domain.AND(
                Domain(field, "=", _to_write_value(value))
                for field, value in key.items()
            )
            for key in keys
        )
        return (
            same_key
            & Domain("state", "!=", "cancel")
            & (
                Domain("period_start", "=", False)
                | (
                    Domain("period_start", "<=", last)
                    & Domain("period_end", ">=", first)
                )
            )
        )

    @api.model
    def _find_open_balance(self, candidates, company, day):
        """The open balance among ``candidates`` (balances of one grouping key)
        that takes an item of the company-local ``day``, or an empty recordset."""
        periodic = candidates.filtered("period_start")

        def covering(day):
            return periodic.filtered(
                lambda balance: balance.period_start <= day <= balance.period_end
            )

        # Open balances keep the period they were opened with, whatever the setting.
        open_balance = covering(day).filtered(lambda balance: balance.state == "open")
        if open_balance:
            return open_balance[:1]
        if company.balance_period == "manual":
            return candidates.filtered(
                lambda balance: not balance.period_start and balance.state == "open"
            )[:1]
        billed = covering(day).sorted("period_end")[-1:]
        today = company._balance_today()
        if billed and billed.period_end < today:
            # A late item of a period already billed goes with today's items.
            return covering(today).filtered(lambda b: b.state == "open")[:1]
        return self.browse()

    @api.model
    def _prepare_period_values(self, candidates, company, day):
        """Period values of the balance to open for an item of the company-local
        ``day`` when ``_find_open_balance`` found none among ``candidates``."""
        if company.balance_period == "manual":
            return {
                "period_type": "manual",
                "period_start": False,
                "period_end": False,
                "billing_date": False,
            }
        periodic = candidates.filtered("period_start")
        billed = periodic.filtered(
            lambda balance: balance.period_start <= day <= balance.period_end
        ).sorted("period_end")[-1:]
        today = company._balance_today()
        if billed and billed.period_end >= today:
            # Billed early (threshold, bill now): a new balance, same period.
            return {
                "period_type": billed.period_type,
                "period_start": billed.period_start,
                "period_end": billed.period_end,
                "billing_date": billed.billing_date,
            }
        if billed:
            day = today
        start, end = company._balance_period_bounds(day)
        # Never overlap balances opened under another period setting: the new period
        # starts after the previous one ends and ends before the next one starts.
        for balance in periodic:
            if start <= balance.period_end < day:
                start = balance.period_end + relativedelta(days=1)
            if day < balance.period_start <= end:
                end = balance.period_start - relativedelta(days=1)
        return {
            "period_type": company.balance_period,
            "period_start": start,
            "period_end": end,
            "billing_date": company._balance_billing_date(end),
        }

    def _touch_for_items(self):
        """Update these balances' rows in the transaction that changes their items.

        Under PostgreSQL's repeatable read, a bill run billing one of them at the
        same time then fails on one side with a serialization error (the request
        is retried, the bill run skips the balance) instead of committing an item
        pending on a balance that is billed. Needed even when no stored total
        changes (an item of 0.00, a move between two balances)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE customer_balance SET write_date = write_date"
                    " WHERE id = ANY(%s)",
                    self.ids,
                )
            )

    # --- Eligibility ---

    @api.model
    def _get_ineligibility_reason(self, partner, company, order=None, from_portal=None):
        """Why charges of ``partner`` (of ``order``, when given) cannot go on a
        customer balance of ``company``, or ``False``. The one rule the item, the
        order, the checkout and the portal ask.

        ``from_portal``: the customer acts herself (portal, shop, checkout); by
        default, when the current user is not an internal user.
        """
        if from_portal is None:
            from_portal = not self.env.user._is_internal()
        if not company.balance_enabled:
            return _("Customer balances are not enabled for %s.", company.name)
        commercial = partner.commercial_partner_id
        override = (
            partner.balance_use
            if partner.balance_use != "default"
            else commercial.balance_use
        )
        if override == "never":
            return _("%s does not use customer balances.", partner.display_name)
        communities = company.balance_partner_category_ids
        if (
            override != "always"
            and communities
            and not ((partner.category_id | commercial.category_id) & communities)
        ):
            return _(
                "%(partner)s is not in a community allowed to use customer balances "
                "(%(communities)s).",
                partner=partner.display_name,
                communities=", ".join(communities.mapped("name")),
            )
        if company.balance_admin_only and from_portal:
            return _("Only items added by your staff go on customer balances.")
        if order:
            if order._balance_above_maximum():
                return _(
                    "Order %(order)s is above the maximum amount for customer "
                    "balances (%(maximum)s).",
                    order=order.name,
                    maximum=company.balance_max_order_amount,
                )
            if order._balance_paid_online():
                return _("The order was paid online.")
        return False

    # --- Transitions of the balance ---

    def _in_transition(self):
        return self.env.context.get(TRANSITION_KEY) is TRANSITION

    def _as_transition(self):
        """These balances, allowed to change their state and invoice."""
        return self.with_context(**{TRANSITION_KEY: TRANSITION})

    def _check_open(self, action):
        for balance in self:
            if balance.state != "open":
                raise UserError(
                    _(
                        "Balance %(balance)s is not open: it cannot be %(action)s.",
                        balance=balance.name,
                        action=action,
                    )
                )

    def _cancel(self, reason, give_back=False):
        """Cancel open balances, saying why in the chatter. Their pending charges
        are waived (like deleting the items: the orders show nothing to invoice
        for them); with ``give_back``, booking items go back to Odoo's normal
        invoicing of their orders instead, and manual items are cancelled."""
        for balance in self:
            if balance.state != "open":
                raise UserError(
                    _("Only open balances can be cancelled (%s).", balance.name)
                )
        pending = self.line_ids.filtered(lambda line: line.state == "pending")
        if give_back:
            pending._give_back()
        else:
            pending._waive()
        self._as_transition().write({"state": "cancel"})
        for balance in self:
            items = pending.filtered(lambda line, b=balance: line.balance_id == b)
            bookings = items.filtered("sale_line_id")
            if give_back:
                outcome = _(
                    "%(count)s pending items cancelled; the bookings %(orders)s are "
                    "to invoice again through their orders.",
                    count=len(items),
                    orders=", ".join(bookings.sale_line_id.order_id.mapped("name"))
                    or "-",
                )
            else:
                outcome = _(
                    "%(count)s pending items waived: they will not be billed, and "
                    "their orders show nothing to invoice for them.",
                    count=len(items),
                )
            balance.message_post(
                body=_(
                    "Balance cancelled: %(reason)s. %(outcome)s",
                    reason=reason,
                    outcome=outcome,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _reopen_after_cancelled_invoice(self, invoice):
        """The consolidated ``invoice`` of these invoiced balances was cancelled or
        deleted: each balance opens again, or, when another open balance of its
        period exists meanwhile, is cancelled (that one takes its items)."""
        for balance in self:
            if balance.state != "invoiced":
                continue
            other = self.search_count(
                [
                    ("partner_id", "=", balance.partner_id.id),
                    ("company_id", "=", balance.company_id.id),
                    ("currency_id", "=", balance.currency_id.id),
                    ("period_start", "=", balance.period_start),
                    ("state", "=", "open"),
                ],
                limit=1,
            )
            balance._as_transition().write(
                {
                    "state": "cancel" if other else "open",
                    "invoice_id": False,
                    "threshold_notified": False,
                }
            )
            balance.message_post(
                body=_(
                    "Consolidated invoice %s was cancelled: its items wait to be "
                    "billed again.",
                    invoice._get_html_link(),
                )
            )

    # --- Consolidation ---

    def _get_consolidation_date(self):
        """The consolidated invoice's date: the day it is created (today in the
        company's time zone), never back-dated into the billed period (a late bill
        run, a late item of a past period) and never on or before a lock date that
        would refuse to post it (fiscal year, sales, tax, hard lock). The billing
        period itself stays on the invoice (its origin and the sections)."""
        self.ensure_one()
        company = self.company_id
        day = company._balance_today()
        # A customer invoice: the fiscal year, sales, tax and hard lock dates.
        locks = company._get_lock_date_violations(
            day, fiscalyear=True, sale=True, purchase=False, tax=True, hard=True
        )
        if locks:
            day = max(lock_date for lock_date, _field in locks) + relativedelta(days=1)
        return day

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
    def _get_due_domain(self, with_errors=False, with_threshold=True, on_date=None):
        """What the bill run bills: open balances whose period is over and whose
        billing date has come, in each company's own time zone, and (with
        ``with_threshold``) open balances whose total reached the billing
        threshold; except (for the bill run) those whose billing failed.
        ``on_date`` replaces each company's today: what a run of that day bills."""
        companies = (
            self.env["res.company"].sudo().search([("balance_enabled", "=", True)])
        )
        due = Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("billing_date", "<=", on_date or company._balance_today())
            & Domain("period_end", "<", on_date or company._balance_today())
            for company in companies
        )
        if with_threshold:
            due |= self._search_is_above_threshold("in", [True])
        return (
            Domain("state", "=", "open")
            & (Domain.TRUE if with_errors else Domain("billing_error", "=", False))
            & due
        )

    def _consolidate(self):
        """Bill now: turn the pending items of each open balance into one invoice
        (a credit note when the net total is negative), as ``_get_bill_decision``
        decides (a balance below the minimum is billed all the same). Items netting
        to zero create nothing: they are closed with the balance. Refused, with the
        reason, for a balance that cannot be billed. Returns the invoices."""
        invoices = self.env["account.move"]
        self._check_open(_("billed"))
        decisions = self._get_bill_decision()
        for balance in self:
            decision = decisions[balance]
            if decision["outcome"] == "fail":
                raise UserError(
                    _(
                        "Balance %(balance)s cannot be billed: %(reason)s",
                        balance=balance.name,
                        reason=decision["reason"],
                    )
                )
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            if decision["outcome"] == "close":
                balance._close_netted(lines)
                continue
            invoice = balance._invoice_items(
                lines, balance._get_consolidation_date(), consolidate=True
            )
            balance._as_transition().write(
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

    def _close_netted(self, lines):
        """Close this balance without an invoice: its pending ``lines`` net to zero
        (a booking and a goodwill credit of the same amount). The charges are
        waived, so no order bills them again either."""
        self.ensure_one()
        lines._waive()
        self._as_transition().write({"state": "invoiced", "billing_error": False})
        self.message_post(
            body=_(
                "Nothing to bill: the items net to zero. Balance closed; "
                "its %s items are waived.",
                len(lines),
            ),
        )

    def _post_and_send(self, invoice):
        """Confirm the consolidated invoice, charge the customer's saved payment
        method and e-mail the invoice, as the company wants it."""
        self.ensure_one()
        company = self.company_id
        if not company.balance_auto_post:
            return
        invoice.action_post()
        if company.balance_auto_pay:
            invoice._balance_charge_saved_payment_method()
        if company.balance_auto_send:
            self._send_invoice(invoice)

    # --- Sending the consolidated invoice ---

    def _send_invoice(self, invoice):
        """E-mail the posted consolidated ``invoice`` in the background by Odoo's own
        sending job, as batch sending does, to the recipients ``account.move.send``
        proposes for a consolidated invoice."""
        self.ensure_one()
        recipients = self.env["account.move.send"]._get_balance_mail_partners(invoice)
        invoice.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
            "mail_partner_ids": recipients.ids,
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _notify_threshold_reached(self):
        """Open balances whose total reached the billing threshold: say so once in
        their chatter and hand them to the bill run, which bills them in its own
        transaction (``_get_due_domain`` includes them). Never bills here: this
        runs inside the request recording a charge (an order confirmation, a
        checkout), which must not fail, post or charge because billing would."""
        if not any(balance.company_id.balance_threshold_amount for balance in self):
            return  # no threshold: nothing to compute on the hot path
        reached = self.filtered(
            lambda balance: (
                balance.is_above_threshold and not balance.threshold_notified
            )
        )
        if not reached:
            return
        for balance in reached:
            balance.message_post(
                body=_(
                    "The billing threshold (%s) is reached: the bill run bills this "
                    "balance now.",
                    format_amount(
                        self.env,
                        balance.company_id.balance_threshold_amount,
                        balance.currency_id,
                    ),
                )
            )
        reached.threshold_notified = True
        reached._trigger_bill_run()

    def _consolidate_if_threshold_reached(self):
        """Kept for callers of earlier versions: marks and triggers only (see
        ``_notify_threshold_reached``)."""
        self._notify_threshold_reached()

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
        self._check_open(_("carried over"))
        day = self.period_end + relativedelta(days=1)
        target = self._get_balance_for_date(day)
        lines = self.line_ids.filtered(lambda line: line.state == "pending")
        lines.balance_id = target
        target._as_transition().carried_from_id = self
        self._as_transition().state = "cancel"
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
        key = self._get_balance_grouping_key()
        frozen = self._freeze_grouping_key(key)
        return self._get_or_create_by_key({frozen: key}, {(frozen, day)})[frozen, day]

    # --- Bill run (``customer.balance.run``) ---

    @api.model
    def _cron_consolidate_due(self, batch_size=100):
        """The bill run, under its former name: ``customer.balance.run.
        _cron_bill_run``."""
        return self.env["customer.balance.run"]._cron_bill_run(batch_size=batch_size)

    def _get_bill_decision(self, on_date=None):
        """What billing each of these open balances does, written nowhere:
        ``{balance: {"outcome": outcome, "reason": reason}}``, ``outcome`` being

        - ``close``: no pending item, or they net to zero (nothing is invoiced);
        - ``carry``: the total is below the company's minimum invoice amount, the
          items go into the next period's balance (the bill run only; *Bill now*
          bills it);
        - ``fail``: ``_get_billing_blockers`` found why it cannot be billed
          (``reason``, translated); the bill run bills nothing and keeps it;
        - ``bill``: a consolidated invoice (or a credit note).

        The bill run, *Bill now* and the preview all decide with it. ``on_date``:
        the company-local day billing happens (today by default), for a preview
        of another day."""
        blockers = self._get_billing_blockers(on_date=on_date)
        decisions = {}
        for balance in self:
            reasons = blockers.get(balance)
            if not balance.item_count or balance.currency_id.is_zero(
                balance.amount_total
            ):
                outcome, reason = "close", ""
            elif balance._is_below_minimum():
                outcome = "carry"
                reason = _(
                    "Below the minimum invoice amount (%s).",
                    format_amount(
                        self.env,
                        balance.company_id.balance_min_amount,
                        balance.currency_id,
                    ),
                )
            elif reasons:
                outcome, reason = "fail", "\n".join(reasons)
            else:
                outcome, reason = "bill", ""
            decisions[balance] = {"outcome": outcome, "reason": reason}
        return decisions

    def _get_billing_blockers(self, on_date=None):
        """Why each of these balances cannot be billed: ``{balance: [reason]}``
        (translated reasons; a balance without any may be missing). Only what
        creating its consolidated invoice would really fail on, checked cheaply
        for the whole set; modules extend it. ``on_date``: see
        ``_get_bill_decision``."""
        blockers = defaultdict(list)
        # A branch invoices in its own sales journals or its parents'.
        journals = (
            self.env["account.journal"]
            .sudo()
            ._read_group(
                [
                    ("type", "=", "sale"),
                    ("company_id", "in", self.company_id.parent_ids.ids),
                ],
                ["company_id"],
            )
        )
        with_journal = self.env["res.company"].union(
            *(company for (company,) in journals)
        )
        for balance in self:
            if not balance.company_id.parent_ids & with_journal:
                blockers[balance].append(
                    _(
                        "%s has no sales journal to create the consolidated "
                        "invoice in.",
                        balance.company_id.name,
                    )
                )
        return dict(blockers)

    def _store_billing_error(self, message):
        """Billing this balance failed (``message``): keep the reason on it and in
        its chatter. The bill run leaves it out until someone retries."""
        self.ensure_one()
        self.billing_error = message
        self.message_post(
            body=_("The bill run could not bill this balance: %s", message)
        )

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
                if line_values.get("display_type") != "product":
                    continue
                if line_values.get("sale_line_ids"):
                    # Odoo counts a credit note's quantity as refunded from the
                    # order line: a booking charged on a credit note keeps its
                    # price and takes a negative quantity, so it still counts as
                    # invoiced on its order.
                    line_values["quantity"] = -line_values["quantity"]
                else:
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
        invoice_date = invoice_date or self._get_consolidation_date()
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
        # Invoiced on their own (Invoice Now), the items leave the balance.
        lines._mark_invoiced(
            {line: invoice_lines[sequences[line]] for line in lines},
            detach=not consolidate,
        )
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
            "mail_partners": self.env["account.move.send"]._get_balance_mail_partners(
                self.env["account.move"], partner=partner, balance=self
            ),
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

    def _get_document_lines(self):
        """The items this balance's documents (form totals, statement, portal page)
        list: its pending items while it is open; once billed, the items invoiced on
        its consolidated invoice. Items invoiced on their own or cancelled are not
        part of it."""
        self.ensure_one()
        if self.state == "invoiced":
            return self.line_ids.filtered(
                lambda line: (
                    line.state == "invoiced" and line.invoice_id == self.invoice_id
                )
            )
        return self.line_ids.filtered(lambda line: line.state == "pending")

    @api.model
    def get_empty_list_help(self, help_message):
        """Say "No customer balance yet" only when there is none: once balances
        exist, an empty list means the search filters left none."""
        return super().get_empty_list_help(
            filtered_empty_list_help(
                self,
                help_message,
                self.env._("No customer balance matches this search"),
            )
        )

    def _get_period_label(self):
        """The billing period in words, in the user's language: ``Week 23, 2026``,
        ``June 2026``, ``Q2 2026``, ``2026``, or ``no period`` for a manual
        balance."""
        self.ensure_one()
        start = self.period_start
        if self.period_type == "manual" or not start:
            return self.env._("no period")
        if self.period_type == "week":
            year, week, _weekday = start.isocalendar()
            return self.env._("Week %(week)s, %(year)s", week=week, year=year)
        date_format = {"month": "LLLL y", "quarter": "QQQ y", "year": "y"}.get(
            self.period_type, "LLLL y"
        )
        return format_date(self.env, start, date_format=date_format)

    def _trigger_bill_run(self):
        """Hand these balances (which reached the billing threshold) to the bill run,
        which bills them in its own transaction. The hook a job queue overrides."""
        self.env.ref("customer_balance.ir_cron_consolidate_due")._trigger()

    def _get_portal_return_action(self):
        return self.env.ref("customer_balance.action_customer_balance")
