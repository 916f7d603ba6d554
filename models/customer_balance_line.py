# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, format_amount

from .customer_balance_transition_mixin import LIFECYCLE

# The scope of the order's synchronisation of its booking items
# (``sale.order.line._balance_sync_items``): ``item._as_transition(ORDER)``.
ORDER = "order"
# The flag of writes whose balances the caller updates itself.
NO_BALANCE_TOUCH = "no_balance_touch"
# Changing one of these changes the balance total (the threshold may be reached).
AMOUNT_FIELDS = {"quantity", "price_unit", "discount", "tax_ids"}
# The flag of the confirmation of orders (``sale.order._balance_create_items``)
# writing their items: it asked the eligibility rule for the orders, and notifies
# the billing threshold once for all the balances it fills.
CONFIRMATION = "confirmation"


class CustomerBalanceLine(models.Model):
    """A pending item: one chargeable item waiting on a customer balance until the
    balance is billed. Its fields carry the tax engine's names so that the engine
    computes it exactly as the invoice line it will become."""

    _name = "customer.balance.line"
    _inherit = ["customer.balance.transition.mixin"]
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
        if not self._in_transition():
            for vals in vals_list:
                if vals.get("state", "pending") != "pending" or vals.get(
                    "invoice_line_id"
                ):
                    raise UserError(
                        _(
                            "A new item is always pending: it is invoiced, released "
                            "or cancelled by the actions of its balance."
                        )
                    )
        lines = super().create(vals_list)
        # Balances the items were put on directly (an entry on a chosen balance):
        # a bill run billing one of them must not miss them (the assignment
        # touches the balances it chooses itself).
        direct = lines.filtered("balance_id")
        direct.balance_id._touch_for_items()
        # The assignment notifies the balances it fills of the threshold itself.
        (lines - direct)._assign_balance()
        if not lines._in_confirmation():
            direct.balance_id._notify_threshold_reached()
        return lines

    def write(self, vals):
        assignment = self._get_assignment_fields()
        reassign = "balance_id" not in vals and assignment.intersection(vals)
        if reassign and {"company_id", "currency_id"}.intersection(vals):
            # Off the old balance in the same write: it no longer fits the item.
            vals = {**vals, "balance_id": False}
        # The assignment and the transitions update the balances themselves: they
        # fill them once for all items, or run where the balance is already
        # locked or written (the bill run, a cancelled invoice).
        handled = self._has_transition_flag(NO_BALANCE_TOUCH)
        touch = not handled and (
            reassign or self._get_frozen_fields().intersection(vals)
        )
        touched = self.balance_id if touch else self.env["customer.balance"]
        res = super().write(vals)
        if reassign:
            # Notifies the balances it fills of the threshold.
            self.filtered(lambda line: line.state == "pending")._assign_balance()
        if touch:
            (touched | self.balance_id)._touch_for_items()
        if (
            not reassign
            and not handled
            and not self._in_confirmation()
            and (AMOUNT_FIELDS.intersection(vals) or "balance_id" in vals)
        ):
            self.balance_id._notify_threshold_reached()
        return res

    def _get_transition_fields(self):
        """Override of the transition mixin: an item's state and invoice line
        change only through its transitions (``_mark_invoiced``, ``_release``,
        ``_waive``, ``_cancel_with_booking``, ``_give_back``), and what it is no
        longer changes once it is invoiced or cancelled. What a booking item
        charges comes from its order line: only the order's synchronisation
        writes it (scope ``ORDER``)."""
        res = super()._get_transition_fields()
        lifecycle = res.setdefault(LIFECYCLE, set())
        lifecycle.update(self._get_state_fields(), self._get_computed_amount_fields())
        if self.state != "pending":
            lifecycle.update(self._get_frozen_fields())
        if self.sale_line_id:
            res.setdefault(ORDER, set()).update(self._get_booking_fields())
        return res

    def _get_state_fields(self):
        """The fields of an item's life, written by its transitions only."""
        return {"state", "invoice_line_id"}

    def _get_frozen_fields(self):
        """The fields that make an item what it is: frozen once it is invoiced or
        cancelled; changed on a pending item, they update its balance."""
        return {
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

    def _get_computed_amount_fields(self):
        """The item's amounts, only ever computed by the tax engine from its
        quantity, price, discount and taxes: written directly, its balance's
        total would no longer be what the consolidated invoice bills."""
        return {
            "price_subtotal",
            "price_total",
            "raw_price_subtotal",
            "raw_tax_amounts",
            "has_price_excluded_tax",
        }

    def _get_booking_fields(self):
        """What a booking item charges: its order line's, synchronised by the
        order."""
        return {"product_id", "quantity", "price_unit", "discount", "tax_ids"}

    def _get_assignment_fields(self):
        """The item's fields its balance is chosen by
        (``customer.balance._get_grouping_key`` and the period): changing one
        moves a pending item to the balance it now belongs to. Extend it with
        the grouping key."""
        return {"partner_id", "company_id", "currency_id", "service_date"}

    def _get_transition_error(self, scope, field_names):
        if scope == ORDER:
            booking = self.filtered("sale_line_id")[:1]
            return _(
                "Item “%(item)s” comes from order %(order)s: change the product, "
                "quantity, price, discount or taxes on the order; its item "
                "follows.",
                item=booking.name,
                order=booking.sale_line_id.order_id.name,
            )
        if self._get_computed_amount_fields() & set(field_names):
            return _(
                "The amounts of an item are computed from its quantity, price, "
                "discount and taxes: change those instead."
            )
        if self._get_state_fields() & set(field_names):
            return _(
                "The state of an item changes only through its actions: invoice it "
                "(Invoice Now, Bill now), cancel its invoice, cancel or delete it."
            )
        return _("Invoiced or cancelled items cannot be changed any more.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if any(line.state == "invoiced" for line in self):
            raise UserError(_("An invoiced item cannot be deleted."))

    def unlink(self):
        pending = self.filtered(lambda line: line.state == "pending")
        # A deleted booking item waives its charge: the booking stays confirmed and
        # the order no longer shows that quantity as to invoice.
        pending._add_waived_quantity()
        for balance, lines in pending.grouped("balance_id").items():
            if balance:
                balance.message_post(body=_("Items removed: %s", lines._describe()))
        balances = self.balance_id
        # Last before the rows go: their share of their balances' sums.
        self.flush_recordset(self._get_balance_sum_fields())
        self._add_to_balance_sums(-1)
        res = super().unlink()
        balances.exists()._touch_for_items()
        return res

    # === ACTION METHODS === #

    def action_invoice_now(self):
        """Take the selected pending items off their balance and invoice them on
        their own, one invoice per balance. They leave the balance (its documents
        no longer list them); its chatter says which invoice they went to.
        Cancelling that invoice puts them back on an open balance."""
        lines = self.filtered(lambda line: line.state == "pending")
        if not lines:
            raise UserError(_("Select pending items to invoice."))
        # The defaults of the list the items were selected in (such as a balance's
        # items) must not reach the invoice: it would become that balance's
        # consolidated invoice.
        lines = lines.with_context(clean_context(self.env.context))
        invoices = self.env["account.move"]
        for balance, balance_lines in lines.grouped("balance_id").items():
            description = balance_lines._describe()
            invoice = balance._invoice_items(balance_lines)
            balance.message_post(
                body=_(
                    "Invoiced on their own with %(invoice)s, off this balance: "
                    "%(items)s",
                    invoice=invoice._get_html_link(),
                    items=description,
                )
            )
            invoices |= invoice
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

    # === TRANSITIONS === #
    # Every change of an item's state goes through one of these; each checks that
    # the items are where the transition starts from. They write through
    # ``_as_transition()`` (customer_balance_transition_mixin.py) and leave the
    # balances to themselves (``_without_balance_touch``): they run where the
    # balance is locked or written already.

    def _without_balance_touch(self):
        """These items, their writes leaving their balances' rows and threshold
        to the caller. Permits no field."""
        return self._with_transition_flag(NO_BALANCE_TOUCH)

    def _in_confirmation(self):
        """Whether these items are written by the confirmation of their orders,
        which checked the orders' eligibility and notifies the threshold."""
        return self._has_transition_flag(CONFIRMATION)

    def _check_state(self, state, action):
        wrong = self.filtered(lambda line: line.state != state)
        if wrong:
            raise UserError(
                _(
                    "Item “%(item)s” is %(state)s: it cannot be %(action)s.",
                    item=wrong[0].name,
                    state=wrong[0]._get_state_label().lower(),
                    action=action,
                )
            )

    def _get_state_label(self):
        self.ensure_one()
        selection = self._fields["state"]._description_selection(self.env)
        return dict(selection)[self.state]

    def _move_to_balance(self, target):
        """Move these pending items to the open balance ``target`` of the same company
        and currency, saying so in the chatter of both balances."""
        lines = self
        if lines.filtered(lambda line: line.state != "pending"):
            raise UserError(_("Only pending items can be moved."))
        if target.state != "open":
            raise UserError(_("Items can only be moved to an open balance."))
        if (
            lines.company_id != target.company_id
            or lines.currency_id != target.currency_id
        ):
            raise UserError(
                _(
                    "Items can only be moved to a balance of the same company and "
                    "currency (%(company)s, %(currency)s).",
                    company=target.company_id.name,
                    currency=target.currency_id.name,
                )
            )
        # Items already on the target stay out of the move and of its messages.
        lines = lines.filtered(lambda line: line.balance_id != target)
        if not lines:
            raise UserError(_("The items are already on %s.", target.name))
        sources = lines.balance_id
        lines.balance_id = target
        summary = ", ".join(lines.mapped("name"))
        for source in sources:
            source.message_post(
                body=_(
                    "Items moved to %(balance)s: %(items)s",
                    balance=target._get_html_link(),
                    items=summary,
                )
            )
        target.message_post(
            body=_(
                "Items moved here from %(balances)s: %(items)s",
                balances=", ".join(sources.mapped("name")),
                items=summary,
            )
        )
        return lines

    def _mark_invoiced(self, invoice_line_by_item, detach=False):
        """Pending items became the invoice lines ``invoice_line_by_item`` ({item:
        account.move.line}) of a customer invoice or credit note. ``detach``: they
        were invoiced on their own (Invoice Now) and leave their balance."""
        self._check_state("pending", _("invoiced"))
        for line in self._as_transition()._without_balance_touch():
            invoice_line = invoice_line_by_item.get(line)
            if (
                not invoice_line
                or invoice_line.display_type != "product"
                or invoice_line.move_id.state == "cancel"
            ):
                raise UserError(
                    _("Item “%s” has no invoice line to be invoiced on.", line.name)
                )
            line.invoice_line_id = invoice_line
        vals = {"state": "invoiced"}
        if detach:
            vals["balance_id"] = False
        self._as_transition()._without_balance_touch().write(vals)

    def _release(self, deleted_invoices=None):
        """Invoiced items whose invoice is cancelled (or being deleted,
        ``deleted_invoices``) bill nothing any more: they wait again, on their
        balance when it is open, else on the open balance they belong to now."""
        self._check_state("invoiced", _("released"))
        deleted_invoices = deleted_invoices or self.env["account.move"]
        valid = self.filtered(
            lambda line: (
                line.invoice_id.state != "cancel"
                and line.invoice_id not in deleted_invoices
            )
        )
        if valid:
            raise UserError(
                _(
                    "Item “%(item)s” is billed by %(invoice)s, which is neither "
                    "cancelled nor deleted: it cannot wait to be billed again.",
                    item=valid[0].name,
                    invoice=valid[0].invoice_id.display_name,
                )
            )
        stay = self.filtered(lambda line: line.balance_id.state == "open")
        stay._as_transition()._without_balance_touch().write(
            {"state": "pending", "invoice_line_id": False}
        )
        moved = self - stay
        moved._as_transition()._without_balance_touch().write(
            {"state": "pending", "invoice_line_id": False, "balance_id": False}
        )
        moved._assign_balance()

    def _waive(self):
        """Pending items that will not be billed, and need not be: a zero net,
        a cancelled balance. Their bookings stay confirmed and their orders show
        nothing to invoice for them (the quantity is waived)."""
        self._check_state("pending", _("waived"))
        self._add_waived_quantity()
        self._as_transition()._without_balance_touch().write({"state": "cancel"})

    def _cancel_with_booking(self):
        """Pending items of a cancelled booking (or a booking quantity removed from
        the order): nothing to bill, nothing waived."""
        self._check_state("pending", _("cancelled"))
        self._as_transition()._without_balance_touch().write({"state": "cancel"})

    def _give_back(self):
        """Pending items leave balances for good: a booking item's quantity is
        invoiced by Odoo's own *Create invoice* again; a manual item is simply
        cancelled."""
        self._check_state("pending", _("given back"))
        for sale_line, items in (
            self.filtered("sale_line_id").grouped("sale_line_id").items()
        ):
            sale_line.sudo().balance_given_back_qty += sum(items.mapped("quantity"))
        self._as_transition()._without_balance_touch().write({"state": "cancel"})

    # === BUSINESS METHODS === #

    def _add_waived_quantity(self):
        """Book the quantities of these booking items as waived on their order
        lines."""
        for sale_line, items in (
            self.filtered("sale_line_id").grouped("sale_line_id").items()
        ):
            sale_line.sudo().balance_waived_qty += sum(items.mapped("quantity"))

    def _describe(self):
        """``Desk day (100.00 €), Credit (-5.00 €)``, for chatter messages."""
        env = self.env
        return ", ".join(
            f"{line.name} ({format_amount(env, line.price_subtotal, line.currency_id)})"
            for line in self
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
        return self.env["customer.balance"]._get_ineligibility_reason(
            self.partner_id,
            self.company_id,
            order=self.sale_line_id.order_id or None,
        )

    def _balance_date(self):
        """The company-local date deciding the item's period."""
        self.ensure_one()
        return self.service_date

    def _assign_balance(self):
        """Put each pending item on the open balance it belongs to (see
        ``customer.balance._get_or_create_for``), creating missing balances."""
        lines = self.filtered(lambda line: line.state == "pending")
        if not lines:
            return
        if not self._in_confirmation():
            lines._check_balance_eligibility()
        targets = self.env["customer.balance"]._get_or_create_for(lines)
        by_balance = defaultdict(lambda: self.browse())
        for line, balance in targets.items():
            if line.balance_id != balance:
                by_balance[balance] |= line
        for balance, balance_lines in by_balance.items():
            balance_lines._without_balance_touch().balance_id = balance
        balances = self.env["customer.balance"].union(*targets.values())
        balances._touch_for_items()
        if not self._in_confirmation():
            balances._notify_threshold_reached()

    def _check_balance_eligibility(self):
        """Refuse, with the reasons, items that cannot go on a customer balance
        (``_get_balance_ineligibility_reason``): one check per contact, company
        and order, not per item."""
        representatives = {
            (line.partner_id, line.company_id, line.sale_line_id.order_id): line
            for line in self
        }
        reasons = {
            line._get_balance_ineligibility_reason()
            for line in representatives.values()
        } - {False}
        if reasons:
            raise ValidationError("\n".join(sorted(reasons)))
