# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.customer_balance import CHANNEL


@tagged("post_install", "-at_install")
class TestBillRunQueue(CustomerBalanceCommon):
    """The bill run on the job queue: five members' June balances, two per job.
    Jobs run as the queue's workers run them: each in a transaction of its own
    (registry test mode), committing each balance it bills."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("customer_balance_queue_job.enabled", "1")
        params.set_param("customer_balance_queue_job.chunk_size", "2")
        cls.Run = cls.env["customer.balance.run"]
        cls.members = cls.env["res.partner"].create(
            [{"name": f"Member {number}"} for number in range(1, 6)]
        )
        cls.balances = cls._balances_with_items(cls.members)

    # === HELPERS === #

    def _enqueue(self):
        """The daily bill run of 1 July, which enqueues the due balances."""
        with freeze_time("2026-07-01 08:00:00"):
            self.Balance._cron_consolidate_due()

    def _perform(self, *jobs):
        """Perform ``jobs`` as a queue worker does: each in its own transaction."""
        with freeze_time("2026-07-01 08:05:00"), self.enter_registry_test_mode():
            for job in jobs:
                job.perform()

    def _bill_jobs(self, trap):
        """The trapped jobs billing balances, in the order of their balances."""
        return sorted(
            (job for job in trap.enqueued_jobs if job.method_name == "_bill_due_job"),
            key=lambda job: job.recordset.ids,
        )

    def _assert_billed_once(self):
        """Each balance has one consolidated invoice, each item one invoice line."""
        invoices = self.env["account.move"].search(
            [("balance_id", "in", self.balances.ids)]
        )
        self.assertEqual(len(invoices), len(self.balances))
        self.assertEqual(invoices.balance_id, self.balances)
        self.assertEqual(set(self.balances.mapped("state")), {"invoiced"})
        items = self.balances.line_ids
        self.assertEqual(set(items.mapped("state")), {"invoiced"})
        self.assertEqual(len(items.invoice_line_id), len(items))
        return invoices

    # === TESTS === #

    def test_daily_run_enqueues_chunks(self):
        """The run of 1 July bills nothing itself: it enqueues three jobs on the
        channel root.customer_balance (2 + 2 + 1 balances, each job with the
        identity of its balances and periods) and a last one that ends the run.
        Performed, they bill every balance once; the run record counts five
        billed and is done."""
        with trap_jobs() as trap:
            self._enqueue()
            self.assertEqual(set(self.balances.mapped("state")), {"open"})
            jobs = self._bill_jobs(trap)
            self.assertEqual([len(job.recordset) for job in jobs], [2, 2, 1])
            self.assertEqual(
                [job.recordset.ids for job in jobs],
                [self.balances.ids[:2], self.balances.ids[2:4], self.balances.ids[4:]],
            )
            self.assertEqual({job.channel for job in jobs}, {CHANNEL})
            self.assertEqual(
                [job.identity_key for job in jobs],
                [job.recordset._get_bill_job_identity_key() for job in jobs],
            )
            run = self.Run.search([])
            self.assertEqual((run.trigger, run.state), ("queue", "running"))
            trap.assert_enqueued_job(run._finish_queued)
            with self.enter_registry_test_mode():
                trap.perform_enqueued_jobs()
        invoices = self._assert_billed_once()
        self.assertEqual(run.state, "done")
        self.assertEqual((run.billed_count, run.failed_count), (5, 0))
        self.assertEqual(run.invoice_ids, invoices)
        self.assertEqual(run._get_invoice_totals(), {self.currency: 5 * 138.0})

    def test_enqueued_twice_bills_once(self):
        """The run is enqueued, then enqueued again before a worker took its jobs
        (a second scheduler, a manual run): the second finds every chunk already
        in the queue and enqueues nothing, not even a run. The queued jobs bill
        each balance once."""
        self._enqueue()
        queued = self.env["queue.job"].sudo().search([("channel", "=", CHANNEL)])
        self.assertEqual(len(queued), 4)  # three chunks and the end of the run
        with trap_jobs() as trap:
            self._enqueue()
            trap.assert_jobs_count(0)
        run = self.Run.search([])
        self.assertEqual(len(run), 1)

        chunks = queued.filtered(lambda job: job.method_name == "_bill_due_job")
        ending = queued - chunks
        self._perform(
            *(Job.load(self.env, job.uuid) for job in chunks | ending),
        )
        self._assert_billed_once()
        self.assertEqual((run.state, run.billed_count), ("done", 5))

    def test_two_jobs_take_the_same_chunk(self):
        """Two jobs bill the same two balances (the same chunk requeued while it
        ran, or taken by two workers): the second finds them billed and bills
        nothing. A scheduled bill run at the same time finds nothing either."""
        with trap_jobs() as trap:
            self._enqueue()
        first, *others = self._bill_jobs(trap)
        again = Job(
            first.recordset._bill_due_job,
            args=first.args,
            channel=CHANNEL,
        )
        self._perform(first, again)
        chunk = first.recordset
        self.assertEqual(set(chunk.mapped("state")), {"invoiced"})
        self.assertEqual(
            self.env["account.move"].search_count([("balance_id", "in", chunk.ids)]),
            2,
        )
        # The scheduler's own bill run (no job queue) meanwhile, then the rest.
        self.env["ir.config_parameter"].sudo().set_param(
            "customer_balance_queue_job.enabled", "0"
        )
        with freeze_time("2026-07-01 08:06:00"):
            cron_run = self._bill_run()
        self.assertEqual(cron_run.trigger, "cron")
        self.assertEqual(cron_run.billed_count, 3)
        self._perform(*others)
        self._assert_billed_once()
        run = self.Run.search([("trigger", "=", "queue")])
        self.assertEqual(run.billed_count, 2)

    def test_job_failing_half_way_is_retried(self):
        """The first job's worker fails after billing its first balance, while
        committing the second (the database connection is lost): the second
        balance's work is rolled back with the job's transaction and the job is
        retried. The retry bills the second balance only; the run counts each
        balance once and the retried one is not billed twice. (Batches of one
        balance: each committed on its own.)"""
        self.env["ir.config_parameter"].set_param(
            "customer_balance.bill_run_invoice_batch_size", "1"
        )
        with trap_jobs() as trap:
            self._enqueue()
        jobs = self._bill_jobs(trap)
        first = jobs[0]
        BalanceModel = type(self.Balance)
        commit = BalanceModel._commit_billed_balance
        commits = []

        def failing_commit(records):
            commits.append(records.ids)
            if len(commits) == 2:
                raise RetryableJobError("connection to the database lost")
            return commit(records)

        # Not assertRaises: Odoo's rolls back to a savepoint of its own, before
        # the commit of the first balance.
        failed = False
        with patch.object(BalanceModel, "_commit_billed_balance", failing_commit):
            try:
                self._perform(first)
            except RetryableJobError:
                failed = True
        self.assertTrue(failed)
        one, two = first.recordset
        self.assertEqual((one.state, two.state), ("invoiced", "open"))
        self.assertFalse(two.invoice_id)
        self.assertEqual(first.retry, 1)

        self._perform(first)  # the retry
        self.assertEqual(first.retry, 2)
        self.assertEqual(two.state, "invoiced")
        self._perform(*jobs[1:])
        with self.enter_registry_test_mode():
            trap.perform_enqueued_jobs()  # the end of the run
        invoices = self._assert_billed_once()
        run = self.Run.search([])
        self.assertEqual(run.state, "done")
        self.assertEqual((run.billed_count, run.failed_count), (5, 0))
        self.assertEqual(len(run.line_ids), 5)
        self.assertEqual(run.invoice_ids, invoices)

    def test_job_failing_on_its_batch_commit_is_retried(self):
        """The first job bills its two balances as one batch (one create call)
        and its worker fails while committing it: nothing of the batch stays,
        neither balance is billed. The retry bills both, once; the run counts
        five billed balances and no duplicate."""
        with trap_jobs() as trap:
            self._enqueue()
        jobs = self._bill_jobs(trap)
        first = jobs[0]
        BalanceModel = type(self.Balance)
        commit = BalanceModel._commit_billed_balance
        commits = []

        def failing_commit(records):
            commits.append(records.ids)
            if len(commits) == 1:
                raise RetryableJobError("connection to the database lost")
            return commit(records)

        failed = False
        with patch.object(BalanceModel, "_commit_billed_balance", failing_commit):
            try:
                self._perform(first)
            except RetryableJobError:
                failed = True
        self.assertTrue(failed)
        one, two = first.recordset
        self.assertEqual((one.state, two.state), ("open", "open"))
        self.assertFalse(self.env["account.move"].search([("balance_id", "!=", False)]))

        self._perform(first)  # the retry
        self._perform(*jobs[1:])
        with self.enter_registry_test_mode():
            trap.perform_enqueued_jobs()  # the end of the run
        invoices = self._assert_billed_once()
        run = self.Run.search([])
        self.assertEqual((run.state, run.billed_count), ("done", 5))
        self.assertEqual(len(run.line_ids), 5)
        self.assertEqual(run.invoice_ids, invoices)

    def test_failing_balance_in_a_job(self):
        """A balance that cannot be billed fails alone, as in the scheduled run:
        its error is stored, the job bills the others and succeeds, and the run
        ends *failed* with the balance and its reason."""
        failing = self.balances[1]
        BalanceModel = type(self.Balance)
        consolidate = BalanceModel._consolidate

        def failing_consolidate(records):
            if failing in records:
                raise ValueError("no receivable account")
            return consolidate(records)

        with trap_jobs() as trap:
            self._enqueue()
            with patch.object(BalanceModel, "_consolidate", failing_consolidate):
                with self.enter_registry_test_mode():
                    trap.perform_enqueued_jobs()
        self.assertEqual(failing.state, "open")
        self.assertEqual(failing.billing_error, "no receivable account")
        self.assertEqual(set((self.balances - failing).mapped("state")), {"invoiced"})
        run = self.Run.search([])
        self.assertEqual(run.state, "failed")
        self.assertEqual((run.billed_count, run.failed_count), (4, 1))
        self.assertEqual(run.failed_balance_ids, failing)

    def test_threshold_goes_through_the_queue(self):
        """A balance reaching the billing threshold is handed to a job of its
        own, once however often it is triggered; the job bills it with a run
        record of its own."""
        self.company.balance_threshold_amount = 100.0
        balance = self.balances[0]
        with trap_jobs() as trap, freeze_time("2026-06-20 08:00:00"):
            balance._trigger_bill_run()
            balance._trigger_bill_run()
            trap.assert_jobs_count(1, only=balance._bill_due_job)
            trap.assert_enqueued_job(
                balance._bill_due_job,
                properties={
                    "channel": CHANNEL,
                    "identity_key": balance._get_bill_job_identity_key(),
                },
            )
            with self.enter_registry_test_mode():
                trap.perform_enqueued_jobs()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(set((self.balances - balance).mapped("state")), {"open"})
        run = self.Run.search([])
        self.assertEqual(
            (run.trigger, run.state, run.billed_count), ("queue", "done", 1)
        )
        self.assertEqual(run.invoice_ids, balance.invoice_id)

    def test_without_job_runner_the_cron_bills(self):
        """Without queue_job's runner on this server (and the system parameter
        unset), the scheduled bill run bills by itself, as without this module:
        queued jobs would never run."""
        self.env["ir.config_parameter"].sudo().set_param(
            "customer_balance_queue_job.enabled", ""
        )
        with trap_jobs() as trap, freeze_time("2026-07-01 08:00:00"):
            run = self._bill_run()
            trap.assert_jobs_count(0)
        self._assert_billed_once()
        self.assertEqual((run.trigger, run.billed_count), ("cron", 5))
