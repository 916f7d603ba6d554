# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import hashlib

from odoo import api, models
from odoo.tools import config

from odoo.addons.queue_job.delay import group

CHANNEL = "root.customer_balance"
CHUNK_SIZE_PARAM = "customer_balance_queue_job.chunk_size"
ENABLED_PARAM = "customer_balance_queue_job.enabled"
# A job in one of these states has not billed its balances yet.
WAITING_STATES = ("wait_dependencies", "pending", "enqueued", "started")
DEFAULT_CHUNK_SIZE = 20


class CustomerBalance(models.Model):
    _inherit = "customer.balance"

    # === BUSINESS METHODS === #

    def _trigger_bill_run(self):
        """Override of `customer_balance`: a balance that reached the billing
        threshold is billed by a job of its own (with its own run record) rather
        than by the scheduled action."""
        if not self._use_job_queue():
            return super()._trigger_bill_run()
        for balance in self:
            balance.sudo().with_delay(
                channel=CHANNEL,
                identity_key=balance._get_bill_job_identity_key(),
                description=self.env._("Bill customer balance %s", balance.name),
            )._bill_due_job()

    @api.model
    def _use_job_queue(self):
        """Whether the bill run goes through the job queue: when this server runs
        queue_job's job runner (``server_wide_modules`` has ``queue_job``), so
        that queued jobs are certain to run; the system parameter
        ``customer_balance_queue_job.enabled`` (``1`` or ``0``) decides instead
        when set (servers running the scheduler without the runner)."""
        forced = self.env["ir.config_parameter"].sudo().get_param(ENABLED_PARAM)
        if forced in ("0", "1"):
            return forced == "1"
        return "queue_job" in (config["server_wide_modules"] or [])

    def _enqueue_bill_run(self):
        """Enqueue the bill run of these balances: one run record, jobs of
        ``customer_balance_queue_job.chunk_size`` balances (20 by default) on the
        channel ``root.customer_balance``, and a last job that ends the run once
        every chunk is done. A chunk already in the queue (the same balances and
        periods: its identity key) is not enqueued again; when all are, nothing
        is. Returns the run record, if any."""
        Run = self.env["customer.balance.run"].sudo()
        if not self:
            run = Run.create({"trigger": "queue"})
            run._finish()
            return run
        size = self._get_bill_run_chunk_size()
        balances = self.sudo()
        chunks = {
            chunk._get_bill_job_identity_key(): chunk
            for chunk in (
                balances[start : start + size]
                for start in range(0, len(balances), size)
            )
        }
        queued = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("identity_key", "in", list(chunks)),
                    ("state", "in", WAITING_STATES),
                ]
            )
        )
        for key in queued.mapped("identity_key"):
            chunks.pop(key, None)
        if not chunks:
            return Run
        run = Run.create({"trigger": "queue"})
        jobs = [
            chunk.delayable(
                channel=CHANNEL,
                identity_key=key,
                description=self.env._(
                    "Bill %(count)s customer balances (%(run)s)",
                    count=len(chunk),
                    run=run.display_name,
                ),
            )._bill_due_job(run)
            for key, chunk in chunks.items()
        ]
        finish = run.delayable(
            channel=CHANNEL,
            description=self.env._("End %s", run.display_name),
        )._finish_queued()
        group(*jobs).on_done(finish).delay()
        return run

    def _bill_due_job(self, run=None):
        """Job: bill these balances exactly as the scheduled bill run does
        (``customer.balance.run._bill_balances``: in batches, those still due once
        locked billed by the run's unit ``_bill_locked_balances`` with their
        invoices created together, each batch committed on its own; when a batch
        fails, its balances billed one by one, the failing one rolled back alone
        with its error stored, the others going on); the outcomes are recorded on
        ``run`` (a run of its own when none is given). A retried job skips the
        balances it billed before it failed."""
        own_run = not run
        run = run or self.env["customer.balance.run"].sudo().create(
            {"trigger": "queue"}
        )
        run._bill_balances(
            self, on_progress=lambda _count: self._commit_billed_balance()
        )
        if own_run:
            run._finish()
        return self.env._("%s balances handled", len(self))

    def _commit_billed_balance(self):
        """After each batch of balances of a job: commit it (the job function
        allows it)."""
        self.env.cr.commit()  # pylint: disable=invalid-commit
        return True

    def _get_bill_job_identity_key(self):
        """The identity of a job billing these balances: their ids and periods. The
        queue refuses a second waiting job with the same key."""
        key = ",".join(
            f"{balance.id}@{balance.period_start or ''}"
            for balance in self.sorted("id")
        )
        return "customer.balance.bill:" + hashlib.sha1(key.encode()).hexdigest()

    @api.model
    def _get_bill_run_chunk_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CHUNK_SIZE_PARAM, "")
        try:
            return max(int(value), 1)
        except ValueError:
            return DEFAULT_CHUNK_SIZE
