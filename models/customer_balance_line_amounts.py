# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL


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
    # What the item adds to its balance's pending sums, so that adding an item
    # costs the same on a balance of ten items as on one of thousands
    # (``customer_balance_totals.py``): the tax engine's amounts of the
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

    # === CRUD METHODS === #

    @api.model
    def _create(self, data_list):
        lines = super()._create(data_list)
        # Most items are inserted first and linked to their balance when the
        # assignment is written (``_write_multi``): nothing to add yet.
        if any(data["stored"].get("balance_id") for data in data_list):
            lines._add_to_balance_sums(1)
        return lines

    def _write_multi(self, vals_list):
        """Where every change of an item reaches the database (``write``, the
        computed amounts, a move, a state change): the rows changed take their
        old amounts out of their balances' sums and add their new ones."""
        sum_fields = set(self._get_balance_sum_fields())
        changed = self.browse(
            line.id
            for line, vals in zip(self, vals_list, strict=True)
            if not sum_fields.isdisjoint(vals)
        )
        changed._get_counted_in_balance_sums()._add_to_balance_sums(-1)
        res = super()._write_multi(vals_list)
        changed._add_to_balance_sums(1)
        return res

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
    def _get_balance_sum_fields(self):
        """The fields of an item its balance's pending sums are made of."""
        return [
            "balance_id",
            "state",
            "raw_price_subtotal",
            "price_subtotal",
            "has_price_excluded_tax",
            "raw_tax_amounts",
        ]

    def _get_counted_in_balance_sums(self):
        """Those of these items whose rows, as the database holds them, count in
        a balance's pending sums (pending, on a balance): a new item being
        linked to its balance has nothing to take out."""
        if not self:
            return self
        self.env.cr.execute(
            SQL(
                "SELECT id FROM customer_balance_line WHERE id = ANY(%s)"
                " AND state = 'pending' AND balance_id IS NOT NULL",
                self.ids,
            )
        )
        return self.browse(line_id for (line_id,) in self.env.cr.fetchall())

    def _add_to_balance_sums(self, sign):
        """Add (``sign`` 1) or take out (-1) what these items, as their rows
        are in the database, make of their balances' pending sums: a pending
        item counts once, its amounts before rounding exactly (``numeric``; a
        float as its shortest text), its taxes per tax key. One statement,
        whatever the balance already holds; the balance's row is locked by it as
        by any write of its totals."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """
                WITH items AS (
                    SELECT balance_id, has_price_excluded_tax, raw_tax_amounts,
                           COALESCE(raw_price_subtotal::text::numeric, 0) AS raw,
                           COALESCE(price_subtotal, 0) AS rounded
                      FROM customer_balance_line
                     WHERE id = ANY(%(ids)s)
                       AND state = 'pending'
                       AND balance_id IS NOT NULL
                ), sums AS (
                    SELECT balance_id, COUNT(*) AS item_count,
                           COUNT(*) FILTER (WHERE has_price_excluded_tax)
                               AS excluded_count,
                           SUM(raw) AS raw, SUM(rounded) AS rounded
                      FROM items
                     GROUP BY balance_id
                ), taxes AS (
                    SELECT balance_id, jsonb_object_agg(key, amount) AS amounts
                      FROM (
                          SELECT items.balance_id, tax.key,
                                 SUM(tax.value::numeric) AS amount
                            FROM items, jsonb_each_text(items.raw_tax_amounts) tax
                           GROUP BY items.balance_id, tax.key
                      ) per_tax
                     GROUP BY balance_id
                )
                UPDATE customer_balance balance
                   SET pending_item_count = COALESCE(balance.pending_item_count, 0)
                           + %(sign)s * sums.item_count,
                       pending_excluded_count =
                           COALESCE(balance.pending_excluded_count, 0)
                           + %(sign)s * sums.excluded_count,
                       pending_raw_untaxed = COALESCE(balance.pending_raw_untaxed, 0)
                           + %(sign)s * sums.raw,
                       pending_untaxed = COALESCE(balance.pending_untaxed, 0)
                           + %(sign)s * sums.rounded,
                       pending_raw_tax_amounts = (
                           SELECT COALESCE(
                               jsonb_object_agg(key, amount) FILTER (
                                   WHERE amount != 0
                               ),
                               '{}'
                           )
                             FROM (
                                 SELECT key, SUM(amount) AS amount
                                   FROM (
                                       SELECT key, value::numeric AS amount
                                         FROM jsonb_each_text(COALESCE(
                                             balance.pending_raw_tax_amounts, '{}'
                                         ))
                                       UNION ALL
                                       SELECT key, %(sign)s * value::numeric
                                         FROM jsonb_each_text(COALESCE(
                                             taxes.amounts, '{}'
                                         ))
                                   ) both_sums
                                  GROUP BY key
                             ) merged
                       )
                  FROM sums
                  LEFT JOIN taxes ON taxes.balance_id = sums.balance_id
                 WHERE balance.id = sums.balance_id
                """,
                ids=self.ids,
                sign=sign,
            )
        )

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
