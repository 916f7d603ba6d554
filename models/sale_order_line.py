# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, api, fields, models

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
        help="Quantity whose balance items were deleted: it is not billed.",
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
        own *Create invoice*: the consolidated invoice bills them."""
        res = super()._compute_qty_to_invoice()
        for line in self:
            on_balance = line._balance_pending_qty() + line.balance_waived_qty
            if on_balance and line.qty_to_invoice > 0:
                line.qty_to_invoice = max(line.qty_to_invoice - on_balance, 0.0)
        return res

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if BOOKING_FIELDS.intersection(vals):
            self.filtered(
                lambda line: line.state == "sale" and line.balance_line_ids
            )._balance_sync_items()
        return res

    # === BUSINESS METHODS === #

    def _balance_pending_qty(self):
        self.ensure_one()
        return sum(
            item.quantity for item in self.balance_line_ids if item.state == "pending"
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

    def _balance_sync_items(self):
        """Bring the pending items of confirmed bookings in line with the order
        line: quantity, price, taxes, service date. Items already invoiced stay as
        they were; a quantity change after invoicing gives a new item, or a credit
        item, on the current balance."""
        Item = self.env["customer.balance.line"]
        to_create = []
        for line in self:
            items = line.balance_line_ids
            billed = sum(item.quantity for item in items if item.state == "invoiced")
            pending = items.filtered(lambda item: item.state == "pending")
            quantity = line.product_uom_qty - billed - line.balance_waived_qty
            values = line._prepare_balance_line_values(quantity)
            if pending:
                pending[1:].write({"state": "cancel"})
                if line.product_uom_id.compare(quantity, 0.0) == 0:
                    pending[0].state = "cancel"
                else:
                    changed = {
                        field: value
                        for field, value in values.items()
                        if field not in ("sale_line_id", "origin", "origin_ref")
                    }
                    pending[0].write(changed)
            elif line.product_uom_id.compare(quantity, 0.0) != 0:
                to_create.append(values)
        if to_create:
            Item.create(to_create)
