# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.tools import format_amount, format_date, format_datetime


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    balance_booking_billing = fields.Boolean(
        string="Bookings on Customer Balance",
        copy=False,
        readonly=True,
        help="The order was put on a customer balance when it was confirmed: each "
        "of this line's resource bookings becomes an item of the balance of the "
        "period in which it starts, once it is scheduled.",
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "balance_booking_billing",
        "resource_booking_ids.start",
        "resource_booking_ids.active",
        "resource_booking_ids.balance_line_ids.state",
    )
    def _compute_qty_to_invoice(self):
        """Bookings of a line billed on a balance that are not scheduled yet wait
        for their start: Odoo's own *Create invoice* does not bill them. Nor does
        it bill (or refund) a cancelled booking credited on a balance: the line
        still counts it, the balance billed and credited it."""
        res = super()._compute_qty_to_invoice()
        for line in self.filtered("balance_booking_billing"):
            if line.state != "sale":
                continue
            # Archived bookings are left out of the one2many by default.
            bookings = line.with_context(active_test=False).resource_booking_ids
            credited = len(
                bookings.filtered(
                    lambda b: (
                        not b.active
                        and b.balance_line_ids.filtered(
                            lambda i: i.quantity < 0 and i.state != "cancel"
                        )
                    )
                )
            )
            line.qty_to_invoice -= credited
            waiting = len(
                line.resource_booking_ids.filtered(lambda b: b.active and not b.start)
            )
            if waiting and line.qty_to_invoice > 0:
                line.qty_to_invoice = max(line.qty_to_invoice - waiting, 0.0)
        return res

    # === BUSINESS METHODS === #

    def _is_balance_booking_line(self):
        """Whether this line sells resource bookings (one booking per unit)."""
        self.ensure_one()
        return bool(self.product_id.resource_booking_type_id)

    def _is_balance_line(self):
        """Override of `customer_balance`: while an order is confirmed, booking
        lines are left to their bookings (one item per scheduled booking)."""
        if self.env.context.get("balance_booking_lines_apart") and (
            self._is_balance_booking_line()
        ):
            return False
        return super()._is_balance_line()

    def _sync_resource_bookings(self):
        """Override of `sale_resource_booking`: writing the waived quantity of a
        cancelled booking's line must not bring the cancelled booking back."""
        if self.env.context.get("balance_skip_booking_sync"):
            return None
        return super()._sync_resource_bookings()

    def _balance_sync_items(self, credit_billed=False):
        """Override of `customer_balance`: the items of booking lines follow
        their bookings, one per booking (see ``_balance_sync_booking_items``)."""
        booking_lines = self.filtered(lambda line: line._is_balance_booking_line())
        res = super(SaleOrderLine, self - booking_lines)._balance_sync_items(
            credit_billed=credit_billed
        )
        booking_lines = booking_lines.filtered("balance_booking_billing")
        booking_lines._balance_sync_booking_items()
        # A booking cancelled after a price change that was billed: its
        # difference is credited too (``customer_balance``).
        booking_lines._balance_sync_price_difference()
        return res

    def _prepare_balance_booking_values(self, booking):
        """Values of the item of one booking of this line: one unit, billed in
        the period of the booking's start (its day in the company's time zone)."""
        self.ensure_one()
        company = self.order_id.company_id
        tz = company.partner_id.tz or "UTC"
        when = format_datetime(self.env, booking.start, tz=tz, dt_format="short")
        return {
            **self._prepare_balance_line_values(1.0),
            "name": f"{self.name} ({when})",
            "service_date": company._balance_local_date(booking.start),
            "resource_booking_id": booking.id,
        }

    def _balance_sync_booking_items(self):
        """One pending item per scheduled booking of these lines, on the balance of
        the period of its start. A rescheduled booking's item moves to the balance
        of its new period (a period already billed: the late-item rule applies);
        an unscheduled booking's item is withdrawn until it is scheduled again; a
        cancelled booking's charge is removed (waived: the line shows nothing to
        invoice for it). A booking already billed keeps its invoice; cancelled
        (or its order cancelled) it is credited on the open balance (see
        ``_balance_sync_billed_booking``)."""
        # The member (portal, shop) schedules a booking of an order that was put
        # on a balance when it was confirmed: the items are the company's records.
        Item = self.env["customer.balance.line"].with_user(SUPERUSER_ID)
        to_create = []
        for line in self.with_user(SUPERUSER_ID).with_context(active_test=False):
            if line.state not in ("sale", "cancel"):
                continue
            items = line.balance_line_ids
            for booking in line.resource_booking_ids:
                booking_items = items.filtered(
                    lambda item, b=booking: item.resource_booking_id == b
                )
                pending = booking_items.filtered(lambda i: i.state == "pending")
                invoiced = booking_items.filtered(lambda i: i.state == "invoiced")
                billed = sum(invoiced.mapped("quantity"))
                if line.product_uom_id.compare(billed, 0.0) != 0:
                    to_create += line._balance_sync_billed_booking(
                        booking, invoiced, pending
                    )
                    continue
                if line.state == "cancel":
                    # The order is cancelled: nothing of it is charged, nothing
                    # waived (it may be confirmed again).
                    pending._cancel_with_booking()
                    continue
                if not booking.active:
                    line._balance_waive_booking_items(booking, pending)
                    continue
                if not booking.start:
                    # Cancelling unschedules first, then archives: the charge is
                    # waived then, not withdrawn here.
                    if not self.env.context.get("balance_booking_cancelling"):
                        pending._cancel_with_booking()
                    continue
                values = line._prepare_balance_booking_values(booking)
                if not pending:
                    to_create.append(values)
                    continue
                pending[1:]._cancel_with_booking()
                line._balance_update_booking_item(pending[0], values)
        if not to_create:
            return
        eligible = []
        for values in to_create:
            reason = Item.new(values)._get_balance_ineligibility_reason()
            if not reason:
                eligible.append(values)
            elif values["quantity"] < 0:
                self.browse(values["sale_line_id"])._balance_refuse_ineligible_credits(
                    [values]
                )
        if eligible:
            items = Item.create(eligible)
            self.with_user(SUPERUSER_ID)._balance_post_credit_notes(
                items.filtered(lambda item: item.quantity < 0)
            )

    def _balance_sync_billed_booking(self, booking, invoiced, pending):
        """A booking whose charge (its ``invoiced`` items) was billed: cancelled,
        or its order cancelled, it gets a credit of what was billed on the open
        balance, unless the accountant deleted that credit to keep the charge;
        standing again, its credit is withdrawn. The invoice is never touched.
        Returns the values of the credit item to create, if any."""
        self.ensure_one()
        billed = sum(invoiced.mapped("quantity"))
        cancelled = not booking.active or self.state == "cancel"
        if not cancelled or booking.balance_charge_kept:
            credits = pending.filtered(lambda item: item.quantity < 0)
            (pending - credits)._cancel_with_booking()
            if credits:
                credits._cancel_with_booking()
                self.with_user(SUPERUSER_ID)._balance_post_credit_notes(
                    credits, withdrawn=True
                )
            if (
                not cancelled
                and not booking.start
                and not self.env.context.get("balance_booking_cancelling")
            ):
                self._balance_log_billed_booking_change(booking)
            return []
        credit = pending.filtered(
            lambda item: self.product_uom_id.compare(item.quantity, -billed) == 0
        )[:1]
        (pending - credit)._cancel_with_booking()
        if credit:
            return []
        # Credited at what it was billed, even when the order line changed since.
        charge = invoiced.filtered(lambda item: item.quantity > 0).sorted("id")[-1:]
        if not charge:
            return []
        return [
            {
                **self._prepare_balance_booking_values(booking),
                "name": charge.name,
                "price_unit": charge.price_unit,
                "discount": charge.discount,
                "tax_ids": [Command.set(charge.tax_ids.ids)],
                "quantity": -billed,
                # A cancelled booking has no start any more: the credit belongs to
                # the billed date (its closed period sends it to the open balance).
                "service_date": charge.service_date,
            }
        ]

    def _balance_update_booking_item(self, item, values):
        """Write the booking's current values on its pending item; a booking moved
        to another period takes its item to that period's balance, saying so on
        both balances."""
        self.ensure_one()
        changed = {
            field: value
            for field, value in values.items()
            if field not in ("sale_line_id", "origin", "origin_ref")
        }
        old_balance = item.balance_id
        # The order's synchronisation: the one writer of a booking item's charge.
        item._as_transition("order").write(changed)
        new_balance = item.balance_id
        if new_balance == old_balance:
            return
        body = _(
            "Booking %(booking)s rescheduled to %(date)s: its item moved from "
            "customer balance %(old)s to %(new)s.",
            booking=item.resource_booking_id.display_name,
            date=format_date(self.env, item.service_date),
            old=old_balance.display_name,
            new=new_balance.display_name,
        )
        for record in (old_balance, new_balance, self.order_id):
            record.message_post(body=body)

    def _balance_waive_booking_items(self, booking, items):
        """A cancelled booking is not charged: its pending items are waived (the
        line shows nothing to invoice for them), saying so on their balances."""
        self.ensure_one()
        if not items:
            return
        # Writing the waived quantity must not bring the cancelled booking back.
        items.with_context(balance_skip_booking_sync=True)._waive()
        for balance, balance_items in items.grouped("balance_id").items():
            balance.message_post(
                body=_(
                    "Booking %(booking)s cancelled: its charge of %(amount)s is "
                    "removed.",
                    booking=booking.display_name,
                    amount=format_amount(
                        self.env,
                        sum(balance_items.mapped("price_total")),
                        balance.currency_id,
                    ),
                )
            )

    def _balance_log_billed_booking_change(self, booking):
        """A booking whose charge was already billed is unscheduled: its charge
        stays on the consolidated invoice (it is still booked); the order says
        so."""
        self.ensure_one()
        self.order_id.message_post(
            body=_(
                "Booking %(booking)s was unscheduled after its charge was billed on "
                "a consolidated invoice: the charge stays billed.",
                booking=booking.display_name,
            )
        )
