# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.tools import format_date

from .customer_balance_line import CONFIRMATION


class SaleOrder(models.Model):
    _inherit = "sale.order"

    balance_requested = fields.Boolean(
        string="Put on Customer Balance",
        copy=False,
        help="Bill the lines whose products let the customer choose on the "
        "customer's balance, with the consolidated invoice of the period.",
    )
    balance_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        compute="_compute_balance_line_ids",
        string="Balance Items",
    )
    balance_line_count = fields.Integer(compute="_compute_balance_line_ids")
    balance_summary = fields.Text(
        compute="_compute_balance_line_ids",
        help="When the items of this order will be billed.",
    )

    # --- What the order form and portal page say about the balance --- #
    balance_status = fields.Selection(
        selection=[
            ("none", "Not on a Balance"),
            ("pending", "Pending on a Balance"),
            ("scheduled", "Scheduled on a Balance"),
            ("billed", "Billed"),
            ("waived", "Waived"),
        ],
        compute="_compute_balance_status",
        help="Pending: waiting on the customer balance of the current period. "
        "Scheduled: on the balance of a future period. Billed: on an invoice. "
        "Waived: the charges on the balance were cancelled; nothing is to invoice.",
    )
    balance_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Balance Invoices",
        compute="_compute_balance_status",
        help="The invoices that billed this order's balance items.",
    )
    balance_on_balance = fields.Boolean(
        string="On Customer Balance",
        compute="_compute_balance_status",
        help="The order's lines were put on a customer balance.",
    )
    balance_covers_order = fields.Boolean(
        compute="_compute_balance_status",
        help="Every line of the order went on a customer balance: Odoo's own "
        "invoicing has nothing to do for it.",
    )

    # === COMPUTE METHODS === #

    @api.depends("order_line.balance_line_ids")
    def _compute_balance_line_ids(self):
        for order in self:
            # The customer reads its order's summary (portal, e-mail) too.
            items = order.order_line.sudo().balance_line_ids
            order.balance_line_ids = items
            order.balance_line_count = len(items)
            order.balance_summary = order._get_balance_summary(items)

    @api.depends(
        "state",
        "order_line.balance_line_ids.state",
        "order_line.balance_line_ids.invoice_id",
        "order_line.balance_waived_qty",
    )
    def _compute_balance_status(self):
        for order in self:
            items = order.order_line.sudo().balance_line_ids
            order.balance_status = order._get_balance_status(items)
            order.balance_on_balance = bool(items)
            # The customer may not read the invoice: the portal checks it.
            order.balance_invoice_ids = items.filtered(
                lambda item: item.state == "invoiced"
            ).invoice_id
            product_lines = order.order_line.filtered(
                lambda line: not line.display_type and not line.is_downpayment
            )
            order.balance_covers_order = bool(product_lines) and all(
                line.balance_waived_qty
                or line.balance_line_ids.filtered(lambda item: item.state != "cancel")
                for line in product_lines
            )

    # === CRUD / ACTION METHODS === #

    def _action_confirm(self):
        res = super()._action_confirm()
        self._balance_create_items()
        return res

    def _action_cancel(self):
        # Odoo cancels the orders' draft invoices first: a consolidated draft
        # releases its items, which are then cancelled with the booking too.
        # An order cancelled a second time changes nothing on the balances.
        cancelling = self.filtered(lambda order: order.state != "cancel")
        res = super()._action_cancel()
        lines = cancelling.order_line.filtered("balance_line_ids")
        # Charges waiting are cancelled (a credit waiting is the sync's business).
        items = lines.balance_line_ids.filtered(
            lambda item: item.state == "pending" and item.quantity > 0
        )
        for balance in items.balance_id:
            balance.message_post(
                body=_(
                    "Booking %s cancelled: its pending items are cancelled.",
                    ", ".join(
                        items.filtered(
                            lambda i, b=balance: i.balance_id == b
                        ).sale_line_id.order_id.mapped("name")
                    ),
                )
            )
        # Pending items are cancelled; what balances billed already is credited
        # on the open balance (the invoice is never touched).
        lines._balance_sync_items()
        return res

    def _get_confirmation_template(self):
        """Orders billed on a balance say so, with the period and the date of the
        consolidated invoice, instead of the usual confirmation."""
        return (
            self._get_balance_confirmation_template()
            or super()._get_confirmation_template()
        )

    def _get_balance_confirmation_template(self):
        """The confirmation e-mail of an order with items pending on a balance
        (period, date of the consolidated invoice), or an empty template."""
        template = self.env["mail.template"]
        if self.balance_line_ids.filtered(lambda item: item.state == "pending"):
            template = (
                self.env.ref(
                    "customer_balance.mail_template_sale_confirmation_balance",
                    raise_if_not_found=False,
                )
                or template
            )
        return template

    def action_view_balance_invoices(self):
        """The invoices that billed this order's balance items."""
        self.ensure_one()
        return self.balance_invoice_ids._get_records_action(name=_("Invoices"))

    def action_view_balance_items(self):
        self.ensure_one()
        return self.balance_line_ids._get_records_action(name=_("Balance Items"))

    # === BUSINESS METHODS === #

    def _balance_ineligibility_reason(self):
        """Why this order is not put on a customer balance, or ``False`` (the rule
        is ``customer.balance._get_ineligibility_reason``)."""
        self.ensure_one()
        return self.env["customer.balance"]._get_ineligibility_reason(
            self.partner_id, self.company_id, order=self
        )

    def _balance_checkout_unavailability_reason(self):
        """Why the customer cannot choose "Add to my customer balance" for this
        order at checkout, or ``False``."""
        self.ensure_one()
        if not any(
            line.product_id.balance_policy == "optional"
            for line in self.order_line
            if not line.display_type
        ):
            return _("no product of the order can be added to a customer balance")
        # The customer chooses at checkout herself.
        return self.env["customer.balance"]._get_ineligibility_reason(
            self.partner_id, self.company_id, order=self, from_portal=True
        )

    def _balance_above_maximum(self):
        """Whether the order total is above the company's maximum order amount for
        customer balances (in the company's currency)."""
        self.ensure_one()
        company = self.company_id
        maximum = company.balance_max_order_amount
        if not maximum:
            return False
        amount = self.currency_id._convert(
            self.amount_total,
            company.currency_id,
            company,
            self.date_order or fields.Date.today(),
        )
        return company.currency_id.compare_amounts(amount, maximum) > 0

    def _balance_paid_online(self):
        """Orders paid through a payment provider are invoiced and charged as
        usual, never put on a balance."""
        self.ensure_one()
        return bool(
            self.sudo().transaction_ids.filtered(
                lambda tx: (
                    tx.state in ("authorized", "done")
                    and not tx._is_balance_transaction()
                )
            )
        )

    def _balance_create_items(self):
        """One pending item per line going on a balance, for the confirmed orders
        of eligible customers."""
        to_create = []
        resync = self.env["sale.order.line"]
        for order in self:
            lines = order.order_line.filtered(lambda line: line._is_balance_line())
            if not lines or order._balance_ineligibility_reason():
                continue
            # A booking confirmed again after a cancellation gets its items
            # again, and a credit given for its cancellation is withdrawn.
            for line in lines:
                if line.balance_line_ids:
                    resync |= line
                    continue
                quantity = line._balance_target_qty()
                if line.product_uom_id.compare(quantity, 0.0) > 0:
                    to_create.append(line._prepare_balance_line_values(quantity))
        # The orders are eligible (asked above): their items are not asked again,
        # and the threshold is notified once, for every balance they fill.
        # Confirmation may run as the customer (portal, shop): the items are the
        # company's records.
        Item = self.env["customer.balance.line"].sudo()
        confirming = Item._with_transition_flag(CONFIRMATION)
        resync.with_env(confirming.env)._balance_sync_items()
        items = Item
        if to_create:
            items = confirming.create(to_create)
        (resync.sudo().balance_line_ids | items).filtered(
            lambda item: item.state == "pending"
        ).balance_id.sudo()._notify_threshold_reached()
        for order in items.sale_line_id.order_id:
            order.message_post(body=order._get_balance_summary(order.balance_line_ids))

    def _get_balance_status(self, items):
        """Where this order's balance ``items`` stand: pending (or scheduled) while
        any waits on a balance, billed once invoiced, waived when the charges were
        cancelled on the balance (or deleted) while the order stands."""
        self.ensure_one()
        pending = items.filtered(lambda item: item.state == "pending")
        if pending:
            if all(balance.is_scheduled for balance in pending.balance_id):
                return "scheduled"
            return "pending"
        if items.filtered(lambda item: item.state == "invoiced"):
            return "billed"
        if self.state != "cancel" and any(self.order_line.mapped("balance_waived_qty")):
            return "waived"
        return "none"

    def _get_balance_summary(self, items):
        """A sentence per balance the order's ``items`` wait on (period and when
        the consolidated invoice will be created), per invoice that billed them,
        and one for charges waived on a balance."""
        sentences = []
        pending = items.filtered(lambda item: item.state == "pending")
        for balance in pending.balance_id:
            if not balance.period_start:
                sentences.append(
                    _(
                        "On customer balance %s: billed with the next consolidated "
                        "invoice.",
                        balance.name,
                    )
                )
                continue
            sentences.append(
                _(
                    "%(scheduled)sOn customer balance %(balance)s for the period "
                    "%(start)s to %(end)s; the consolidated invoice will be created "
                    "on %(date)s.",
                    scheduled=_("Scheduled. ") if balance.is_scheduled else "",
                    balance=balance.name,
                    start=format_date(self.env, balance.period_start),
                    end=format_date(self.env, balance.period_end),
                    date=format_date(self.env, balance.invoice_creation_date),
                )
            )
        invoiced = items.filtered(lambda item: item.state == "invoiced")
        for invoice in invoiced.invoice_id:
            date = format_date(self.env, invoice.invoice_date or invoice.date)
            if invoice.balance_id:
                sentences.append(
                    _(
                        "Billed on the consolidated invoice %(invoice)s of "
                        "%(date)s (customer balance %(balance)s).",
                        invoice=invoice.name,
                        date=date,
                        balance=invoice.balance_id.name,
                    )
                )
            else:
                sentences.append(
                    _(
                        "Invoiced on its own on %(invoice)s of %(date)s.",
                        invoice=invoice.name,
                        date=date,
                    )
                )
        orders = items.sale_line_id.order_id or self
        waived = orders.filtered(lambda order: order.state != "cancel").order_line
        if any(waived.mapped("balance_waived_qty")):
            sentences.append(
                _("Charges waived on the customer balance: they will not be invoiced.")
            )
        return "\n".join(sentences)
