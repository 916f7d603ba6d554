# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import uuid

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_amount, format_date

from .customer_balance_transition_mixin import LIFECYCLE


def _to_write_value(value):
    """A grouping key value as written or searched: a record's id."""
    return value.id if isinstance(value, models.BaseModel) else value


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
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "customer.balance.transition.mixin",
    ]
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
        compute="_compute_amounts",
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

    # One open balance per grouping key and period: ``_one_open_balance_per_period``
    # in customer_balance_assignment.py, beside the key.
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
        "line_ids.raw_price_subtotal",
        "line_ids.raw_tax_amounts",
        "line_ids.has_price_excluded_tax",
        "line_ids.price_subtotal",
        "line_ids.invoice_id",
        "currency_id",
        # Not the invoice's amounts: a dependency on them costs queries per
        # invoice line while the bill run builds the invoice. The totals are read
        # from the invoice when the balance is billed (state, invoice_id).
        "invoice_id",
        "company_id.tax_calculation_rounding_method",
    )
    def _compute_amounts(self):
        """Totals and item count of the balance's documents
        (``_get_document_lines``). Open: the pending items, as the consolidated
        invoice will compute them (rounding globally gives the same cents as
        the invoice), from the sums the balance keeps item by item
        (``customer_balance_totals.py``): adding an item never reads the
        others. Invoiced: what the consolidated invoice billed, signed as the
        items are (a credit note is negative)."""
        billed = self.filtered(
            lambda balance: balance.state == "invoiced" and balance.invoice_id
        )
        # The pending sums are read once for both.
        sums = (
            (self - billed)
            .filtered(lambda balance: isinstance(balance.id, int))
            ._read_pending_sums()
        )
        pending = (self - billed)._get_pending_totals(sums)
        counts = self._get_document_line_counts(sums)
        for balance in self:
            balance.item_count = counts[balance]
            invoice = balance.invoice_id
            if balance in billed:
                sign = -1 if invoice.move_type == "out_refund" else 1
                balance.amount_untaxed = sign * invoice.amount_untaxed
                balance.amount_tax = sign * invoice.amount_tax
                balance.amount_total = sign * invoice.amount_total
                continue
            untaxed, tax, total = pending[balance]
            balance.amount_untaxed = untaxed
            balance.amount_tax = tax
            balance.amount_total = total

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

    def _get_transition_fields(self):
        """Override of the transition mixin: the state and the consolidated
        invoice change only through the balance's transitions (``_consolidate``,
        ``_cancel``, ``_carry_over``, ``_reopen_after_cancelled_invoice``). What
        a balance is (its grouping key, period and carry-over) is fixed when it is
        created, and its totals are only ever computed: written directly, the
        total the member is shown would no longer be what the consolidated
        invoice bills, and items would sit on a balance of another currency or
        company."""
        res = super()._get_transition_fields()
        res.setdefault(LIFECYCLE, set()).update(
            self._get_state_fields(),
            self._get_grouping_fields(),
            [
                "grouping_key",
                "period_type",
                "period_start",
                "period_end",
                "billing_date",
                "carried_from_id",
                "amount_untaxed",
                "amount_tax",
                "amount_total",
                "item_count",
            ],
        )
        return res

    def _get_state_fields(self):
        """The fields of a balance's life, written by its transitions only."""
        return {"state", "invoice_id"}

    def _get_transition_error(self, scope, field_names):
        if self._get_state_fields() & set(field_names):
            return _(
                "The state and the consolidated invoice of a customer balance "
                "change only through its actions: Bill now, Cancel (with its "
                "wizard), or cancelling its consolidated invoice."
            )
        return _(
            "The customer, company, currency, period and totals of a customer "
            "balance cannot be changed (%(fields)s): move its items to another "
            "balance instead.",
            fields=", ".join(
                self._fields[name]._description_string(self.env)
                for name in sorted(field_names)
            ),
        )

    def copy(self, default=None):
        """Balances come from the assignment of items only: a copy would be a stray
        open balance of a period that may already be billed, which a cancelled
        invoice would later fill."""
        if not self:
            return super().copy(default)
        raise UserError(
            _(
                "A customer balance cannot be duplicated: balances are opened by "
                "the items put on them. Add an entry to the balance instead."
            )
        )

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

    # === TRANSITIONS === #
    # Every change of a balance's state goes through one of these.

    # They write through ``_as_transition()`` (customer_balance_transition_mixin.py).

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

    def _consolidate(self):
        """Bill now: turn the pending items of each open balance into one invoice
        (a credit note when the net total is negative), as ``_get_bill_decision``
        decides (a balance below the minimum is billed all the same). Items netting
        to zero create nothing: they are closed with the balance. Refused, with the
        reason, for a balance that cannot be billed. Returns the invoices."""
        self._check_open(_("billed"))
        decisions = self._get_bill_decision()
        to_invoice = self.browse()
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
            if decision["outcome"] == "close":
                balance._close_netted(
                    balance.line_ids.filtered(lambda line: line.state == "pending")
                )
                continue
            to_invoice |= balance
        # All the invoices in one create call (``_invoice_balances``).
        invoice_by_balance = to_invoice._invoice_balances()
        return self.env["account.move"].union(*invoice_by_balance.values())

    def _close_netted(self, lines):
        """Close this balance without an invoice: its pending ``lines`` net to zero
        (a booking and a goodwill credit of the same amount). The charges are
        waived, so no order bills them again either."""
        self.ensure_one()
        lines._waive()
        self._as_transition().write({"state": "invoiced", "billing_error": False})
        if len(lines) == 1:
            body = _(
                "Nothing to bill: its only item is zero. Balance closed; the item "
                "is waived."
            )
        else:
            body = _(
                "Nothing to bill: the items net to zero. Balance closed; "
                "its %s items are waived.",
                len(lines),
            )
        self.message_post(body=body)

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
        minimum = format_amount(
            self.env, self.company_id.balance_min_amount, self.currency_id
        )
        # One string per number (Odoo has no plural forms in Python).
        if len(lines) == 1:
            body = _(
                "Below the minimum invoice amount (%(minimum)s): 1 item carried "
                "over to %(balance)s.",
                minimum=minimum,
                balance=target._get_html_link(),
            )
            target_body = _(
                "1 item carried over from %(balance)s.",
                balance=self._get_html_link(),
            )
        else:
            body = _(
                "Below the minimum invoice amount (%(minimum)s): %(count)s items "
                "carried over to %(balance)s.",
                minimum=minimum,
                count=len(lines),
                balance=target._get_html_link(),
            )
            target_body = _(
                "%(count)s items carried over from %(balance)s.",
                count=len(lines),
                balance=self._get_html_link(),
            )
        self.message_post(body=body)
        target.message_post(body=target_body)
        return target

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
            if give_back and len(items) == 1:
                outcome = _(
                    "1 pending item cancelled; the booking %(orders)s is to invoice "
                    "again through its order.",
                    orders=", ".join(bookings.sale_line_id.order_id.mapped("name"))
                    or "-",
                )
            elif give_back:
                outcome = _(
                    "%(count)s pending items cancelled; the bookings %(orders)s are "
                    "to invoice again through their orders.",
                    count=len(items),
                    orders=", ".join(bookings.sale_line_id.order_id.mapped("name"))
                    or "-",
                )
            elif len(items) == 1:
                outcome = _(
                    "1 pending item waived: it will not be billed, and its order "
                    "shows nothing to invoice for it."
                )
            else:
                outcome = _(
                    "%(count)s pending items waived: they will not be billed, and "
                    "their orders show nothing to invoice for them.",
                    count=len(items),
                )
            balance.message_post(
                body=_(
                    "Balance cancelled: %(reason)s %(outcome)s",
                    reason=balance._as_sentence(reason),
                    outcome=outcome,
                ),
                subtype_xmlid="mail.mt_note",
            )

    # === BUSINESS METHODS === #

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
