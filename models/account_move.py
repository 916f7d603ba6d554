# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import re

from markupsafe import Markup, escape

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)

# Written on a draft consolidated invoice, these change what it bills: its
# balance's totals follow (``customer.balance._refresh_invoice_totals``).
BALANCE_AMOUNT_FIELDS = {
    "invoice_line_ids",
    "line_ids",
    "currency_id",
    "fiscal_position_id",
    "move_type",
}


class AccountMove(models.Model):
    _inherit = "account.move"

    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Customer Balance",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The customer balance this consolidated invoice bills.",
    )
    balance_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="invoice_id",
        string="Balance Items",
        readonly=True,
    )
    balance_line_count = fields.Integer(compute="_compute_balance_line_count")

    _one_consolidated_invoice_per_balance = models.UniqueIndex(
        "(balance_id) WHERE balance_id IS NOT NULL AND state != 'cancel'",
        "A customer balance can only have one consolidated invoice.",
    )
    balance_can_add = fields.Boolean(compute="_compute_balance_can_add")
    balance_released = fields.Boolean(
        readonly=True,
        copy=False,
        help="This cancelled invoice billed customer balance items; they were put "
        "back on a balance, so it cannot be reset to draft (it would bill them a "
        "second time).",
    )

    # === COMPUTE METHODS === #

    def _compute_balance_line_count(self):
        counts = dict(
            self.env["customer.balance.line"]._read_group(
                [("invoice_id", "in", self.ids)], ["invoice_id"], ["__count"]
            )
        )
        for move in self:
            move.balance_line_count = counts.get(move, 0)

    def _compute_balance_can_add(self):
        billed = self._get_balance_billing_moves()
        for move in self:
            move.balance_can_add = (
                move.state == "draft"
                and move.move_type in ("out_invoice", "out_refund")
                and move.company_id.balance_enabled
                and move not in billed
            )

    # === ACTION METHODS === #

    def action_add_to_balance(self):
        """Turn draft customer invoices and credit notes into pending items on the
        balances of their customers; the drafts are removed, their reference is kept
        on the items."""
        Line = self.env["customer.balance.line"]
        lines = Line
        billed = self._get_balance_billing_moves()
        for move in self:
            if move in billed:
                # Its items are already on it (Invoice Now, a consolidated draft):
                # turning its lines into items again would bill them twice.
                raise UserError(
                    _(
                        "%s already bills customer balance items: it cannot be added "
                        "to a balance. Cancel or delete it to put its items back on "
                        "their balance.",
                        move.display_name,
                    )
                )
            if move.state != "draft" or move.move_type not in (
                "out_invoice",
                "out_refund",
            ):
                raise UserError(
                    _(
                        "Only draft customer invoices and credit notes can be added "
                        "to a customer balance (%s is not one).",
                        move.display_name,
                    )
                )
            vals_list = move._prepare_balance_line_values()
            if not vals_list:
                raise UserError(_("%s has no line to add.", move.display_name))
            move_lines = Line.create(vals_list)
            # A draft Odoo made for bookings given back to normal invoicing: its
            # quantities are back on a balance, no longer Odoo's to invoice.
            for item in move_lines.filtered("sale_line_id"):
                sale_line = item.sale_line_id.sudo()
                sale_line.balance_given_back_qty = max(
                    sale_line.balance_given_back_qty - item.quantity, 0.0
                )
            lines |= move_lines
        for balance, balance_lines in lines.grouped("balance_id").items():
            origin = ", ".join(sorted(set(balance_lines.mapped("origin_ref"))))
            balance.message_post(
                body=_("1 item added from draft %(origin)s.", origin=origin)
                if len(balance_lines) == 1
                else _(
                    "%(count)s items added from draft %(origin)s.",
                    count=len(balance_lines),
                    origin=origin,
                )
            )
        self.unlink()
        return lines.balance_id._get_records_action(name=_("Customer Balances"))

    def _get_balance_billing_moves(self):
        """The moves among these that bill balance items: a balance's consolidated
        invoice, or the invoice of items invoiced on their own."""
        moves = self.filtered("balance_id")
        ids = [move_id for move_id in self.ids if isinstance(move_id, int)]
        if ids:
            items = (
                self.env["customer.balance.line"]
                .sudo()
                .search([("invoice_id", "in", ids)])
            )
            moves |= items.invoice_id.with_env(self.env)
        return moves

    def action_view_balance_lines(self):
        self.ensure_one()
        return self.balance_line_ids._get_records_action(name=_("Balance Items"))

    # === BUSINESS METHODS === #

    def _prepare_balance_line_values(self):
        """Values of the items a draft invoice becomes: its product lines, with
        their taxes, discounts and analytic; a credit note's lines are credits."""
        self.ensure_one()
        sign = -1 if self.move_type == "out_refund" else 1
        service_date = self.invoice_date or self.company_id._balance_today()
        origin = self.name if self.name and self.name != "/" else self.ref
        origin = origin or _("Draft %(type)s #%(id)s", type=self.type_name, id=self.id)
        return [
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": self.currency_id.id,
                "product_id": line.product_id.id,
                "product_uom_id": line.product_uom_id.id,
                "name": line.name or line.product_id.display_name or origin,
                "quantity": line.quantity,
                "price_unit": sign * line.price_unit,
                "discount": line.discount,
                "tax_ids": [fields.Command.set(line.tax_ids.ids)],
                "analytic_distribution": line.analytic_distribution,
                "service_date": service_date,
                "origin": "manual",
                "origin_ref": origin,
                "sale_line_id": line.sale_line_ids[:1].id,
            }
            for line in self.invoice_line_ids
            if line.display_type == "product"
        ]

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if BALANCE_AMOUNT_FIELDS.intersection(vals) and self.balance_id:
            # The accountant changed the draft consolidated invoice.
            self.balance_id._refresh_invoice_totals()
        return res

    # === POSTING === #

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._balance_after_post()
        return posted

    def _balance_after_post(self):
        """Posted invoices that bill balance items: their balances' totals are the
        invoice's (changed on the draft or not), a change made on the draft is
        said on the balance, and the balances' chatter names the invoice as it
        is now called, no longer *Draft Invoice*."""
        moves = self.filtered(
            lambda move: move.move_type in ("out_invoice", "out_refund")
        )
        if not moves:
            return
        consolidated = moves.filtered("balance_id")
        consolidated.balance_id._refresh_invoice_totals()
        for move in consolidated:
            if move.balance_id._get_invoice_adjustments():
                move.balance_id._message_invoice_posted(move)
        moves._balance_rename_in_chatter()

    def _balance_rename_in_chatter(self):
        """Chatter messages and tracked values of customer balances name an
        invoice by the name it had when they were written: *Draft Invoice* for a
        consolidated invoice posted later (reviewed first, or posted after the
        message that it was created), or for items invoiced on their own. Once
        it is posted, they name it as it is called now."""
        moves = self.filtered(lambda move: move.state == "posted" and move.name)
        if not moves:
            return
        Message = self.env["mail.message"].sudo()
        # A consolidated invoice's messages are on its balance; items invoiced on
        # their own left theirs, found by the link to the invoice (rare, manual).
        consolidated = moves.filtered("balance_id")
        own = moves - consolidated
        own &= own._get_balance_billing_moves()
        domains = []
        if consolidated:
            domains.append(Domain("res_id", "in", consolidated.balance_id.ids))
        domains += [
            Domain(
                "body", "ilike", f'data-oe-model="account.move" data-oe-id="{move.id}"'
            )
            for move in own
        ]
        if domains:
            messages = Message.search(
                Domain("model", "=", "customer.balance")
                & Domain("message_type", "!=", "user_notification")
                & Domain.OR(domains)
            )
            for message in messages:
                body = str(message.body or "")
                renamed = body
                for move in moves:
                    renamed = re.sub(
                        r'(<a\b[^>]*data-oe-model="account\.move"[^>]*'
                        rf'data-oe-id="{move.id}"[^>]*>)[^<]*(</a>)',
                        lambda match, move=move: (
                            match.group(1)
                            + str(escape(move.display_name))
                            + match.group(2)
                        ),
                        renamed,
                    )
                if renamed != body:
                    message.body = Markup(renamed)  # noqa: S704 (escaped above)
        if not consolidated:
            return
        # Tracked values of the balance's consolidated invoice (a many2one keeps
        # the name it had when it was tracked).
        field = self.env["ir.model.fields"]._get("customer.balance", "invoice_id")
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                Domain("field_id", "=", field.id)
                & Domain("mail_message_id.model", "=", "customer.balance")
                & Domain("mail_message_id.res_id", "in", consolidated.balance_id.ids)
            )
        )
        names = {move.id: move.display_name for move in moves}
        for tracking in trackings:
            vals = {}
            for side in ("old", "new"):
                name = names.get(tracking[f"{side}_value_integer"])
                if name and tracking[f"{side}_value_char"] != name:
                    vals[f"{side}_value_char"] = name
            if vals:
                tracking.write(vals)

    # === CANCELLATION === #

    def button_cancel(self):
        res = super().button_cancel()
        self._balance_release_items()
        return res

    def button_draft(self):
        released = self.filtered(
            lambda move: move.state == "cancel" and move.balance_released
        )
        if released:
            raise UserError(
                _(
                    "%s billed customer balance items that wait on a balance again "
                    "since it was cancelled: it cannot be reset to draft (they would "
                    "be billed twice).",
                    released[0].display_name,
                )
            )
        return super().button_draft()

    def unlink(self):
        self._balance_release_items(deleted=True)
        return super().unlink()

    def _balance_release_items(self, deleted=False):
        """A cancelled (or, with ``deleted``, deleted) invoice bills nothing: its
        items wait again on an open balance (a consolidated balance reopens; items
        invoiced on their own go to the open balance of their period) and will be
        billed again."""
        items = self.env["customer.balance.line"].search(
            [("invoice_id", "in", self.ids), ("state", "=", "invoiced")]
        )
        if not items:
            return
        if not deleted:
            items.invoice_id.balance_released = True
        for move in self.filtered(lambda move: move.balance_id.state == "invoiced"):
            move.balance_id._reopen_after_cancelled_invoice(move)
        # Items invoiced on their own: their new balance says where they come from.
        own = {
            item: item.invoice_id for item in items if not item.invoice_id.balance_id
        }
        items._release(deleted_invoices=self if deleted else None)
        for balance, released in (
            self.env["customer.balance.line"].union(*own).grouped("balance_id").items()
        ):
            balance.message_post(
                body=_(
                    "Invoice %(invoice)s was cancelled: its items wait on this "
                    "balance again: %(items)s",
                    invoice=", ".join({own[item].display_name for item in released}),
                    items=released._describe(),
                )
            )

    # === AUTOMATIC PAYMENT === #

    def _balance_get_payment_token(self):
        """The saved payment method this consolidated invoice is charged with: the
        latest active token of the billed partner, else of its company, of a
        provider enabled (or in test mode) in the invoice's company that captures at
        once."""
        self.ensure_one()
        partner = self.balance_id.partner_id or self.partner_id
        tokens = (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", (partner | partner.commercial_partner_id).ids),
                    ("provider_id.company_id", "=", self.company_id.id),
                    ("provider_id.state", "in", ("enabled", "test")),
                    ("provider_id.capture_manually", "=", False),
                ],
                order="id desc",
            )
        )
        return tokens.sorted(lambda token: token.partner_id != partner)[:1]

    def _balance_prepare_payment_register_values(self, token):
        """Values of Odoo's *Register Payment* wizard paying the whole invoice with
        ``token``: the provider's journal and payment method, so that
        ``account_payment`` charges the token when the payment is posted."""
        self.ensure_one()
        provider = token.provider_id
        method_line = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )[:1]
        return {
            "journal_id": provider.journal_id.id,
            "payment_method_line_id": method_line.id,
            "payment_token_id": token.id,
            "amount": self.amount_residual,
            # One payment for the whole invoice, even with installments.
            "group_payment": True,
        }

    def _balance_charge_saved_payment_method(self):
        """Charge this posted consolidated invoice with the customer's saved payment
        method the way an accountant does it with *Register Payment* and a saved
        token: ``account_payment`` creates the transaction, charges it and, when
        confirmed, posts the payment reconciled with the invoice. A refused charge
        leaves the invoice open, says why on the invoice and the balance and asks
        the accountant to follow up. Returns the transaction, if any."""
        self.ensure_one()
        Transaction = self.env["payment.transaction"]
        if self.move_type != "out_invoice" or self.state != "posted":
            return Transaction
        if self.currency_id.is_zero(self.amount_residual):
            return Transaction
        token = self._balance_get_payment_token()
        if not token:
            return Transaction
        values = self._balance_prepare_payment_register_values(token)
        if not values["payment_method_line_id"]:
            _logger.warning(
                "%s: provider %s has no payment method on its journal, not charged",
                self.name,
                token.provider_id.name,
            )
            return Transaction
        payments = (
            self.env["account.payment.register"]
            .sudo()
            .with_context(active_model="account.move", active_ids=self.ids)
            .create(values)
            ._create_payments()
        )
        tx = payments.payment_transaction_id
        if tx.state in ("error", "cancel"):
            self._balance_report_failed_charge(tx)
        return tx

    def _balance_report_failed_charge(self, tx):
        """A refused charge: say why on the invoice and its balance, and schedule a
        follow-up for the accountant on the invoice."""
        self.ensure_one()
        reason = tx.state_message or dict(
            tx._fields["state"]._description_selection(self.env)
        ).get(tx.state)
        body = _(
            "Charging %(token)s for %(amount)s failed: %(reason)s The invoice stays "
            "open.",
            token=tx.token_id.display_name,
            amount=format_amount(self.env, tx.amount, tx.currency_id),
            reason=self.env["customer.balance"]._as_sentence(reason),
        )
        self.message_post(body=body)
        if self.balance_id:
            self.balance_id.message_post(body=body)
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Automatic payment failed"),
            note=reason,
            user_id=self._balance_get_payment_follow_up_user().id,
        )

    def _balance_get_payment_follow_up_user(self):
        """Who follows up a failed charge: the user who billed the balance, or when
        the bill run did, the company's first accounting manager."""
        self.ensure_one()
        user = self.env.user
        if user._is_internal() and not user._is_superuser():
            return user
        managers = self.env.ref("account.group_account_manager").sudo().all_user_ids
        managers = managers.filtered(
            lambda manager: (
                self.company_id in manager.company_ids and not manager._is_superuser()
            )
        )
        return managers.sorted("id")[:1] or user
