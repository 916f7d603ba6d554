# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict

from psycopg2 import errors

from odoo import _, api, fields, models
from odoo.tools import format_amount, format_datetime

_logger = logging.getLogger(__name__)


class CustomerBalanceRun(models.Model):
    """One bill run: when it ran, how long, and what became of each balance it took.

    The cron and the queued jobs that share a run only ever *insert* its outcomes
    (``customer.balance.run.line``): the run's own row is written when it starts and
    when it ends, so that several workers billing at once never wait on it or fail
    on a concurrent update of it. Its counts, invoices and totals are read from the
    outcomes.
    """

    _name = "customer.balance.run"
    _description = "Bill Run"
    _order = "date_start desc, id desc"

    date_start = fields.Datetime(
        string="Started",
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        index=True,
    )
    date_end = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(
        string="Duration (s)",
        compute="_compute_duration",
        digits=(16, 1),
        help="Seconds from the start of the run to its end (until now while it runs).",
    )
    state = fields.Selection(
        selection=[
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        required=True,
        default="running",
        readonly=True,
        index=True,
        help="Running: not finished yet, or its worker died (the next run resumes "
        "it). Failed: finished, but some balances could not be billed.",
    )
    trigger = fields.Selection(
        selection=[
            ("cron", "Scheduled Action"),
            ("queue", "Job Queue"),
            ("manual", "Manual"),
        ],
        required=True,
        default="cron",
        readonly=True,
    )
    line_ids = fields.One2many(
        comodel_name="customer.balance.run.line",
        inverse_name="run_id",
        string="Outcomes",
        readonly=True,
    )
    billed_count = fields.Integer(
        string="Billed",
        compute="_compute_counts",
        help="Balances turned into a consolidated invoice or credit note.",
    )
    closed_count = fields.Integer(
        string="Nothing to Bill",
        compute="_compute_counts",
        help="Balances whose items netted to zero: closed without an invoice.",
    )
    carried_count = fields.Integer(
        string="Carried Over",
        compute="_compute_counts",
        help="Balances below the minimum invoice amount, carried into the next period.",
    )
    failed_count = fields.Integer(
        string="Failed",
        compute="_compute_counts",
        help="Balances that could not be billed: the reason is on each of them.",
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Invoices",
        compute="_compute_invoice_ids",
    )
    invoice_count = fields.Integer(string="Invoices Count", compute="_compute_counts")
    failed_balance_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="Failed Balances",
        compute="_compute_failed_balance_ids",
    )
    invoice_totals = fields.Char(
        string="Invoiced",
        compute="_compute_invoice_totals",
        help="Total of the consolidated invoices (credit notes negative), per "
        "currency.",
    )

    # === COMPUTE METHODS === #

    @api.depends("date_start")
    def _compute_display_name(self):
        for run in self:
            run.display_name = _(
                "Bill run of %s", format_datetime(self.env, run.date_start)
            )

    @api.depends("date_start", "date_end")
    def _compute_duration(self):
        now = fields.Datetime.now()
        for run in self:
            end = run.date_end or now
            run.duration = (
                (end - run.date_start).total_seconds() if run.date_start else 0.0
            )

    @api.depends("line_ids.outcome")
    def _compute_counts(self):
        counts = defaultdict(int)
        for run, outcome, count in self.env["customer.balance.run.line"]._read_group(
            [("run_id", "in", self.ids)], ["run_id", "outcome"], ["__count"]
        ):
            counts[run, outcome] = count
        for run in self:
            run.billed_count = counts[run._origin, "billed"]
            run.closed_count = counts[run._origin, "closed"]
            run.carried_count = counts[run._origin, "carried"]
            run.failed_count = counts[run._origin, "failed"]
            run.invoice_count = run.billed_count

    @api.depends("line_ids.invoice_id")
    def _compute_invoice_ids(self):
        for run in self:
            run.invoice_ids = run.line_ids.invoice_id

    @api.depends("line_ids.outcome")
    def _compute_failed_balance_ids(self):
        for run in self:
            run.failed_balance_ids = run.line_ids.filtered(
                lambda line: line.outcome == "failed"
            ).balance_id

    @api.depends("line_ids.invoice_id")
    def _compute_invoice_totals(self):
        for run in self:
            run.invoice_totals = " · ".join(
                format_amount(self.env, amount, currency)
                for currency, amount in run._get_invoice_totals().items()
            )

    # === ACTION METHODS === #

    def action_view_invoices(self):
        self.ensure_one()
        return self.invoice_ids._get_records_action(name=_("Consolidated Invoices"))

    def action_view_failed_balances(self):
        self.ensure_one()
        return self.failed_balance_ids._get_records_action(name=_("Failed Balances"))

    # === BUSINESS METHODS === #

    @api.model
    def _get_or_start(self, trigger="cron"):
        """The run that bills now: the one of ``trigger`` still running (the cron's
        next batch, or a run whose worker died, which this one resumes), else a new
        one."""
        Run = self.sudo()
        run = Run.search(
            [("state", "=", "running"), ("trigger", "=", trigger)],
            order="date_start desc, id desc",
            limit=1,
        )
        return run or Run.create({"trigger": trigger})

    @api.model
    def _is_last_run_failed(self):
        """Whether the last bill run needs someone's attention: it could not bill
        some balances, or it has been running for more than a day (its worker
        died and no run resumed it since)."""
        last = self.sudo().search([], limit=1)
        if not last:
            return False
        stuck_since = fields.Datetime.subtract(fields.Datetime.now(), days=1)
        return last.state == "failed" or (
            last.state == "running" and last.date_start < stuck_since
        )

    def _get_invoice_totals(self):
        """Total of the run's invoices per currency (credit notes negative)."""
        self.ensure_one()
        totals = defaultdict(float)
        for invoice in self.invoice_ids:
            totals[invoice.currency_id] += invoice.amount_total_in_currency_signed
        return dict(totals)

    def _record(self, balance, outcome, error=False):
        """Write down what the run did with ``balance``: ``billed`` (its invoice),
        ``closed`` (nothing to bill), ``carried`` (into the balance it was carried
        to) or ``failed`` (with ``error``)."""
        self.ensure_one()
        carried_to = self.env["customer.balance"]
        if outcome == "carried":
            carried_to = carried_to.search([("carried_from_id", "=", balance.id)])[:1]
        return (
            self.env["customer.balance.run.line"]
            .sudo()
            .create(
                {
                    "run_id": self.id,
                    "balance_id": balance.id,
                    "company_id": balance.company_id.id,
                    "outcome": outcome,
                    "invoice_id": balance.invoice_id.id
                    if outcome == "billed"
                    else False,
                    "carried_to_id": carried_to.id,
                    "error": error,
                }
            )
        )

    def _finish(self):
        """End the run: *failed* when some balances could not be billed, else
        *done*. Another worker sharing the run may end it at the same moment: the
        first one does, the other leaves it."""
        run = self.sudo()
        try:
            with self.env.cr.savepoint():
                run = run.try_lock_for_update()
                run.invalidate_recordset(["state"])
                run = run.filtered(lambda run: run.state == "running")
                if not run:
                    return
                # Workers sharing the run recorded outcomes in their own
                # transactions: read them from the database.
                failed = self.env["customer.balance.run.line"].search_count(
                    [("run_id", "=", run.id), ("outcome", "=", "failed")], limit=1
                )
                run.write(
                    {
                        "state": "failed" if failed else "done",
                        "date_end": fields.Datetime.now(),
                    }
                )
        except errors.SerializationFailure:
            self.env.invalidate_all()
            _logger.info("Bill run %s was ended by another worker", self.ids)
