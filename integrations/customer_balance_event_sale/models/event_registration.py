# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, models


class EventRegistration(models.Model):
    _inherit = "event.registration"

    def write(self, vals):
        """A cancelled registration removes its ticket's charge from the balance."""
        if "state" not in vals:
            return super().write(vals)
        before = {registration: registration.state for registration in self}
        res = super().write(vals)
        changed = self.filtered(
            lambda reg: (before[reg] == "cancel") != (reg.state == "cancel")
        )
        for registration in changed:
            line = registration.sudo().sale_order_line_id
            if line.state != "sale" or not line.balance_line_ids:
                continue
            line._balance_waive_tickets(1.0 if registration.state == "cancel" else -1.0)
            registration._balance_log_ticket_change()
        return res

    def _balance_log_ticket_change(self):
        """Say on the balance of the ticket that its charge was removed, or
        restored."""
        self.ensure_one()
        balance = (
            self.sudo()
            .sale_order_line_id.balance_line_ids.filtered(
                lambda item: item.state in ("pending", "cancel")
            )[:1]
            .balance_id
        )
        if not balance:
            return
        if self.state == "cancel":
            body = _(
                "Registration %(attendee)s to %(event)s cancelled: its ticket is "
                "removed from the balance.",
                attendee=self.display_name,
                event=self.event_id.display_name,
            )
        else:
            body = _(
                "Registration %(attendee)s to %(event)s restored: its ticket is "
                "charged again.",
                attendee=self.display_name,
                event=self.event_id.display_name,
            )
        balance.message_post(body=body)
