# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

# Changing one of these schedules, reschedules or cancels the booking.
SCHEDULING_FIELDS = {"start", "stop", "active", "meeting_id", "sale_order_line_id"}


class ResourceBooking(models.Model):
    _inherit = "resource.booking"

    balance_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="resource_booking_id",
        string="Balance Items",
        readonly=True,
    )
    balance_charge_kept = fields.Boolean(
        string="Charge Kept",
        copy=False,
        readonly=True,
        help="The booking was cancelled after its charge was billed, and the "
        "accountant deleted its credit: the charge is kept, no credit is made "
        "again.",
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        bookings = super().create(vals_list)
        bookings._balance_sync_items()
        return bookings

    def write(self, vals):
        res = super().write(vals)
        if SCHEDULING_FIELDS.intersection(vals):
            self._balance_sync_items()
        return res

    # === ACTION METHODS === #

    def action_cancel(self):
        """Override of `resource_booking`: a cancelled booking's charge is removed
        (waived), not left waiting as for a booking that is only unscheduled."""
        return super(
            ResourceBooking, self.with_context(balance_booking_cancelling=True)
        ).action_cancel()

    # === BUSINESS METHODS === #

    def _balance_sync_items(self):
        """Bring the balance items of these bookings in line with their schedule:
        scheduled bookings of orders billed on balances have an item in the period
        of their start, unscheduled ones wait, cancelled ones are not charged."""
        if self.env.context.get("balance_skip_booking_sync"):
            return
        self.sudo().sale_order_line_id._balance_sync_items()
