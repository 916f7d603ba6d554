# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError


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

    # === CRUD METHODS === #

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if any(line.state == "invoiced" for line in self):
            raise UserError(_("An invoiced item cannot be deleted."))

    # === BUSINESS METHODS === #

    def _prepare_base_line_for_taxes_computation(self, **kwargs):
        """The item as a base line of Odoo's tax engine."""
        self.ensure_one()
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            partner_id=self.balance_id.partner_id or self.partner_id,
            **kwargs,
        )
