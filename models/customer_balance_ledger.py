# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .customer_balance import filtered_empty_list_help


class CustomerBalanceLedger(models.Model):
    """The ledger of a billed partner (seed 001): its charges and credits, and the
    moments they were billed, with the running balance.

    Rows, per billed partner (the partner of the balances), company and currency:

    - a **charge** or **credit** per item that is pending or invoiced (cancelled
      items never counted), dated on its service date, for its total with taxes
      (a credit is negative);
    - an **adjusted on the invoice** row per invoice line that bills another
      amount than its item charged (the accountant changed the draft: a price, a
      quantity, a line added), dated on the invoice date, for the difference: a
      change made on the invoice shows as what it is, never as rounding;
    - a **tax rounding** row where taxes rounded on the whole set (*round
      globally*) make the total of an open balance, or of an invoice, differ from
      the sum of its items' (for an invoice: its lines') own totals: the ledger
      then sums to the balance's and the invoice's totals to the cent;
    - a **billed** row per invoice the items were billed on (the consolidated
      invoice, or the invoice of items invoiced at once), dated on the invoice date,
      for minus the invoice's total: the charges leave the ledger for the
      invoice, where Odoo's receivable (the partner's *amount due*) takes over.

    The **running balance** of a row is the sum of the amounts of the rows up to it
    in date order (on one day, each billing after the items it billed, and the
    items still pending last): the amount
    charged and not billed yet at that point. After the last row it equals the
    partner's unbilled total, i.e. the sum of its pending items.
    """

    _name = "customer.balance.ledger"
    _description = "Customer Balance Ledger"
    _auto = False
    _order = "date desc, sequence desc, id desc"
    _rec_name = "name"
    # Written values of these fields are flushed before the view is read.
    _depends = {
        "customer.balance.line": [
            "balance_id",
            "partner_id",
            "company_id",
            "currency_id",
            "service_date",
            "name",
            "state",
            "price_total",
            "sale_line_id",
            "invoice_line_id",
            "invoice_id",
        ],
        "customer.balance": [
            "partner_id",
            "company_id",
            "currency_id",
            "state",
            "amount_total",
        ],
        "sale.order.line": ["order_id"],
        "account.move.line": ["move_id", "display_type", "name", "price_total"],
        "account.move": [
            "name",
            "invoice_date",
            "date",
            "company_id",
            "move_type",
            "amount_total",
        ],
    }

    date = fields.Date(readonly=True)
    sequence = fields.Integer(
        readonly=True,
        help="The order of the rows of one day: each billing after the items it "
        "billed, items still pending last.",
    )
    kind = fields.Selection(
        selection=[
            ("charge", "Charge"),
            ("credit", "Credit"),
            ("adjustment", "Adjusted on the Invoice"),
            ("rounding", "Tax Rounding"),
            ("billed", "Billed"),
        ],
        readonly=True,
    )
    name = fields.Char(string="Description", readonly=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        readonly=True,
        help="The partner the balance is billed to.",
    )
    contact_id = fields.Many2one(
        comodel_name="res.partner",
        readonly=True,
        help="The contact who incurred the charge or credit.",
    )
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    balance_id = fields.Many2one(comodel_name="customer.balance", readonly=True)
    line_id = fields.Many2one(
        comodel_name="customer.balance.line", string="Item", readonly=True
    )
    sale_order_id = fields.Many2one(
        comodel_name="sale.order", string="Booking", readonly=True
    )
    invoice_id = fields.Many2one(comodel_name="account.move", readonly=True)
    state = fields.Selection(
        selection=[("pending", "Pending"), ("invoiced", "Invoiced")],
        readonly=True,
        help="Whether the charge or credit is still waiting on a balance.",
    )
    amount = fields.Monetary(readonly=True)
    running_balance = fields.Monetary(
        readonly=True,
        # A sum of running balances means nothing.
        aggregator=None,
        help="Charged and not billed yet, up to this row.",
    )

    def _query(self):
        """The ledger rows. Ids share one space: items ``5n``, billings ``5n+1``,
        rounding of an invoice ``5n+2``, rounding of an open balance ``5n+3``,
        adjustments ``5n+4`` (``n`` the invoice line's id).

        An invoice line that bills another amount than its item charged (or no
        item at all) was changed on the invoice, most often by the accountant on
        the draft: an **adjustment** row carries the difference, so that the
        charges, their adjustments and the rounding sum to what the invoice
        bills. Under *round globally* the taxes of a set of items are rounded on
        the set, so a balance's (and its invoice's) total may differ by a cent or
        so from the sum of its items' (its lines') own totals: a **rounding** row
        carries that difference only, dated with the set, so that the rows of an
        open balance sum to its total and a billing row (minus the invoice's
        total) brings the running balance back to what is still unbilled."""
        return SQL(
            """
            WITH invoiced AS (
                SELECT line.invoice_id AS move_id,
                       MIN(COALESCE(balance.partner_id, line.partner_id))
                           AS partner_id,
                       MIN(line.currency_id) AS currency_id,
                       MIN(line.balance_id) AS balance_id
                  FROM customer_balance_line line
             -- Items invoiced on their own may have left their balance.
             LEFT JOIN customer_balance balance ON balance.id = line.balance_id
                 WHERE line.state = 'invoiced'
              GROUP BY line.invoice_id
            ),
            invoice_lines AS (
                SELECT move_line.id AS move_line_id,
                       move_line.move_id AS move_id,
                       COALESCE(move_line.name, item.name) AS name,
                       item.id AS item_id,
                       item.partner_id AS contact_id,
                       item.sale_line_id AS sale_line_id,
                       CASE WHEN move.move_type = 'out_refund'
                            THEN -move_line.price_total ELSE move_line.price_total
                       END AS line_total,
                       COALESCE(item.price_total, 0.0) AS item_total
                  FROM account_move_line move_line
                  JOIN account_move move ON move.id = move_line.move_id
             LEFT JOIN customer_balance_line item
                       ON item.invoice_line_id = move_line.id
                      AND item.state = 'invoiced'
                 WHERE move_line.move_id IN (SELECT move_id FROM invoiced)
                   AND move_line.display_type = 'product'
            ),
            lines_total AS (
                SELECT move_id, SUM(line_total) AS lines_total
                  FROM invoice_lines
              GROUP BY move_id
            ),
            billed AS (
                SELECT invoiced.*,
                       move.name AS move_name,
                       move.company_id AS company_id,
                       COALESCE(move.invoice_date, move.date) AS date,
                       CASE WHEN move.move_type = 'out_refund'
                            THEN -move.amount_total ELSE move.amount_total END
                           AS move_total,
                       COALESCE(lines_total.lines_total, 0.0) AS lines_total
                  FROM invoiced
                  JOIN account_move move ON move.id = invoiced.move_id
             LEFT JOIN lines_total ON lines_total.move_id = invoiced.move_id
            ),
            pending AS (
                SELECT line.balance_id AS balance_id,
                       MAX(line.service_date) AS date,
                       SUM(line.price_total) AS items_total
                  FROM customer_balance_line line
                 WHERE line.state = 'pending'
              GROUP BY line.balance_id
            ),
            rows AS (
                SELECT line.id * 5 AS id,
                       line.service_date AS date,
                       COALESCE(line.invoice_id * 3, %(pending)s) AS sequence,
                       CASE WHEN line.price_total < 0 THEN 'credit' ELSE 'charge' END
                           AS kind,
                       line.name AS name,
                       COALESCE(balance.partner_id, line.partner_id) AS partner_id,
                       line.partner_id AS contact_id,
                       line.company_id AS company_id,
                       line.currency_id AS currency_id,
                       line.balance_id AS balance_id,
                       line.id AS line_id,
                       sale_line.order_id AS sale_order_id,
                       line.invoice_id AS invoice_id,
                       line.state AS state,
                       line.price_total AS amount
                  FROM customer_balance_line line
             LEFT JOIN customer_balance balance ON balance.id = line.balance_id
             LEFT JOIN sale_order_line sale_line ON sale_line.id = line.sale_line_id
                 WHERE line.state IN ('pending', 'invoiced')
                UNION ALL
                SELECT invoice_lines.move_line_id * 5 + 4, billed.date,
                       billed.move_id * 3 + 1,
                       'adjustment',
                       invoice_lines.name, billed.partner_id,
                       invoice_lines.contact_id, billed.company_id,
                       billed.currency_id, billed.balance_id, invoice_lines.item_id,
                       sale_line.order_id, billed.move_id, 'invoiced',
                       invoice_lines.line_total - invoice_lines.item_total
                  FROM invoice_lines
                  JOIN billed ON billed.move_id = invoice_lines.move_id
             LEFT JOIN sale_order_line sale_line
                       ON sale_line.id = invoice_lines.sale_line_id
                 WHERE invoice_lines.line_total != invoice_lines.item_total
                UNION ALL
                SELECT billed.move_id * 5 + 2, billed.date, billed.move_id * 3 + 1,
                       'rounding',
                       billed.move_name, billed.partner_id, NULL, billed.company_id,
                       billed.currency_id, billed.balance_id, NULL, NULL,
                       billed.move_id, 'invoiced',
                       billed.move_total - billed.lines_total
                  FROM billed
                 WHERE billed.move_total != billed.lines_total
                UNION ALL
                SELECT billed.move_id * 5 + 1, billed.date, billed.move_id * 3 + 2,
                       'billed',
                       billed.move_name, billed.partner_id, NULL, billed.company_id,
                       billed.currency_id, billed.balance_id, NULL, NULL,
                       billed.move_id, NULL, -billed.move_total
                  FROM billed
                UNION ALL
                SELECT balance.id * 5 + 3, pending.date, %(pending)s + 1,
                       'rounding',
                       balance.name, balance.partner_id, NULL, balance.company_id,
                       balance.currency_id, balance.id, NULL, NULL, NULL, 'pending',
                       balance.amount_total - pending.items_total
                  FROM pending
                  JOIN customer_balance balance ON balance.id = pending.balance_id
                 WHERE balance.state = 'open'
                   AND balance.amount_total != pending.items_total
            )
            SELECT rows.*,
                   SUM(rows.amount) OVER (
                       PARTITION BY rows.partner_id, rows.company_id, rows.currency_id
                       ORDER BY rows.date, rows.sequence, rows.id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS running_balance
              FROM rows
            """,
            # After every billing of the day (3 * the invoice's id + 0..2).
            pending=2**52,
        )

    @api.model
    def get_empty_list_help(self, help_message):
        """Say "No charge or credit yet" only when there is none: once rows
        exist, an empty list means the search filters left none."""
        return super().get_empty_list_help(
            filtered_empty_list_help(
                self, help_message, self.env._("No ledger row matches this search")
            )
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
