# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon
from odoo.addons.queue_job.job import ENQUEUED, PENDING

from ..models.customer_balance import CHANNEL


@tagged("post_install", "-at_install")
class TestRunnerPath(CustomerBalanceCommon, HttpCase):
    """The bill run through the path queue_job's runner takes, not ``trap_jobs``:
    the scheduled action stores real jobs; each job ready to run is marked
    *enqueued* with the runner's own statement and performed by an HTTP request
    to ``/queue_job/runjob``, which acquires it, locks it, runs it in the
    worker's transaction and enqueues the jobs depending on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("customer_balance_queue_job.enabled", "1")
        params.set_param("customer_balance_queue_job.chunk_size", "2")
        cls.members = cls.env["res.partner"].create(
            [{"name": f"Runner Member {number}"} for number in range(1, 6)]
        )
        cls.balances = cls._balances_with_items(cls.members)

    # === HELPERS === #

    def _run_queue(self, max_rounds=10):
        """Do what the runner does until no job is ready: mark each pending job
        of the channel enqueued (the runner's UPDATE), then request
        ``/queue_job/runjob`` for it. Returns the uuids requested, in order."""
        requested = []
        Job = self.env["queue.job"].sudo()
        for _round in range(max_rounds):
            self.env.flush_all()
            ready = Job.search(
                [("channel", "=", CHANNEL), ("state", "=", PENDING)], order="id"
            )
            if not ready:
                break
            for job in ready:
                self.env.cr.execute(
                    "UPDATE queue_job SET state=%s, date_enqueued=date_trunc("
                    "'seconds', now() at time zone 'utc') WHERE uuid=%s",
                    (ENQUEUED, job.uuid),
                )
                response = self.url_open(
                    f"/queue_job/runjob?db={self.env.cr.dbname}&job_uuid={job.uuid}"
                )
                response.raise_for_status()
                requested.append(job.uuid)
            self.env.invalidate_all()
        return requested

    # === TESTS === #

    def test_bill_run_through_runjob(self):
        """The daily run stores three chunk jobs and the job ending the run
        (waiting on them). Requested over HTTP as the runner requests them, the
        chunks bill every balance once, each item on one invoice line; the ending
        job becomes ready only then and ends the run *done* with five billed.
        Requesting a done job again (a runner retrying a lost request) runs
        nothing."""
        run = self._bill_run()
        jobs = self.env["queue.job"].sudo().search([("channel", "=", CHANNEL)])
        chunks = jobs.filtered(lambda job: job.method_name == "_bill_due_job")
        self.assertEqual(len(chunks), 3)
        self.assertEqual(set(chunks.mapped("state")), {PENDING})
        ending = jobs - chunks
        self.assertEqual(ending.state, "wait_dependencies")
        self.assertEqual(set(self.balances.mapped("state")), {"open"})
        self.assertEqual((run.trigger, run.state), ("queue", "running"))

        requested = self._run_queue()
        # The chunks first (in the runner's order), the ending job once they are
        # done.
        self.assertEqual(set(requested[:3]), set(chunks.mapped("uuid")))
        self.assertEqual(requested[3:], ending.mapped("uuid"))
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        invoices = self.env["account.move"].search(
            [("balance_id", "in", self.balances.ids)]
        )
        self.assertEqual(len(invoices), 5)
        self.assertEqual(invoices.balance_id, self.balances)
        self.assertEqual(set(self.balances.mapped("state")), {"invoiced"})
        items = self.balances.line_ids
        self.assertEqual(len(items.invoice_line_id), len(items))
        self.assertEqual(
            (run.state, run.billed_count, run.failed_count), ("done", 5, 0)
        )
        self.assertEqual(run.invoice_ids, invoices)

        self.url_open(
            f"/queue_job/runjob?db={self.env.cr.dbname}&job_uuid={chunks[0].uuid}"
        ).raise_for_status()
        self.env.invalidate_all()
        self.assertEqual(
            self.env["account.move"].search_count(
                [("balance_id", "in", self.balances.ids)]
            ),
            5,
        )
