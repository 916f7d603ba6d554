# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, api, fields, models

from .customer_balance_line import ORDER

# Changing one of these on a confirmed booking updates its pending items.
BOOKING_FIELDS = {
    "product_uom_qty",
    "price_unit",
    "discount",
    "tax_ids",
    "analytic_distribution",
    "service_start",
    "name",
}


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    service_start = fields.Datetime(
        compute="_compute_service_start",
        store=True,
        readonly=False,
        precompute=True,
        help="When the booked service starts. Its day in the company's time zone "
        "decides the billing period of products billed at service start.",
    )
    balance_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="sale_line_id",
        string="Balance Items",
    )
    balance_waived_qty = fields.Float(
        string="Waived Quantity",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="Quantity whose balance items were waived (deleted, netted to zero, "
        "or on a cancelled balance): it is not billed.",
    )
    balance_given_back_qty = fields.Float(
        string="Given Back Quantity",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="Quantity taken off a cancelled customer balance and given back to the "
        "order's normal invoicing.",
    )

    # === COMPUTE METHODS === #

    @api.depends("order_id.commitment_date", "order_id.date_order")
    def _compute_service_start(self):
        for line in self:
            if not line.service_start:
                line.service_start = (
                    line.order_id.commitment_date or line.order_id.date_order
                )

    @api.depends(
        "balance_line_ids.state",
        "balance_line_ids.quantity",
        "balance_waived_qty",
    )
    def _compute_qty_to_invoice(self):
        """Quantities waiting on a customer balance, or waived, are not for Odoo's
        own *Create invoice*: the consolidated invoice bills them (what balances
        invoiced already counts in ``qty_invoiced``, through the invoice lines).
        Exactly, not floored at zero: a credit item (a quantity lowered after
        billing) cancels out the refund Odoo would otherwise see to make."""
        res = super()._compute_qty_to_invoice()
        for line in self:
            if line.state != "sale" or line.display_type:
                continue
            on_balance = line._balance_pending_qty() + line.balance_waived_qty
            if on_balance:
                line.qty_to_invoice -= on_balance
        return res

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if BOOKING_FIELDS.intersection(vals):
            self.filtered(
                lambda line: (
                    line.state == "sale"
                    and (
                        line.balance_line_ids
                        or line.balance_waived_qty
                        or line.balance_given_back_qty
                    )
                )
            )._balance_sync_items()
        return res

    # === BUSINESS METHODS === #

    def _balance_pending_qty(self):
        self.ensure_one()
        return sum(
            item.quantity for item in self.balance_line_ids if item.state == "pending"
        )

    def _balance_target_qty(self):
        """The quantity of this booking line that waits on a balance: what is
        ordered, less what balances invoiced, what was waived and what was given
        back to Odoo's own invoicing.

        Every booked quantity is exactly one of: pending on a balance, invoiced
        through a balance, waived, or invoiced (or to invoice) by Odoo.

        A cancelled booking charges nothing: what balances billed is credited,
        except a charge the accountant kept by deleting its credit (a negative
        waived quantity). Its waived and given back quantities stay as they
        are, for the order confirmed again."""
        self.ensure_one()
        billed = sum(
            item.quantity for item in self.balance_line_ids if item.state == "invoiced"
        )
        if self.state == "cancel":
            return -(billed + min(self.balance_waived_qty, 0.0))
        return (
            self.product_uom_qty
            - billed
            - self.balance_waived_qty
            - self.balance_given_back_qty
        )

    def _is_balance_line(self):
        """Whether this line of an order going on a balance becomes an item."""
        self.ensure_one()
        if self.display_type or self.is_downpayment or not self.product_id:
            return False
        policy = self.product_id.balance_policy
        return policy == "always" or (
            policy == "optional" and self.order_id.balance_requested
        )

    def _balance_service_date(self):
        """The company-local day deciding the item's period: the service start for
        products billed at service start, else the order's confirmation date."""
        self.ensure_one()
        company = self.order_id.company_id
        if self.product_id.balance_invoice_timing == "start" and self.service_start:
            return company._balance_local_date(self.service_start)
        return company._balance_local_date(self.order_id.date_order)

    def _prepare_balance_line_values(self, quantity):
        self.ensure_one()
        order = self.order_id
        return {
            "partner_id": order.partner_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            "product_id": self.product_id.id,
            "product_uom_id": self.product_uom_id.id,
            "name": self.name,
            "quantity": quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [Command.set(self.tax_ids.ids)],
            "analytic_distribution": self.analytic_distribution,
            "service_date": self._balance_service_date(),
            "origin": "booking",
            "origin_ref": order.name,
            "sale_line_id": self.id,
        }

    def _balance_shrink_set_aside(self, excess):
        """Take ``excess`` off the waived, then the given back quantity (never
        below zero); returns the target quantity that remains (negative when a
        billed quantity must be credited)."""
        self.ensure_one()
        line = self.sudo()
        waived = min(line.balance_waived_qty, excess)
        given_back = min(line.balance_given_back_qty, excess - waived)
        if waived or given_back:
            line.write(
                {
                    "balance_waived_qty": line.balance_waived_qty - waived,
                    "balance_given_back_qty": line.balance_given_back_qty - given_back,
                }
            )
        return -(excess - waived - given_back)

    def _balance_sync_items(self, credit_billed=False):
        """Bring the pending items of confirmed bookings in line with the order
        line: quantity, price, taxes, service date. Items already invoiced stay as
        they were; a quantity change after invoicing gives a new item, or a credit
        item, on the current balance; a cancelled booking gives a credit of what
        was billed (see ``_balance_target_qty``). The invoice is never touched.

        ``credit_billed``: part of the booking was cancelled (a ticket, a
        booking): a billed quantity is credited, not taken off what was waived
        or given back."""
        Item = self.env["customer.balance.line"]
        to_create = []
        withdrawn = Item
        for line in self:
            pending = line.balance_line_ids.filtered(
                lambda item: item.state == "pending"
            )
            quantity = line._balance_target_qty()
            if (
                line.product_uom_id.compare(quantity, 0.0) < 0
                and line.state != "cancel"
                and not credit_billed
            ):
                # Booked less than was waived or given back: those shrink first;
                # only a quantity billed through a balance gives a credit item.
                # A credit already given stays: only a new decrease shrinks them.
                current = sum(pending.mapped("quantity"))
                shrink = min(-quantity, max(current - quantity, 0.0))
                if line.product_uom_id.compare(shrink, 0.0) > 0:
                    quantity += shrink + line._balance_shrink_set_aside(shrink)
            values = line._prepare_balance_line_values(quantity)
            if line.state == "cancel":
                values.update(line._balance_billed_price_values())
            if pending:
                pending[1:]._cancel_with_booking()
                if line.product_uom_id.compare(quantity, 0.0) == 0:
                    if line.state != "cancel":
                        withdrawn |= pending[0].filtered(lambda i: i.quantity < 0)
                    pending[0]._cancel_with_booking()
                else:
                    changed = {
                        field: value
                        for field, value in values.items()
                        if field not in ("sale_line_id", "origin", "origin_ref")
                    }
                    pending[0]._as_transition(ORDER).write(changed)
            elif line.product_uom_id.compare(quantity, 0.0) != 0:
                to_create.append(values)
        credits = [values for values in to_create if values["quantity"] < 0]
        refused = self._balance_refuse_ineligible_credits(credits)
        to_create = [values for values in to_create if values not in refused]
        if to_create:
            items = Item.create(to_create)
            self._balance_post_credit_notes(
                items.filtered(lambda item: item.quantity < 0)
            )
        self._balance_post_credit_notes(withdrawn, withdrawn=True)

    def _balance_post_credit_notes(self, credits, withdrawn=False):
        """Say on the balance and on the order of each booking credit item
        (``credits``) where it comes from: the booking billed on an invoice, then
        cancelled or reduced. ``withdrawn``: the credits were taken back (the
        booking confirmed again). One message per balance and per order."""
        env = self.env
        for balance, items in credits.grouped("balance_id").items():
            orders = items.sale_line_id.order_id
            invoices = items.sale_line_id.balance_line_ids.filtered(
                lambda item: item.state == "invoiced"
            ).invoice_id
            values = {
                "orders": ", ".join(orders.mapped("name")),
                "invoices": ", ".join(invoices.mapped("display_name")),
                "items": items._describe(),
                "balance": balance.display_name,
            }
            if withdrawn:
                body = env._(
                    "Booking %(orders)s stands again (confirmed again or its "
                    "quantity restored): its credit is withdrawn from customer "
                    "balance %(balance)s: %(items)s",
                    **values,
                )
            else:
                body = env._(
                    "Booking %(orders)s was billed on %(invoices)s, then cancelled "
                    "or reduced: credit on customer balance %(balance)s: %(items)s. "
                    "The invoice stays as it is; delete the credit to keep the "
                    "charge.",
                    **values,
                )
            for record in (balance, *orders):
                record.message_post(body=body)

    def _balance_billed_price_values(self):
        """The price, discount, taxes and description this booking line was
        last billed with through a balance: a cancelled booking is credited at
        what it was billed, even when the order line changed since."""
        self.ensure_one()
        billed = self.balance_line_ids.filtered(
            lambda item: item.state == "invoiced" and item.quantity > 0
        ).sorted("id")[-1:]
        if not billed:
            return {}
        return {
            "name": billed.name,
            "price_unit": billed.price_unit,
            "discount": billed.discount,
            "tax_ids": [Command.set(billed.tax_ids.ids)],
        }

    def _balance_refuse_ineligible_credits(self, values_list):
        """The credits of ``values_list`` (item values) that cannot go on a
        balance any more (the customer stopped using balances, the feature was
        turned off): their order says so, for the accountant to credit the
        billed invoice by hand, instead of refusing the change of the booking.
        One check per order."""
        Item = self.env["customer.balance.line"]
        refused = []
        reasons = {}
        for values in values_list:
            line = self.browse(values["sale_line_id"])
            order = line.order_id
            if order not in reasons:
                reasons[order] = Item.new(values)._get_balance_ineligibility_reason()
            if reasons[order]:
                refused.append(values)
                invoices = line.balance_line_ids.filtered(
                    lambda item: item.state == "invoiced"
                ).invoice_id
                order.message_post(
                    body=self.env._(
                        "%(line)s was billed on %(invoices)s, then cancelled or "
                        "reduced: no credit of %(quantity)s can go on a customer "
                        "balance (%(reason)s). Credit the invoice if it is not due.",
                        line=line.name,
                        invoices=", ".join(invoices.mapped("display_name")),
                        quantity=-values["quantity"],
                        reason=reasons[order],
                    )
                )
        return refused
