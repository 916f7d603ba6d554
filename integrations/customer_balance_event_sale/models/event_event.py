# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class EventEvent(models.Model):
    _inherit = "event.event"

    def write(self, vals):
        """An event moved to other dates takes its pending tickets to the balance
        of the period in which it now starts."""
        res = super().write(vals)
        if "date_begin" in vals:
            lines = (
                self.env["sale.order.line"]
                .sudo()
                .search([("event_id", "in", self.ids), ("state", "=", "sale")])
                .filtered("balance_line_ids")
            )
            lines._balance_sync_items()
        return res
