# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import models
from odoo.tools import SQL


class CustomerBalance(models.Model):
    """The totals and the item count of a balance, summed in the database from
    what each item stores, so that adding an item to a balance of thousands costs
    what adding it to an empty one does: no item is read, and the tax engine runs
    on the new item only (``customer.balance.line._compute_raw_amounts``)."""

    _inherit = "customer.balance"

    # === BUSINESS METHODS === #

    def _get_pending_totals(self):
        """``{balance: (untaxed, tax, total)}`` of these balances' pending items,
        to the cent what the invoice of those items computes, under the company's
        rounding method. Records not saved yet (a form being edited) are computed
        over their items by the tax engine."""
        stored = self.filtered(lambda balance: isinstance(balance.id, int))
        totals = {}
        for balance in self - stored:
            summary = balance._get_tax_totals(balance._get_document_lines())
            totals[balance] = (
                summary["base_amount_currency"],
                summary["tax_amount_currency"],
                summary["total_amount_currency"],
            )
        if not stored:
            return totals
        Line = self.env["customer.balance.line"]
        domain = [("balance_id", "in", stored.ids), ("state", "=", "pending")]
        sums = {
            balance: (raw_untaxed, rounded_untaxed, price_excluded)
            for balance, raw_untaxed, rounded_untaxed, price_excluded in (
                Line._read_group(
                    domain,
                    ["balance_id"],
                    [
                        "raw_price_subtotal:sum",
                        "price_subtotal:sum",
                        "has_price_excluded_tax:bool_or",
                    ],
                )
            )
        }
        raw_taxes = defaultdict(dict)
        Line.flush_model(["balance_id", "state", "raw_tax_amounts"])
        self.env.cr.execute(
            SQL(
                """
                SELECT line.balance_id, tax.key, SUM(tax.value::float8)
                  FROM customer_balance_line line,
                       jsonb_each_text(line.raw_tax_amounts) tax
                 WHERE line.balance_id = ANY(%s)
                   AND line.state = 'pending'
                 GROUP BY line.balance_id, tax.key
                """,
                stored.ids,
            )
        )
        for balance_id, key, amount in self.env.cr.fetchall():
            raw_taxes[balance_id][key] = amount
        for balance in stored:
            raw_untaxed, rounded_untaxed, price_excluded = sums.get(
                balance, (0.0, 0.0, False)
            )
            totals[balance] = balance._round_pending_totals(
                raw_untaxed or 0.0,
                rounded_untaxed or 0.0,
                bool(price_excluded),
                raw_taxes[balance.id],
            )
        return totals

    def _round_pending_totals(
        self, raw_untaxed, rounded_untaxed, price_excluded, raw_taxes
    ):
        """``(untaxed, tax, total)`` of a document whose lines sum to these
        amounts before rounding, rounded as ``account.tax.
        _round_base_lines_tax_details`` and ``_get_tax_totals_summary`` round
        the invoice of the same lines:

        - each tax: the sum of its amounts, rounded once (``raw_taxes``: ``{tax
          key: sum}``; rounded per line, the amounts are rounded already, and so
          is their sum);
        - the untaxed amount: when a tax of some item is on top of the price
          (``price_excluded``), the sum of the untaxed amounts, rounded; else the
          total is what is rounded (the prices include the taxes), and the
          untaxed amount is the total less the taxes;
        - when that sum is exactly zero, the engine leaves the amounts rounded
          per item: ``rounded_untaxed``, the sum of the items' subtotals.
        """
        self.ensure_one()
        currency = self.currency_id
        tax = sum(currency.round(amount) for amount in raw_taxes.values())
        if price_excluded:
            untaxed = currency.round(raw_untaxed) if raw_untaxed else rounded_untaxed
            total = untaxed + tax
        else:
            raw_total = raw_untaxed + sum(raw_taxes.values())
            if raw_total:
                total = currency.round(raw_total)
                untaxed = total - tax
            else:
                untaxed = rounded_untaxed
                total = untaxed + tax
        return currency.round(untaxed), currency.round(tax), currency.round(total)

    def _get_document_line_counts(self):
        """``{balance: count}`` of the items these balances' documents list
        (``_get_document_lines``), counted in the database."""
        stored = self.filtered(lambda balance: isinstance(balance.id, int))
        counts = {
            balance: len(balance._get_document_lines()) for balance in self - stored
        }
        if not stored:
            return counts
        # An open balance lists its pending items (counted from the index of
        # the pending items alone), an invoiced one the items of its invoice.
        invoiced = stored.filtered(lambda balance: balance.state == "invoiced")
        Line = self.env["customer.balance.line"]
        for balance in stored:
            counts[balance] = 0
        if stored - invoiced:
            for balance, count in Line._read_group(
                [
                    ("balance_id", "in", (stored - invoiced).ids),
                    ("state", "=", "pending"),
                ],
                ["balance_id"],
                ["__count"],
            ):
                counts[balance] = count
        if invoiced:
            for balance, invoice, count in Line._read_group(
                [("balance_id", "in", invoiced.ids), ("state", "=", "invoiced")],
                ["balance_id", "invoice_id"],
                ["__count"],
            ):
                if invoice == balance.invoice_id:
                    counts[balance] += count
        return counts
