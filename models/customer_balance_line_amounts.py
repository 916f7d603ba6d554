# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, fields, models


class CustomerBalanceLine(models.Model):
    """An item's amounts: its own subtotal and total, and what the balance's
    totals are summed from in the database (``customer_balance_totals.py``)."""

    _inherit = "customer.balance.line"

    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_amounts", store=True
    )
    price_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    # What the balance's totals are summed from in the database, so that adding an
    # item costs the same on a balance of ten items as on one of thousands
    # (``customer.balance._compute_amounts``): the tax engine's amounts of the
    # item under the company's rounding method, before any rounding when taxes
    # are rounded globally. The tax amounts are per tax (its id, with "-rc" for
    # a reverse charge part); with a tax on top of the price, the balance rounds
    # its untaxed amount, else its total, as the invoice does.
    raw_price_subtotal = fields.Float(
        string="Untaxed Amount before Rounding",
        compute="_compute_raw_amounts",
        store=True,
    )
    raw_tax_amounts = fields.Json(
        string="Tax Amounts before Rounding",
        compute="_compute_raw_amounts",
        store=True,
    )
    has_price_excluded_tax = fields.Boolean(
        string="Tax on Top of the Price",
        compute="_compute_raw_amounts",
        store=True,
    )

    # The balance's totals and item count read a balance's pending items from
    # this index alone (an index-only scan of a vacuumed table): a month of
    # bookings spreads one balance's items over as many pages of the table as it
    # has items, but they sit together here, a few pages for thousands. With the
    # company, which the multi-company record rule filters on.
    _pending_amounts_by_balance = models.Index(
        "(balance_id) INCLUDE (company_id, raw_price_subtotal, price_subtotal, "
        "has_price_excluded_tax, raw_tax_amounts) WHERE state = 'pending'"
    )

    # === COMPUTE METHODS === #

    @api.depends("quantity", "price_unit", "discount", "tax_ids", "currency_id")
    def _compute_amounts(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            base_line = line._prepare_base_line_for_taxes_computation()
            AccountTax._add_tax_details_in_base_line(base_line, line.company_id)
            AccountTax._round_base_lines_tax_details([base_line], line.company_id)
            line.price_subtotal = base_line["tax_details"]["total_excluded_currency"]
            line.price_total = base_line["tax_details"]["total_included_currency"]

    @api.depends(
        "quantity",
        "price_unit",
        "discount",
        "tax_ids",
        "currency_id",
        "product_id",
        "product_uom_id",
        "company_id.tax_calculation_rounding_method",
    )
    def _compute_raw_amounts(self):
        """The item's amounts as the tax engine computes them before the rounding
        of the document (``account.tax._round_base_lines_tax_details``): what the
        balance sums per tax and rounds once, as the invoice of its items does."""
        AccountTax = self.env["account.tax"]
        for line in self:
            base_line = line._prepare_base_line_for_taxes_computation()
            AccountTax._add_tax_details_in_base_line(base_line, line.company_id)
            details = base_line["tax_details"]
            taxes = defaultdict(float)
            for tax_data in details["taxes_data"]:
                taxes[line._get_raw_tax_key(tax_data)] += tax_data[
                    "raw_tax_amount_currency"
                ]
            line.raw_price_subtotal = details["raw_total_excluded_currency"]
            line.raw_tax_amounts = dict(taxes) or False
            line.has_price_excluded_tax = any(
                not tax_data["price_include"] for tax_data in details["taxes_data"]
            )

    # === BUSINESS METHODS === #

    @api.model
    def _get_raw_tax_key(self, tax_data):
        """The key of ``tax_data`` (a tax of the engine's tax details) in
        ``raw_tax_amounts``: the invoice rounds the sum of each tax, its reverse
        charge part apart (``account.tax._round_tax_details_tax_amounts``)."""
        key = str(tax_data["tax"].id)
        return f"{key}-rc" if tax_data["is_reverse_charge"] else key

    def _prepare_base_line_for_taxes_computation(self, **kwargs):
        """The item as a base line of Odoo's tax engine."""
        self.ensure_one()
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            partner_id=self.balance_id.partner_id or self.partner_id,
            **kwargs,
        )
