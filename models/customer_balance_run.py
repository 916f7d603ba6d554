# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The bill run: every due balance becomes its consolidated invoice.

Read ``_cron_bill_run`` top-down: collect the charges due today, collect the due
balances, and bill them in batches of ``INVOICE_BATCH_SIZE``: lock the batch, bill
it in one transaction with its invoices created by one ``account.move.create``
call (``_bill_locked_balances``, the unit that the job queue bridge dispatches
too), and when that fails, bill its balances one by one under their own
savepoints (``_bill_locked_balance``) so that only the failing one is left out
with its error; record the outcomes from the ``BillResult`` billing returned.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

from psycopg2 import errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Domain
from odoo.tools import format_amount, format_datetime

_logger = logging.getLogger(__name__)

# Balances whose invoices are built together (one ``account.move.create``) and
# committed together; the system parameter overrides it.
INVOICE_BATCH_SIZE = 10
INVOICE_BATCH_SIZE_PARAM = "customer_balance.bill_run_invoice_batch_size"


@dataclass(frozen=True)
class BillResult:
    """What billing one balance did, as the run records it.

    ``outcome``: ``billed`` (``invoice`` is its consolidated invoice or credit
    note), ``closed`` (its items netted to zero), ``carried`` (its items went into
    ``carried_to``) or ``failed`` (``error`` says why; nothing was billed).
    """

    outcome: str
    invoice: models.BaseModel | None = None
    carried_to: models.BaseModel | None = None
    error: str = ""


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
        "it). Failed: finished, but some balances could not be billed or still "
        "wait for a retry.",
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
    failed_balance_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="Failed Balances",
        compute="_compute_failed_balance_ids",
    )
    waiting_balance_ids = fields.Many2many(
        comodel_name="customer.balance",
        relation="customer_balance_run_waiting_rel",
        column1="run_id",
        column2="balance_id",
        string="Waiting for Retry",
        readonly=True,
        help="Due balances this run left out because an earlier bill run could not "
        "bill them: they wait until someone retries their billing.",
    )
    waiting_count = fields.Integer(
        string="Waiting",
        compute="_compute_waiting_count",
        help="Due balances left waiting for a retry when the run ended.",
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

    @api.depends("waiting_balance_ids")
    def _compute_waiting_count(self):
        for run in self:
            run.waiting_count = len(run.waiting_balance_ids)

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

    def action_view_waiting_balances(self):
        self.ensure_one()
        return self.waiting_balance_ids._get_records_action(
            name=_("Balances Waiting for a Retry")
        )

    @api.model
    def action_run_now(self):
        """Run the bill run now, as the current billing user, on the balances due
        in the companies she works in; returns the form of its run record.

        The balances are billed in this request, each under its own savepoint, as
        the scheduled run bills them (a failing one keeps its error and the others
        go on); the run's steps that collect charges and send notices run too."""
        if not self.env.user.has_group("customer_balance.group_customer_balance_user"):
            raise UserError(_("Only users of Customer Balances can run the bill run."))
        self.env["customer.balance"].check_access("write")
        # A run of its own: never shared with another user's or the scheduler's.
        run = self.sudo().create({"trigger": "manual"})
        # 0) Collect the charges due today (subscriptions).
        self._collect_due_charges()
        # 1) Collect the due balances; 2-5) bill each (one transaction: no commit
        # inside a request, a savepoint per balance instead).
        run._bill_balances(self._get_due_balances())
        # 6) The upcoming-invoice notices, as the scheduled run sends them.
        self._send_upcoming_notices()
        # 7) End the run.
        run._finish()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": run.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    # === THE BILL RUN === #

    @api.model
    def _cron_bill_run(self, batch_size=100):
        """The daily bill run (scheduled action ``ir_cron_consolidate_due``): bill
        every due balance under a row lock, a batch of balances per transaction
        (``_bill_balances``), so that several workers can share the run and a run
        that dies resumes where it stopped without billing anything twice. A
        balance that fails is rolled back, its error kept on it and logged in its
        chatter, and the run goes on without it.

        What became of each balance is written on the run record. The scheduler
        calls this again while progress is reported (``batch_size`` balances a
        call): all those calls are one run, ended when nothing due is left."""
        Cron = self.env["ir.cron"]
        # 0) Collect the charges due today (subscriptions) before billing: they
        # go on the balances billed below. Once per run, when it starts: the
        # scheduler's next calls for the rest of the run find nothing new.
        run = self._get_running("cron")
        if not run:
            self._collect_due_charges()
            run = self.sudo().create({"trigger": "cron"})
        # 1) Collect the due balances, oldest billing date first, a batch a call.
        balances = self._get_due_balances(limit=batch_size)
        if balances:
            Cron._commit_progress(
                remaining=self.env["customer.balance"].search_count(
                    self.env["customer.balance"]._get_due_domain()
                )
            )
            # 2-5) Lock, bill, store the errors, record: each batch of invoices
            # committed on its own (``_commit_progress``); when the time is up,
            # the scheduler calls again for the rest.
            run._bill_balances(
                balances, on_progress=lambda count: Cron._commit_progress(count) > 0
            )
            # Whether the time was up or not: the run ends when nothing due is
            # left. The scheduler calls again only while it is told balances
            # remain, so a call that billed the last ones must end the run.
            if self._get_due_balances(limit=1):
                # Balances are left (time is up, or some were skipped on a
                # conflict): say so, so that the scheduler calls the run again
                # instead of counting it as fully done.
                Cron._commit_progress(
                    remaining=self.env["customer.balance"].search_count(
                        self.env["customer.balance"]._get_due_domain()
                    )
                )
                return
        # 6) Nothing due is left: the notices of the invoices coming next.
        self._send_upcoming_notices()
        # 7) End the run: done, or failed when balances failed or wait for a retry.
        run._finish()
        Cron._commit_progress(0, remaining=0)

    @api.model
    def _collect_due_charges(self):
        """Step 0 of the bill run, a hook: subscription charges due on the billing
        date are collected here before balances are billed;
        ``customer_balance_contract`` implements it. Must be idempotent: a run
        resumed after its worker died, or the job queue's run, collects again."""

    @api.model
    def _get_due_balances(self, limit=None):
        """Step 1: the balances the run bills now (``customer.balance.
        _get_due_domain``), oldest billing date first."""
        Balance = self.env["customer.balance"]
        return Balance.search(
            Balance._get_due_domain(), limit=limit, order="billing_date, id"
        )

    def _bill_balances(self, balances, on_progress=None):
        """Steps 2-5 for ``balances``, in batches of ``_get_invoice_batch_size``
        balances (``_bill_batch``: their invoices built in one create call), each
        batch's outcomes recorded on this run. ``on_progress(count)`` is called
        after each batch (``count`` balances) to commit it: a batch is billed
        entirely or not at all. When it returns False, the rest is left for
        later. Returns whether all were handled."""
        self.ensure_one()
        due_domain = self.env["customer.balance"]._get_due_domain()
        size = self._get_invoice_batch_size()
        for start in range(0, len(balances), size):
            batch = balances[start : start + size]
            self._record_all(self._bill_batch(batch, due_domain))
            if on_progress and not on_progress(len(batch)):
                return False
        return True

    @api.model
    def _get_invoice_batch_size(self):
        """How many balances the run bills together: their invoices are created
        in one ``account.move.create`` call and committed together
        (``customer_balance.bill_run_invoice_batch_size``, else
        ``INVOICE_BATCH_SIZE``)."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(INVOICE_BATCH_SIZE_PARAM, "")
        )
        try:
            return max(int(value), 1)
        except ValueError:
            return INVOICE_BATCH_SIZE

    def _bill_batch(self, batch, due_domain):
        """Steps 2-4 for a batch of balances in one transaction: lock those still
        due, bill them together (``_bill_locked_balances``) under one savepoint,
        store the errors of those that fail. When billing the batch raises (one
        balance's invoice cannot be created or posted, a conflict), its work is
        rolled back and its balances are billed again one by one under savepoints
        of their own (``_bill_balance``): the failing one keeps its error, the
        others are billed. Returns ``{balance: BillResult}`` for the balances
        this run handled."""
        if len(batch) > 1:
            try:
                with self.env.cr.savepoint():
                    locked = batch.try_lock_for_update().filtered_domain(due_domain)
                    results = self._bill_locked_balances(locked) if locked else {}
            except Exception as error:  # noqa: BLE001 - retried one by one below
                self.env.invalidate_all()
                _logger.info(
                    "Bill run: batch %s failed (%s), billing its balances one by one",
                    batch.ids,
                    error,
                )
            else:
                for balance, result in results.items():
                    if result.outcome == "failed":
                        balance._store_billing_error(result.error)
                return results
        results = {}
        for balance in batch:
            result = self._bill_balance(balance, due_domain)
            if result:
                results[balance] = result
        return results

    def _bill_balance(self, balance, due_domain):
        """Steps 2-4 for one balance: lock it, bill it under a savepoint of its
        own, store its error when it fails. Returns the ``BillResult``, or None
        when the balance is no longer this run's (billed or locked by another
        worker meanwhile)."""
        try:
            with self.env.cr.savepoint():
                # 2) Lock it; another worker holding it or having billed it since
                # this batch was read takes it, not us.
                locked = balance.try_lock_for_update().filtered_domain(due_domain)
                if not locked:
                    return None
                # 3) Bill it.
                result = self._bill_locked_balance(locked)
        except (errors.SerializationFailure, ConcurrencyError):
            # Billed by another worker since this batch was read, or its items
            # changed by a request meanwhile: skip it for now; it stays due and
            # the scheduler is called again for it (step 1's remaining count).
            self.env.invalidate_all()
            return None
        except Exception as error:  # noqa: BLE001 - reported on the balance
            # Its work is rolled back with the savepoint; the run goes on.
            self.env.invalidate_all()
            _logger.warning("Bill run: balance %s failed: %s", balance.id, error)
            result = BillResult("failed", error=str(error) or type(error).__name__)
        # 4) Store its error: the run leaves it out until someone retries.
        if result.outcome == "failed":
            balance._store_billing_error(result.error)
        return result

    def _bill_locked_balance(self, balance):
        """Bill one due, locked balance (``_bill_locked_balances``). Returns the
        ``BillResult``."""
        return self._bill_locked_balances(balance)[balance]

    def _bill_locked_balances(self, balances):
        """Bill due, locked balances as ``customer.balance._get_bill_decision``
        decides for each: fail it (nothing billed, the reason kept), carry its
        items into the next period, or bill it through the same transition as
        *Bill now* (``_consolidate``: an invoice, a credit note, or closed when its
        items net to zero), the invoices of all of them created in one call.
        Returns ``{balance: BillResult}``, in the order of ``balances``. The unit
        the job queue's jobs bill too."""
        decisions = balances._get_bill_decision()
        results = {}
        to_bill = balances.browse()
        for balance in balances:
            decision = decisions[balance]
            match decision["outcome"]:
                case "fail":
                    results[balance] = BillResult("failed", error=decision["reason"])
                case "carry":
                    results[balance] = BillResult(
                        "carried", carried_to=balance._carry_over()
                    )
                case _:
                    results[balance] = None
                    to_bill |= balance
        if to_bill:
            to_bill._consolidate()
        for balance in to_bill:
            results[balance] = (
                BillResult("billed", invoice=balance.invoice_id)
                if balance.invoice_id
                else BillResult("closed")
            )
        return results

    @api.model
    def _send_upcoming_notices(self):
        """Step 6 of the bill run, a hook: send the *upcoming invoice* notices
        (DESIGN §5.10) once the due balances are billed."""

    # === THE RUN RECORD === #

    @api.model
    def _get_or_start(self, trigger="cron"):
        """The run that bills now: the one of ``trigger`` still running (the cron's
        next batch, or a run whose worker died, which this one resumes), else a new
        one."""
        return self._get_running(trigger) or self.sudo().create({"trigger": trigger})

    @api.model
    def _get_running(self, trigger="cron"):
        """The run of ``trigger`` still running, if any."""
        return self.sudo().search(
            [("state", "=", "running"), ("trigger", "=", trigger)],
            order="date_start desc, id desc",
            limit=1,
        )

    @api.model
    def _is_last_run_failed(self):
        """Whether the last bill run needs someone's attention: it could not bill
        some balances or left some waiting for a retry, or it has been running for
        more than a day (its worker died and no run resumed it since)."""
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

    def _record(self, balance, result):
        """Step 5: write down what billing ``balance`` did (a ``BillResult``)."""
        return self._record_all({balance: result})

    def _record_all(self, results):
        """Step 5 for a batch: write down what billing each balance did
        (``{balance: BillResult}``), in one insert."""
        self.ensure_one()
        return (
            self.env["customer.balance.run.line"]
            .sudo()
            .create(
                [
                    {
                        "run_id": self.id,
                        "balance_id": balance.id,
                        "company_id": balance.company_id.id,
                        "outcome": result.outcome,
                        "invoice_id": result.invoice.id if result.invoice else False,
                        "carried_to_id": (
                            result.carried_to.id if result.carried_to else False
                        ),
                        "error": result.error or False,
                    }
                    for balance, result in results.items()
                ]
            )
        )

    def _finish(self):
        """End the run: *failed* when some balances could not be billed or wait for
        a retry (``waiting_balance_ids``), else *done*. Another worker sharing the
        run may end it at the same moment: the first one does, the other leaves
        it."""
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
                outcomes = self.env["customer.balance.run.line"].sudo()
                failed = outcomes.search(
                    [("run_id", "=", run.id), ("outcome", "=", "failed")]
                ).balance_id
                waiting = run._get_waiting_balances() - failed
                run.write(
                    {
                        "state": "failed" if failed or waiting else "done",
                        "date_end": fields.Datetime.now(),
                        "waiting_balance_ids": [Command.set(waiting.ids)],
                    }
                )
        except errors.SerializationFailure:
            self.env.invalidate_all()
            _logger.info("Bill run %s was ended by another worker", self.ids)

    def _get_waiting_balances(self):
        """Due balances the run leaves out because billing them failed before:
        they wait for someone to retry (``action_retry_billing``)."""
        Balance = self.env["customer.balance"].sudo()
        return Balance.search(
            Balance._get_due_domain(with_errors=True)
            & Domain("billing_error", "!=", False)
        )
