# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class CustomerBalanceRun(models.Model):
    _inherit = "customer.balance.run"

    # === BUSINESS METHODS === #

    @api.model
    def _cron_bill_run(self, batch_size=100):
        """Override of `customer_balance`: with the job queue, the daily bill run
        bills nothing itself. After collecting the charges due today, it hands
        the due balances to jobs of a few balances each (``customer.balance.
        _enqueue_bill_run``), which the queue's workers, on every server sharing
        the database, bill in parallel with the run's own unit; then it sends the
        upcoming-invoice notices."""
        if not self.env["customer.balance"]._use_job_queue():
            return super()._cron_bill_run(batch_size=batch_size)
        # 0) Collect the charges due today.
        self._collect_due_charges()
        # 1) Collect the due balances; 2-5) their jobs bill them.
        self._get_due_balances()._enqueue_bill_run()
        # 6) The upcoming-invoice notices.
        self._send_upcoming_notices()

    def _finish_queued(self):
        """Job: end a queued run once all its chunks are done."""
        self._finish()
        return self.env._("Bill run ended: %s", self.state)
