# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, format_amount

# Fields that make an item what it is: frozen once the item is invoiced or cancelled.
FROZEN_FIELDS = {
    "balance_id",
    "partner_id",
    "company_id",
    "currency_id",
    "product_id",
    "product_uom_id",
    "name",
    "quantity",
    "price_unit",
    "discount",
    "tax_ids",
    "analytic_distribution",
    "service_date",
    "sale_line_id",
}
# Changing one of these moves a pending item to the balance it now belongs to.
ASSIGNMENT_FIELDS = {"partner_id", "company_id", "currency_id", "service_date"}
# Changing one of these changes the balance total (the threshold may be reached).
AMOUNT_FIELDS = {"quantity", "price_unit", "discount", "tax_ids"}


class CustomerBalanceLine(models.Model):
    """A pending item: one chargeable item waiting on a customer balance until the
    balance is billed. Its fields carry the tax engine's names so that the engine
    computes it exactly as the invoice line it will become."""

    _name = "customer.balance.line"
    _description = "Customer Balance Item"
    _order = "service_date desc, id desc"
    _check_company_auto = True

    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Contact",
        required=True,
        index=True,
        check_company=True,
        help="The contact who incurred this item.",
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
    product_id = fields.Many2one(
        comodel_name="product.product",
        check_company=True,
    )
    product_uom_id = fields.Many2one(
        comodel_name="uom.uom",
        string="Unit",
        compute="_compute_product_uom_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    name = fields.Text(string="Description", required=True)
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Float(
        string="Unit Price", digits="Product Price", required=True
    )
    discount = fields.Float(string="Discount (%)", digits="Discount", default=0.0)
    tax_ids = fields.Many2many(
        comodel_name="account.tax",
        relation="customer_balance_line_tax_rel",
        column1="line_id",
        column2="tax_id",
        string="Taxes",
        domain=[("type_tax_use", "=", "sale")],
        check_company=True,
    )
    analytic_distribution = fields.Json()
    analytic_precision = fields.Integer(
        store=False,
        default=lambda self: self.env["decimal.precision"].precision_get(
            "Percentage Analytic"
        ),
    )
    service_date = fields.Date(
        required=True,
        index=True,
        default=lambda self: self.env.company._balance_today(),
        help="The day the service is provided, in the company's time zone: it decides "
        "the billing period of the item.",
    )
    origin = fields.Selection(
        selection=[
            ("booking", "Booking"),
            ("manual", "Manual"),
            ("subscription", "Subscription"),
        ],
        required=True,
        default="manual",
        readonly=True,
    )
    origin_ref = fields.Char(
        string="Source Document",
        help="Reference of the document the item comes from.",
    )
    sale_line_id = fields.Many2one(
        comodel_name="sale.order.line",
        string="Order Line",
        index="btree_not_null",
        readonly=True,
        copy=False,
    )
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("invoiced", "Invoiced"),
            ("cancel", "Cancelled"),
        ],
        required=True,
        default="pending",
        readonly=True,
        copy=False,
        index=True,
    )
    invoice_line_id = fields.Many2one(
        comodel_name="account.move.line",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id",
        store=True,
        index="btree_not_null",
    )
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_amounts", store=True
    )
    price_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )

    _invoiced_once = models.UniqueIndex(
        "(invoice_line_id) WHERE invoice_line_id IS NOT NULL",
        "An item can only be invoiced once.",
    )
    _invoiced_has_invoice_line = models.Constraint(
        "CHECK (state != 'invoiced' OR invoice_line_id IS NOT NULL)",
        "An invoiced item must point at its invoice line.",
    )

    # === COMPUTE METHODS === #

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = line.product_id.uom_id

    @api.depends("quantity", "price_unit", "discount", "tax_ids", "currency_id")
    def _compute_amounts(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            base_line = line._prepare_base_line_for_taxes_computation()
            AccountTax._add_tax_details_in_base_line(base_line, line.company_id)
            AccountTax._round_base_lines_tax_details([base_line], line.company_id)
            line.price_subtotal = base_line["tax_details"]["total_excluded_currency"]
            line.price_total = base_line["tax_details"]["total_included_currency"]

    # === CONSTRAINT METHODS === #

    @api.constrains("balance_id", "company_id", "currency_id", "state")
    def _check_balance_consistency(self):
        for line in self:
            balance = line.balance_id
            if not balance:
                continue
            if balance.company_id != line.company_id:
                raise ValidationError(
                    _(
                        "Item “%(item)s” belongs to %(company)s and cannot be on a "
                        "balance of %(other)s.",
                        item=line.name,
                        company=line.company_id.name,
                        other=balance.company_id.name,
                    )
                )
            if balance.currency_id != line.currency_id:
                raise ValidationError(
                    _(
                        "Item “%(item)s” is in %(currency)s and cannot be on a balance "
                        "in %(other)s.",
                        item=line.name,
                        currency=line.currency_id.name,
                        other=balance.currency_id.name,
                    )
                )
            if line.state == "pending" and balance.state != "open":
                raise ValidationError(
                    _(
                        "Item “%(item)s” cannot wait on balance %(balance)s: it is no "
                        "longer open.",
                        item=line.name,
                        balance=balance.name,
                    )
                )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.filtered(lambda line: not line.balance_id)._assign_balance()
        lines.balance_id._consolidate_if_threshold_reached()
        return lines

    def write(self, vals):
        frozen = FROZEN_FIELDS.intersection(vals)
        # Items of a cancelled invoice are released: they may move again.
        releasing = vals.get("state") == "pending"
        if (
            frozen
            and not releasing
            and self.filtered(lambda line: line.state != "pending")
        ):
            raise UserError(
                _("Invoiced or cancelled items cannot be changed any more.")
            )
        reassign = "balance_id" not in vals and ASSIGNMENT_FIELDS.intersection(vals)
        if reassign and {"company_id", "currency_id"}.intersection(vals):
            # Off the old balance in the same write: it no longer fits the item.
            vals = {**vals, "balance_id": False}
        res = super().write(vals)
        if reassign:
            self.filtered(lambda line: line.state == "pending")._assign_balance()
        if AMOUNT_FIELDS.intersection(vals) or reassign:
            self.balance_id._consolidate_if_threshold_reached()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if any(line.state == "invoiced" for line in self):
            raise UserError(_("An invoiced item cannot be deleted."))

    def unlink(self):
        pending = self.filtered(lambda line: line.state == "pending")
        # A deleted booking item waives its charge: the booking stays confirmed and
        # the order no longer shows that quantity as to invoice.
        for line in pending.filtered("sale_line_id"):
            line.sale_line_id.balance_waived_qty += line.quantity
        for balance, lines in pending.grouped("balance_id").items():
            removed = [
                (
                    line.name,
                    format_amount(self.env, line.price_subtotal, line.currency_id),
                )
                for line in lines
            ]
            balance.message_post(
                body=_(
                    "Items removed: %s",
                    ", ".join(f"{name} ({amount})" for name, amount in removed),
                )
            )
        return super().unlink()

    # === ACTION METHODS === #

    def action_invoice_now(self):
        """Take the selected pending items off their balance and invoice them on
        their own, one invoice per balance."""
        lines = self.filtered(lambda line: line.state == "pending")
        if not lines:
            raise UserError(_("Select pending items to invoice."))
        # The defaults of the list the items were selected in (such as a balance's
        # items) must not reach the invoice: it would become that balance's
        # consolidated invoice.
        lines = lines.with_context(clean_context(self.env.context))
        invoices = self.env["account.move"]
        for balance, balance_lines in lines.grouped("balance_id").items():
            invoices |= balance._invoice_items(balance_lines)
        return invoices._get_records_action(name=_("Invoices"))

    def action_move_to_balance(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Move Items"),
            "res_model": "customer.balance.line.move",
            "view_mode": "form",
            "target": "new",
            "context": {"default_line_ids": [Command.set(self.ids)]},
        }

    # === BUSINESS METHODS === #

    def _prepare_base_line_for_taxes_computation(self, **kwargs):
        """The item as a base line of Odoo's tax engine."""
        self.ensure_one()
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            partner_id=self.balance_id.partner_id or self.partner_id,
            **kwargs,
        )

    def _prepare_invoice_line_values(self, **optional_values):
        """Values of the invoice line this item becomes. A booking item asks its
        order line, so that accounts, analytic and order links are Odoo's own."""
        self.ensure_one()
        values = {
            "display_type": "product",
            "name": self.name,
            "product_id": self.product_id.id,
            "product_uom_id": self.product_uom_id.id,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [Command.set(self.tax_ids.ids)],
            "analytic_distribution": self.analytic_distribution,
            **optional_values,
        }
        if self.sale_line_id:
            return self.sale_line_id._prepare_invoice_line(**values)
        return values

    def _close_checkout_transactions(self, invoice):
        """The "customer balance" transactions of bookings whose items are all
        billed have served their purpose: close them (cancelled, never done, so no
        payment is registered) instead of leaving them pending forever."""
        orders = self.sale_line_id.order_id
        transactions = orders.sudo().transaction_ids.filtered(
            lambda tx: tx.state == "pending" and tx._is_balance_transaction()
        )
        for tx in transactions:
            items = tx.sale_order_ids.order_line.balance_line_ids
            if not items.filtered(lambda item: item.state == "pending"):
                tx._set_canceled(
                    state_message=self.env._(
                        "Billed with consolidated invoice %s.", invoice.display_name
                    )
                )

    def _get_balance_ineligibility_reason(self):
        """Why this item cannot go on a customer balance, or ``False``. A booking
        item follows its order's eligibility."""
        self.ensure_one()
        if self.sale_line_id:
            return self.sale_line_id.order_id._balance_ineligibility_reason()
        company = self.company_id
        reason = self.partner_id._balance_ineligibility_reason(company)
        if reason:
            return reason
        if company.balance_admin_only and not self.env.user._is_internal():
            return _("Only items added by your staff go on customer balances.")
        return False

    def _balance_date(self):
        """The company-local date deciding the item's period."""
        self.ensure_one()
        return self.service_date

    def _assign_balance(self):
        """Put each pending item on the open balance of its billed partner, company
        and currency for the period of its service date, creating missing balances.

        Runs in a fixed number of queries for the whole set of items (one search
        for the balances that may hold them, one create, one write per balance).
        """
        lines = self.filtered(lambda line: line.state == "pending")
        if not lines:
            return
        # Billed partners first: a contact matched to its company (per company
        # grouping) is eligible through that company's communities.
        groups = defaultdict(lambda: self.browse())
        billed_partners = {}
        for line in lines:
            contact = (line.partner_id, line.company_id)
            if contact not in billed_partners:
                billed_partners[contact] = line.partner_id._balance_billed_partner(
                    line.company_id
                )
            groups[billed_partners[contact], line.company_id, line.currency_id] |= line
        # One check per contact, company and order, not per item.
        representatives = {
            (line.partner_id, line.company_id, line.sale_line_id.order_id): line
            for line in lines
        }
        reasons = {
            line._get_balance_ineligibility_reason()
            for line in representatives.values()
        } - {False}
        if reasons:
            raise ValidationError("\n".join(sorted(reasons)))
        Balance = self.env["customer.balance"]
        balances = Balance.search(self._get_candidate_balances_domain(groups))
        known = balances.grouped(
            lambda balance: (
                balance.partner_id,
                balance.company_id,
                balance.currency_id,
            )
        )

        targets = {}  # line -> balance, or the values of a balance to create
        to_create = {}
        for key, key_lines in groups.items():
            candidates = known.get(key, Balance)
            for line in key_lines.sorted(lambda line: line._balance_date()):
                values = self._resolve_balance(line, key, candidates, to_create)
                targets[line] = values
        if to_create:
            created = Balance._create_for_assignment(list(to_create.values()))
            by_key = dict(zip(to_create, created, strict=True))
            targets = {
                line: by_key[target] if isinstance(target, tuple) else target
                for line, target in targets.items()
            }
        by_balance = defaultdict(lambda: self.browse())
        for line, balance in targets.items():
            by_balance[balance] |= line
        for balance, balance_lines in by_balance.items():
            moved = balance_lines.filtered(lambda line, b=balance: line.balance_id != b)
            if moved:
                moved.balance_id = balance

    @api.model
    def _get_candidate_balances_domain(self, groups):
        """Balances that may hold, or border, the periods of the grouped items."""
        dates = [line._balance_date() for lines in groups.values() for line in lines]
        companies = self.env["res.company"].union(*(key[1] for key in groups))
        todays = [company._balance_today() for company in companies]
        first = min(dates + todays)
        last = max(dates + todays)
        # The widest period (a year) around the dates covers every natural period,
        # but for weeks, which straddle the new year by up to six days.
        first = first.replace(month=1, day=1) - relativedelta(days=6)
        last = last.replace(month=12, day=31) + relativedelta(days=6)
        return [
            ("partner_id", "in", [key[0].id for key in groups]),
            ("company_id", "in", companies.ids),
            ("currency_id", "in", [key[2].id for key in groups]),
            ("state", "!=", "cancel"),
            "|",
            ("period_start", "=", False),
            "&",
            ("period_start", "<=", last),
            ("period_end", ">=", first),
        ]

    def _resolve_balance(self, line, key, candidates, to_create):
        """The balance ``line`` goes on: an open balance among ``candidates``, or the
        key in ``to_create`` of the values of a balance to create."""
        return self._resolve_balance_for_date(
            key, line._balance_date(), candidates, to_create
        )

    @api.model
    def _resolve_balance_for_date(self, key, day, candidates, to_create):
        """The balance of ``key`` (billed partner, company, currency) for the
        company-local date ``day``: see ``_resolve_balance``."""
        company = key[1]
        periodic = candidates.filtered("period_start")

        def covering(day):
            return periodic.filtered(
                lambda balance: balance.period_start <= day <= balance.period_end
            )

        # Open balances keep the period they were opened with, whatever the setting.
        open_balance = covering(day).filtered(lambda balance: balance.state == "open")
        if open_balance:
            return open_balance[0]
        if company.balance_period == "manual":
            manual = candidates.filtered(
                lambda balance: not balance.period_start and balance.state == "open"
            )
            if manual:
                return manual[0]
            return self._balance_to_create(to_create, key, "manual", False, False)
        billed = covering(day).sorted("period_end")[-1:]
        if billed:
            today = company._balance_today()
            if billed.period_end >= today:
                # Billed early (threshold, bill now): a new balance, same period.
                return self._balance_to_create(
                    to_create,
                    key,
                    billed.period_type,
                    billed.period_start,
                    billed.period_end,
                    billed.billing_date,
                )
            # A late item of a period already billed goes with today's items.
            day = today
            open_balance = covering(day).filtered(lambda b: b.state == "open")
            if open_balance:
                return open_balance[0]
        start, end = company._balance_period_bounds(day)
        # Never overlap balances opened under another period setting: the new period
        # starts after the previous one ends and ends before the next one starts.
        for balance in periodic:
            if start <= balance.period_end < day:
                start = balance.period_end + relativedelta(days=1)
            if day < balance.period_start <= end:
                end = balance.period_start - relativedelta(days=1)
        return self._balance_to_create(
            to_create, key, company.balance_period, start, end
        )

    def _balance_to_create(
        self, to_create, key, period_type, start, end, billing_date=None
    ):
        partner, company, currency = key
        create_key = (partner.id, company.id, currency.id, start)
        if create_key not in to_create:
            to_create[create_key] = {
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": currency.id,
                "period_type": period_type,
                "period_start": start,
                "period_end": end,
                "billing_date": billing_date
                if billing_date is not None
                else company._balance_billing_date(end),
            }
        return create_key
