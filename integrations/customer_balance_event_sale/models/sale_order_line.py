# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # === BUSINESS METHODS === #

    def _balance_event_start(self):
        """When the event (or the ticket's time slot) of this line starts, or
        ``False`` for lines that sell no event ticket."""
        self.ensure_one()
        if not self.event_id:
            return False
        return self.event_slot_id.start_datetime or self.event_id.date_begin

    def _balance_service_date(self):
        """Override of `customer_balance`: a ticket is billed in the period in which
        its event starts (its day in the company's time zone)."""
        start = self._balance_event_start()
        if start:
            return self.order_id.company_id._balance_local_date(start)
        return super()._balance_service_date()

    def _balance_waive_tickets(self, quantity):
        """Waive ``quantity`` tickets of this line (a negative quantity takes a
        waiver back, for registrations opened again): its pending item charges
        only the tickets that stand, and the line shows nothing to invoice for
        the others. A ticket already billed is credited on the open balance
        (the invoice stays as it is); opened again, its credit is withdrawn."""
        self.ensure_one()
        line = self.sudo()
        line.balance_waived_qty = max(line.balance_waived_qty + quantity, 0.0)
        # A cancelled ticket: credited when billed, not taken off a waiver.
        line._balance_sync_items(credit_billed=quantity > 0)
