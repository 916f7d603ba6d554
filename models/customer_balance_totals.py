# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL, sql


class CustomerBalance(models.Model):
    """The totals and the item count of a balance, kept up to date item by item
    in the database, so that adding an item to a balance of thousands costs what
    adding it to an empty one does: no other item is read, and the tax engine runs
    on the new item only (``customer.balance.line._compute_raw_amounts``).

    Each open balance holds the sums of its pending items' amounts before
    rounding (the ``pending_*`` columns below, exact ``numeric``), which the
    items add themselves to and take themselves out of whenever the database
    row of one changes (``customer.balance.line._add_to_balance_sums``): the
    totals round those sums once, as the invoice of the same items does. The
    columns are the database's, not fields: nobody writes them but the items,
    and no form, export or RPC shows them."""

    _inherit = "customer.balance"

    def _auto_init(self):
        res = super()._auto_init()
        cr = self.env.cr
        if not sql.column_exists(cr, self._table, "pending_item_count"):
            cr.execute(
                SQL(
                    """
                    ALTER TABLE customer_balance
                      ADD COLUMN pending_item_count integer DEFAULT 0,
                      ADD COLUMN pending_excluded_count integer DEFAULT 0,
                      ADD COLUMN pending_raw_untaxed numeric DEFAULT 0,
                      ADD COLUMN pending_untaxed numeric DEFAULT 0,
                      ADD COLUMN pending_raw_tax_amounts jsonb DEFAULT '{}'
                    """
                )
            )
            # An upgrade: the pending items already there are counted once, and
            # the index the totals were summed from before goes.
            cr.execute(
                SQL(
                    "DROP INDEX IF EXISTS"
                    " customer_balance_line_pending_amounts_by_balance"
                )
            )
            if sql.column_exists(cr, "customer_balance_line", "raw_tax_amounts"):
                cr.execute(
                    SQL(
                        "SELECT id FROM customer_balance_line"
                        " WHERE state = 'pending' AND balance_id IS NOT NULL"
                    )
                )
                self.env["customer.balance.line"].browse(
                    line_id for (line_id,) in cr.fetchall()
                )._add_to_balance_sums(1)
        return res

    # === BUSINESS METHODS === #

    def _recount_pending_sums(self):
        """Set these balances' pending sums from their pending items, all read
        again: what the items' own additions must keep them at (the tests
        compare the two; from a shell, it repairs sums changed behind the ORM's
        back by SQL)."""
        if not self:
            return
        self.env["customer.balance.line"].flush_model(
            self.env["customer.balance.line"]._get_balance_sum_fields()
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_balance
                   SET pending_item_count = 0,
                       pending_excluded_count = 0,
                       pending_raw_untaxed = 0,
                       pending_untaxed = 0,
                       pending_raw_tax_amounts = '{}'
                 WHERE id = ANY(%s)
                """,
                self.ids,
            )
        )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM customer_balance_line"
                " WHERE balance_id = ANY(%s) AND state = 'pending'",
                self.ids,
            )
        )
        line_ids = [line_id for (line_id,) in self.env.cr.fetchall()]
        self.env["customer.balance.line"].browse(line_ids)._add_to_balance_sums(1)

    def _read_pending_sums(self):
        """``{balance id: (count, price excluded count, raw untaxed, untaxed,
        {tax key: raw amount})}`` of these stored balances, as the database
        holds them once the items' changes are written."""
        if not self:
            return {}
        Line = self.env["customer.balance.line"]
        Line.flush_model(Line._get_balance_sum_fields())
        self.env.cr.execute(
            SQL(
                """
                SELECT id, COALESCE(pending_item_count, 0),
                       COALESCE(pending_excluded_count, 0),
                       COALESCE(pending_raw_untaxed, 0),
                       COALESCE(pending_untaxed, 0),
                       COALESCE(pending_raw_tax_amounts, '{}')
                  FROM customer_balance
                 WHERE id = ANY(%s)
                """,
                self.ids,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _get_pending_totals(self, sums=None):
        """``{balance: (untaxed, tax, total)}`` of these balances' pending items,
        to the cent what the invoice of those items computes, under the company's
        rounding method: the pending sums (``sums``, read when not given),
        rounded. Records not saved yet (a form being edited) are computed over
        their items by the tax engine."""
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
        if sums is None:
            sums = stored._read_pending_sums()
        for balance in stored:
            __, excluded, raw_untaxed, untaxed, raw_taxes = sums.get(
                balance.id, (0, 0, 0, 0, {})
            )
            totals[balance] = balance._round_pending_totals(
                float(raw_untaxed),
                float(untaxed),
                bool(excluded),
                {key: float(amount) for key, amount in raw_taxes.items()},
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

    def _get_document_line_counts(self, sums=None):
        """``{balance: count}`` of the items these balances' documents list
        (``_get_document_lines``), counted in the database: an open balance's
        from its pending sums (``sums``, read when not given)."""
        stored = self.filtered(lambda balance: isinstance(balance.id, int))
        counts = {
            balance: len(balance._get_document_lines()) for balance in self - stored
        }
        if not stored:
            return counts
        # An open balance lists its pending items (their count is kept with
        # its sums), an invoiced one the items of its invoice.
        invoiced = stored.filtered(lambda balance: balance.state == "invoiced")
        Line = self.env["customer.balance.line"]
        for balance in stored:
            counts[balance] = 0
        if sums is None:
            sums = (stored - invoiced)._read_pending_sums()
        for balance in stored - invoiced:
            counts[balance] = sums[balance.id][0] if balance.id in sums else 0
        if invoiced:
            for balance, invoice, count in Line._read_group(
                [("balance_id", "in", invoiced.ids), ("state", "=", "invoiced")],
                ["balance_id", "invoice_id"],
                ["__count"],
            ):
                if invoice == balance.invoice_id:
                    counts[balance] += count
        return counts
