# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date


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

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        """Subscription invoices of customers on balances never come into being as
        invoices: they become items as soon as they are created. Returns the other
        moves only (the recurring source sees no invoice for the charges that went
        on balances, as when it skips a contract)."""
        moves = super().create(vals_list)
        return moves - moves._balance_take_over_subscription_invoices()

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
        for move in self:
            move.balance_can_add = (
                move.state == "draft"
                and move.move_type in ("out_invoice", "out_refund")
                and move.company_id.balance_enabled
                and not move.balance_id
            )

    # === ACTION METHODS === #

    def action_add_to_balance(self):
        """Turn draft customer invoices and credit notes into pending items on the
        balances of their customers; the drafts are removed, their reference is kept
        on the items."""
        Line = self.env["customer.balance.line"]
        lines = Line
        for move in self:
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
            lines |= Line.create(vals_list)
        for balance, balance_lines in lines.grouped("balance_id").items():
            balance.message_post(
                body=_(
                    "%(count)s items added from draft %(origin)s.",
                    count=len(balance_lines),
                    origin=", ".join(sorted(set(balance_lines.mapped("origin_ref")))),
                )
            )
        self.unlink()
        return lines.balance_id._get_records_action(name=_("Customer Balances"))

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

    # === SUBSCRIPTIONS === #

    def _is_balance_subscription_invoice(self):
        """Whether this invoice was made by a recurring source (a subscription).

        The one hook for recurring sources: override it to return ``True`` for the
        invoices yours creates. With *Include subscription invoices*, such an invoice
        of an eligible customer becomes items on the balance of its period the
        moment it is created, and is paid with the consolidated invoice.

        Recognises the invoices of OCA ``contract``, whose lines point at the
        contract lines they bill, without depending on it: the ``contract_line_id``
        field exists only while ``contract`` is installed. ``contract`` creates its
        invoices in one ``account.move.create`` once it has advanced the contracts'
        invoiced dates, so taking the drafts over right there keeps its dates as
        they would be and never lets a second invoice exist; posting is too late (a
        posted invoice is numbered and may have been sent), and overriding the
        contract itself would need a dependency or a bridge module.
        """
        self.ensure_one()
        if "contract_line_id" not in self.env["account.move.line"]._fields:
            return False
        return any(line.contract_line_id for line in self.invoice_line_ids)

    def _balance_take_over_subscription_invoices(self):
        """Turn the fresh subscription invoices among ``self`` into items with
        origin *subscription* on their customers' balances, and delete the drafts.
        Invoices of customers not on balances, or of companies that keep
        subscriptions apart, stay invoices. Returns the invoices taken over."""
        invoices = self.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.state == "draft"
                and not move.balance_id
                and move.company_id.balance_enabled
                and move.company_id.balance_include_subscriptions
                and move._is_balance_subscription_invoice()
            )
        )
        Line = self.env["customer.balance.line"]
        taken = self.browse()
        for invoice in invoices:
            vals_list = [
                {
                    **vals,
                    "origin": "subscription",
                    "origin_ref": invoice.invoice_origin or vals["origin_ref"],
                }
                for vals in invoice._prepare_balance_line_values()
            ]
            if (
                not vals_list
                or Line.new(vals_list[0])._get_balance_ineligibility_reason()
            ):
                continue
            lines = Line.create(vals_list)
            invoice._balance_log_subscription_take_over(lines)
            taken |= invoice
        taken.unlink()
        return taken

    def _balance_subscription_sources(self):
        """The records that made this subscription invoice (OCA contracts): they
        are told that their charge went on a balance."""
        self.ensure_one()
        if "contract_line_id" not in self.env["account.move.line"]._fields:
            return []
        return list(self.invoice_line_ids.contract_line_id.contract_id)

    def _balance_log_subscription_take_over(self, lines):
        """Say on the balance and on the recurring source that the charge of this
        invoice waits on the balance and is paid with the consolidated invoice."""
        self.ensure_one()
        for balance, balance_lines in lines.grouped("balance_id").items():
            payment_date = balance.invoice_creation_date
            when = (
                _("on %s", format_date(self.env, payment_date))
                if payment_date
                else _("when the balance is billed")
            )
            balance.message_post(
                body=_(
                    "%(count)s subscription items added from %(origin)s.",
                    count=len(balance_lines),
                    origin=self.invoice_origin or self.display_name,
                )
            )
            for source in self._balance_subscription_sources():
                source.message_post(
                    body=_(
                        "Charge of %(amount)s added to customer balance %(balance)s "
                        "instead of a separate invoice: it is paid with the "
                        "consolidated invoice, created %(when)s.",
                        amount=format_amount(
                            self.env,
                            sum(balance_lines.mapped("price_total")),
                            balance.currency_id,
                        ),
                        balance=balance._get_html_link(),
                        when=when,
                    )
                )

    # === CANCELLATION === #

    def button_cancel(self):
        res = super().button_cancel()
        self._balance_release_items()
        return res

    def unlink(self):
        self._balance_release_items()
        return super().unlink()

    def _balance_release_items(self):
        """A cancelled or deleted invoice bills nothing: its items wait again on an
        open balance (the consolidated balance reopens) and will be billed again."""
        items = self.env["customer.balance.line"].search(
            [("invoice_id", "in", self.ids), ("state", "=", "invoiced")]
        )
        if not items:
            return
        Balance = self.env["customer.balance"]
        for move in self.filtered(lambda move: move.balance_id.state == "invoiced"):
            balance = move.balance_id
            reopened = not Balance.search_count(
                [
                    ("partner_id", "=", balance.partner_id.id),
                    ("company_id", "=", balance.company_id.id),
                    ("currency_id", "=", balance.currency_id.id),
                    ("period_start", "=", balance.period_start),
                    ("state", "=", "open"),
                ],
                limit=1,
            )
            # Another open balance of the same period takes the items otherwise.
            balance.write(
                {"state": "open" if reopened else "cancel", "invoice_id": False}
            )
            balance.message_post(
                body=_(
                    "Consolidated invoice %s was cancelled: its items wait to be "
                    "billed again.",
                    move._get_html_link(),
                )
            )
        stay = items.filtered(lambda item: item.balance_id.state == "open")
        stay.write({"state": "pending", "invoice_line_id": False})
        moved = items - stay
        moved.write({"state": "pending", "invoice_line_id": False, "balance_id": False})
        moved._assign_balance()
