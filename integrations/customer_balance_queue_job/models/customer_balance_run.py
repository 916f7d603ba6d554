# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class CustomerBalanceRun(models.Model):
    _inherit = "customer.balance.run"

    def _finish_queued(self):
        """Job: end a queued run once all its chunks are done."""
        self._finish()
        return self.env._("Bill run ended: %s", self.state)
