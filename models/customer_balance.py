# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain


class CustomerBalance(models.Model):
    """An open account of pending items for one billed partner, company, currency and
    billing period; billed as one consolidated invoice once the period is over."""

    _name = "customer.balance"
    _description = "Customer Balance"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

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
        tracking=True,
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    item_count = fields.Integer(string="Items Count", compute="_compute_item_count")
    carried_from_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Carried Over From",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A balance below the minimum amount that was carried into this one.",
    )

    _one_open_balance_per_period = models.UniqueIndex(
        "(partner_id, company_id, currency_id,"
        " COALESCE(period_start, '0001-01-01'::date))"
        " WHERE state = 'open'",
        "A customer can only have one open balance per company, currency and period.",
    )
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
        "line_ids.state",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.discount",
        "line_ids.tax_ids",
        "line_ids.currency_id",
        "currency_id",
    )
    def _compute_amounts(self):
        """Totals of the pending items, computed over the whole set at once by the tax
        engine, as the consolidated invoice will compute them (so that rounding
        globally gives the same cents as the invoice)."""
        AccountTax = self.env["account.tax"]
        for balance in self:
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            base_lines = [
                line._prepare_base_line_for_taxes_computation() for line in lines
            ]
            AccountTax._add_tax_details_in_base_lines(base_lines, balance.company_id)
            AccountTax._round_base_lines_tax_details(base_lines, balance.company_id)
            totals = AccountTax._get_tax_totals_summary(
                base_lines=base_lines,
                currency=balance.currency_id,
                company=balance.company_id,
            )
            balance.amount_untaxed = totals["base_amount_currency"]
            balance.amount_tax = totals["tax_amount_currency"]
            balance.amount_total = totals["total_amount_currency"]

    @api.depends("line_ids.state")
    def _compute_item_count(self):
        counts = dict(
            self.env["customer.balance.line"]._read_group(
                [("balance_id", "in", self.ids), ("state", "=", "pending")],
                ["balance_id"],
                ["__count"],
            )
        )
        for balance in self:
            balance.item_count = counts.get(balance._origin, 0)

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
        return super().create(vals_list)

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

    def _get_portal_return_action(self):
        return self.env.ref("customer_balance.action_customer_balance")
