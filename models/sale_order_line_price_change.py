# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, fields, models
from odoo.tools import format_amount

# Writing one of these on a booking line may change the price of what balances
# billed already.
PRICE_FIELDS = {"price_unit", "discount"}


class SaleOrderLine(models.Model):
    """A booking whose price changes after it was billed (DESIGN §5.2): the
    difference on the quantity billed goes on the customer's open balance as an
    item of its own, a charge for a higher price, a credit for a lower one. The
    billed invoice is never touched and the order never shows the difference as
    *to invoice* (the item is no quantity of the order line)."""

    _inherit = "sale.order.line"

    balance_price_change_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="price_change_sale_line_id",
        string="Price Differences",
        readonly=True,
    )

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if PRICE_FIELDS.intersection(vals):
            # Booking lines of bridges (one item per resource booking) sync their
            # items apart from ``_balance_sync_items``: their price change is
            # caught here.
            self._balance_sync_price_difference()
        return res

    # === BUSINESS METHODS === #

    def _balance_sync_items(self, credit_billed=False):
        """Override: once the items follow the order line, the difference of a
        price changed after billing follows too (a cancelled booking's
        differences are credited with it)."""
        res = super()._balance_sync_items(credit_billed=credit_billed)
        self._balance_sync_price_difference()
        return res

    def _balance_effective_price(self, record):
        """The unit price of ``record`` (an order line or an item) after its
        discount."""
        return record.price_unit * (1.0 - (record.discount or 0.0) / 100.0)

    def _balance_get_price_difference(self):
        """What the price differences of this line must add up to: every item of
        its quantity (pending or billed) at the line's current price, less what
        they charge. Zero as long as nothing billed changed price; for a
        cancelled booking, whose items net to no quantity, minus what it was
        billed more (or less) than its credit returns."""
        self.ensure_one()
        items = self.balance_line_ids.filtered(
            lambda item: item.state in ("pending", "invoiced")
        )
        price = self._balance_effective_price(self)
        quantity = sum(items.mapped("quantity"))
        charged = sum(
            item.quantity * self._balance_effective_price(item) for item in items
        )
        return price * quantity - charged

    def _balance_sync_price_difference(self):
        """Keep one pending difference item per booking line whose billed items
        were billed at another price than the line's current one: it charges
        the difference not charged yet (its billed differences counted). Lines
        with nothing billed follow their pending items alone."""
        Item = self.env["customer.balance.line"].sudo()
        # Only a confirmed (or cancelled) booking has billed items: a cart being
        # edited costs no query here.
        lines = self.filtered(lambda line: line.state in ("sale", "cancel"))
        for line in lines.sudo():
            differences = line.balance_price_change_ids
            billed = line.balance_line_ids.filtered(
                lambda item: item.state == "invoiced"
            )
            if not billed and not differences:
                continue
            currency = line.currency_id or line.order_id.currency_id
            pending = differences.filtered(lambda item: item.state == "pending")
            invoiced = sum(
                item.quantity * item.price_unit
                for item in differences
                if item.state == "invoiced"
            )
            amount = currency.round(line._balance_get_price_difference() - invoiced)
            if currency.is_zero(amount):
                if pending:
                    pending._cancel_with_booking()
                continue
            if pending:
                pending[1:]._cancel_with_booking()
                if currency.compare_amounts(pending[0].price_unit, amount):
                    pending[0].write({"price_unit": amount, "quantity": 1.0})
                continue
            values = line._prepare_balance_price_difference_values(amount)
            reason = Item.new(values)._get_balance_ineligibility_reason()
            if reason:
                line.order_id.message_post(
                    body=_(
                        "The price of %(line)s changed after it was billed: no "
                        "difference of %(amount)s can go on a customer balance "
                        "(%(reason)s). Invoice or credit it by hand.",
                        line=line.name,
                        amount=format_amount(self.env, amount, currency),
                        reason=reason,
                    )
                )
                continue
            item = Item.create(values)
            body = _(
                "The price of %(line)s changed after it was billed: the difference "
                "of %(amount)s is on customer balance %(balance)s.",
                line=line.name,
                amount=format_amount(self.env, item.price_subtotal, currency),
                balance=item.balance_id._get_html_link(),
            )
            for record in (item.balance_id, line.order_id):
                record.message_post(body=body)

    def _prepare_balance_price_difference_values(self, amount):
        """Values of the item charging (or, negative, crediting) ``amount``, the
        price difference of this line's billed quantity, on today's open
        balance."""
        self.ensure_one()
        order = self.order_id
        return {
            "partner_id": order.partner_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            "product_id": self.product_id.id,
            "product_uom_id": self.product_uom_id.id,
            "name": _("%(line)s: price changed after billing", line=self.name),
            "quantity": 1.0,
            "price_unit": amount,
            "discount": 0.0,
            "tax_ids": [fields.Command.set(self.tax_ids.ids)],
            "analytic_distribution": self.analytic_distribution,
            "service_date": order.company_id._balance_today(),
            "origin": "booking",
            "origin_ref": order.name,
            "price_change_sale_line_id": self.id,
        }
