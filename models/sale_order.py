# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.tools import format_date


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

    # === COMPUTE METHODS === #

    @api.depends("order_line.balance_line_ids")
    def _compute_balance_line_ids(self):
        for order in self:
            # The customer reads its order's summary (portal, e-mail) too.
            items = order.order_line.sudo().balance_line_ids
            order.balance_line_ids = items
            order.balance_line_count = len(items)
            order.balance_summary = order._get_balance_summary(items)

    # === CRUD / ACTION METHODS === #

    def _action_confirm(self):
        res = super()._action_confirm()
        self._balance_create_items()
        return res

    def _action_cancel(self):
        items = self.order_line.balance_line_ids.filtered(
            lambda item: item.state == "pending"
        )
        items.write({"state": "cancel"})
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
        return super()._action_cancel()

    def _get_confirmation_template(self):
        """Orders billed on a balance say so, with the period and the date of the
        consolidated invoice, instead of the usual confirmation."""
        if self.balance_line_ids.filtered(lambda item: item.state == "pending"):
            template = self.env.ref(
                "customer_balance.mail_template_sale_confirmation_balance",
                raise_if_not_found=False,
            )
            if template:
                return template
        return super()._get_confirmation_template()

    def action_view_balance_items(self):
        self.ensure_one()
        return self.balance_line_ids._get_records_action(name=_("Balance Items"))

    # === BUSINESS METHODS === #

    def _balance_ineligibility_reason(self):
        """Why this order is not put on a customer balance, or ``False``."""
        self.ensure_one()
        company = self.company_id
        reason = self.partner_id._balance_ineligibility_reason(company)
        if reason:
            return reason
        if company.balance_admin_only and not self.env.user._is_internal():
            return _("Only items added by your staff go on customer balances.")
        if self._balance_above_maximum():
            return _(
                "Order %(order)s is above the maximum amount for customer balances "
                "(%(maximum)s).",
                order=self.name,
                maximum=company.balance_max_order_amount,
            )
        if self._balance_paid_online():
            return _("The order was paid online.")
        return False

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
        if self.company_id.balance_admin_only:
            return _("only your staff can put orders on customer balances")
        partner_reason = self.partner_id._balance_ineligibility_reason(self.company_id)
        if partner_reason:
            return partner_reason
        if self._balance_above_maximum():
            return _("the order is above the maximum amount for customer balances")
        return False

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
        for order in self:
            lines = order.order_line.filtered(lambda line: line._is_balance_line())
            if not lines or order._balance_ineligibility_reason():
                continue
            to_create += [
                line._prepare_balance_line_values(
                    line.product_uom_qty - line.qty_invoiced
                )
                for line in lines
                if not line.balance_line_ids
            ]
        if to_create:
            # Confirmation may run as the customer (portal, shop): the items are
            # the company's records.
            items = self.env["customer.balance.line"].sudo().create(to_create)
            for order in items.sale_line_id.order_id:
                order.message_post(
                    body=order._get_balance_summary(order.balance_line_ids)
                )

    def _get_balance_summary(self, items):
        """A sentence per balance: period and when the consolidated invoice comes."""
        sentences = []
        for balance in items.filtered(lambda item: item.state != "cancel").balance_id:
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
        return "\n".join(sentences)
