# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import clean_context, format_amount


class CustomerBalanceEntry(models.TransientModel):
    """Add a charge or a credit to a customer's balance (seed 001's *Add entry*)."""

    _name = "customer.balance.entry"
    _description = "Add a Charge or Credit to a Customer Balance"

    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        domain="[('state', '=', 'open'), ('company_id', '=', company_id)]",
        help="Leave empty to use the balance of the period of the service date.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    entry_type = fields.Selection(
        selection=[("charge", "Charge"), ("credit", "Credit")],
        string="Type",
        required=True,
        default="charge",
    )
    product_id = fields.Many2one(
        comodel_name="product.product",
        domain="[('sale_ok', '=', True)]",
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    amount = fields.Monetary(
        required=True, help="Unit price, without the sign: a credit is deducted."
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    tax_ids = fields.Many2many(
        comodel_name="account.tax",
        string="Taxes",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('type_tax_use', '=', 'sale'),"
        " ('company_id', 'parent_of', company_id)]",
    )
    service_date = fields.Date(
        required=True,
        compute="_compute_service_date",
        store=True,
        readonly=False,
        precompute=True,
        help="Today by default; within the period of the chosen balance.",
    )

    # === COMPUTE METHODS === #

    @api.depends("balance_id", "company_id")
    def _compute_currency_id(self):
        for wizard in self:
            wizard.currency_id = (
                wizard.balance_id.currency_id or wizard.company_id.currency_id
            )

    @api.depends("balance_id", "company_id")
    def _compute_service_date(self):
        # An entry added to a balance belongs to its period: kept there when the
        # item's contact or date is edited later.
        for wizard in self:
            company = wizard.company_id or self.env.company
            day = wizard.service_date or company._balance_today()
            balance = wizard.balance_id
            if balance.period_start:
                day = min(max(day, balance.period_start), balance.period_end)
            wizard.service_date = day

    @api.depends("product_id")
    def _compute_name(self):
        for wizard in self:
            wizard.name = wizard.product_id.display_name or wizard.name

    @api.depends("product_id", "company_id", "partner_id", "balance_id")
    def _compute_tax_ids(self):
        """The product's taxes, mapped by the customer's fiscal position as Odoo
        maps the taxes of an invoice line (a reverse-charge customer pays no
        domestic VAT on a manual charge either)."""
        for wizard in self:
            taxes = wizard.product_id.taxes_id.filtered_domain(
                self.env["account.tax"]._check_company_domain(wizard.company_id)
            )
            wizard.tax_ids = wizard._get_fiscal_position().map_tax(taxes)

    def _get_fiscal_position(self):
        """The fiscal position of the consolidated invoice this entry goes on: the
        one of the billed partner's invoice address."""
        self.ensure_one()
        company = self.company_id or self.env.company
        partner = self.balance_id.partner_id or (
            self.partner_id and self.partner_id._balance_billed_partner(company)
        )
        if not partner:
            return self.env["account.fiscal.position"]
        invoice_partner = self.env["res.partner"].browse(
            partner.address_get(["invoice"])["invoice"]
        )
        return (
            self.env["account.fiscal.position"]
            .with_company(company)
            ._get_fiscal_position(invoice_partner)
        )

    @api.onchange("balance_id")
    def _onchange_balance_id(self):
        if self.balance_id:
            self.partner_id = self.balance_id.partner_id
            self.company_id = self.balance_id.company_id

    # === ACTION METHODS === #

    def action_add(self):
        self.ensure_one()
        if self.currency_id.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(_("Enter a positive amount; choose “Credit” to deduct it."))
        if self.quantity <= 0:
            raise UserError(_("The quantity must be positive."))
        # Without the defaults of the action that opened the wizard (such as the
        # balance it was opened from): the wizard's fields say where the entry goes.
        Line = self.env["customer.balance.line"].with_context(
            clean_context(self.env.context)
        )
        line = Line.create(self._prepare_line_values())
        line.balance_id.message_post(
            body=_(
                "%(type)s added by %(user)s: %(name)s (%(amount)s)",
                type=dict(self._fields["entry_type"].selection)[self.entry_type],
                user=self.env.user.name,
                name=line.name,
                amount=format_amount(self.env, line.price_subtotal, line.currency_id),
            ),
        )
        if self.env.context.get("default_balance_id") == line.balance_id.id:
            # Opened from that balance's form: back to it (it reloads), rather
            # than a second breadcrumb of the same balance.
            return {"type": "ir.actions.act_window_close"}
        return {
            "type": "ir.actions.act_window",
            "res_model": "customer.balance",
            "res_id": line.balance_id.id,
            "view_mode": "form",
        }

    def _prepare_line_values(self):
        self.ensure_one()
        sign = -1 if self.entry_type == "credit" else 1
        values = {
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "price_unit": sign * self.amount,
            "tax_ids": [Command.set(self.tax_ids.ids)],
            "service_date": self.service_date,
            "origin": "manual",
        }
        if self.balance_id:
            if self.balance_id.state != "open":
                raise UserError(_("Entries can only be added to an open balance."))
            values["balance_id"] = self.balance_id.id
        return values
