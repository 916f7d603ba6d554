# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    def write(self, vals):
        """A booking's meeting moved in the calendar moves the booking's item."""
        res = super().write(vals)
        if {"start", "stop", "allday"}.intersection(vals):
            self.sudo().resource_booking_ids._balance_sync_items()
        return res
