# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL


class CustomerBalanceLedger(models.Model):
    """The ledger of a billed partner (seed 001): its charges and credits, and the
    moments they were billed, with the running balance.

    Rows, per billed partner (the partner of the balances), company and currency:

    - a **charge** or **credit** per item that is pending or invoiced (cancelled
      items never counted), dated on its service date, for its total with taxes
      (a credit is negative);
    - a **billed** row per invoice the items were billed on (the consolidated
      invoice, or the invoice of items invoiced at once), dated on the invoice date,
      for minus the total of its items: the charges leave the ledger for the
      invoice, where Odoo's receivable (the partner's *amount due*) takes over.

    The **running balance** of a row is the sum of the amounts of the rows up to it
    in date order (on one day charges and credits come before billings): the amount
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
        "customer.balance": ["partner_id"],
        "sale.order.line": ["order_id"],
        "account.move": ["name", "invoice_date", "date", "company_id"],
    }

    date = fields.Date(readonly=True)
    sequence = fields.Integer(readonly=True)
    kind = fields.Selection(
        selection=[("charge", "Charge"), ("credit", "Credit"), ("billed", "Billed")],
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
        help="Charged and not billed yet, up to this row.",
    )

    def _query(self):
        """The ledger rows: ids are even for items and odd for billings, so that
        both kinds share one id space."""
        return SQL(
            """
            WITH rows AS (
                SELECT line.id * 2 AS id,
                       line.service_date AS date,
                       0 AS sequence,
                       CASE WHEN line.price_total < 0 THEN 'credit' ELSE 'charge' END
                           AS kind,
                       line.name AS name,
                       balance.partner_id AS partner_id,
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
                  JOIN customer_balance balance ON balance.id = line.balance_id
             LEFT JOIN sale_order_line sale_line ON sale_line.id = line.sale_line_id
                 WHERE line.state IN ('pending', 'invoiced')
                UNION ALL
                SELECT move.id * 2 + 1,
                       COALESCE(move.invoice_date, move.date),
                       1,
                       'billed',
                       move.name,
                       MIN(balance.partner_id),
                       NULL,
                       move.company_id,
                       MIN(line.currency_id),
                       MIN(line.balance_id),
                       NULL,
                       NULL,
                       move.id,
                       NULL,
                       -SUM(line.price_total)
                  FROM customer_balance_line line
                  JOIN customer_balance balance ON balance.id = line.balance_id
                  JOIN account_move move ON move.id = line.invoice_id
                 WHERE line.state = 'invoiced'
              GROUP BY move.id
            )
            SELECT rows.*,
                   SUM(rows.amount) OVER (
                       PARTITION BY rows.partner_id, rows.company_id, rows.currency_id
                       ORDER BY rows.date, rows.sequence, rows.id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS running_balance
              FROM rows
            """
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
