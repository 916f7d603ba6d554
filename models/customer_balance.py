# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from psycopg2 import errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_date


class CustomerBalance(models.Model):
    """An open account of pending items for one billed partner, company, currency and
    billing period; billed as one consolidated invoice once the period is over."""

    _name = "customer.balance"
    _description = "Customer Balance"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        index="trigram",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The partner the consolidated invoice is made for: the contact, or its "
        "company when balances are kept per company.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    period_type = fields.Selection(
        selection=lambda self: (
            self.env["res.company"]._fields["balance_period"].selection
        ),
        string="Period Kind",
        required=True,
        default="month",
        readonly=True,
        help="The billing period this balance was opened with. Changing the setting "
        "later does not change open balances.",
    )
    period_start = fields.Date(readonly=True, index=True)
    period_end = fields.Date(readonly=True)
    billing_date = fields.Date(
        readonly=True,
        index=True,
        tracking=True,
        help="The day the consolidated invoice is created: end of the period plus the "
        "billing delay. Empty for manual balances.",
    )
    state = fields.Selection(
        selection=[
            ("open", "Open"),
            ("invoiced", "Invoiced"),
            ("cancel", "Cancelled"),
        ],
        required=True,
        default="open",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
    )
    is_scheduled = fields.Boolean(
        string="Scheduled",
        compute="_compute_is_scheduled",
        search="_search_is_scheduled",
        help="The period of this balance has not started yet.",
    )
    line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        inverse_name="balance_id",
        string="Items",
    )
    invoice_id = fields.Many2one(
        comodel_name="account.move",
        string="Consolidated Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        check_company=True,
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount",
        compute="_compute_amounts",
        store=True,
        tracking=True,
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )
    item_count = fields.Integer(string="Items Count", compute="_compute_item_count")
    carried_from_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Carried Over From",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A balance below the minimum amount that was carried into this one.",
    )

    _one_open_balance_per_period = models.UniqueIndex(
        "(partner_id, company_id, currency_id,"
        " COALESCE(period_start, '0001-01-01'::date))"
        " WHERE state = 'open'",
        "A customer can only have one open balance per company, currency and period.",
    )
    _one_balance_per_invoice = models.UniqueIndex(
        "(invoice_id) WHERE invoice_id IS NOT NULL",
        "An invoice can only be the consolidated invoice of one balance.",
    )
    _period_consistent = models.Constraint(
        "CHECK (period_end IS NULL OR period_start IS NULL"
        " OR period_end >= period_start)",
        "The end of a billing period cannot be before its start.",
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "line_ids.state",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.discount",
        "line_ids.tax_ids",
        "line_ids.currency_id",
        "currency_id",
    )
    def _compute_amounts(self):
        """Totals of the pending items, computed over the whole set at once by the tax
        engine, as the consolidated invoice will compute them (so that rounding
        globally gives the same cents as the invoice)."""
        for balance in self:
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            totals = balance._compute_totals(lines)
            balance.amount_untaxed = totals["base_amount_currency"]
            balance.amount_tax = totals["tax_amount_currency"]
            balance.amount_total = totals["total_amount_currency"]

    @api.depends("line_ids.state")
    def _compute_item_count(self):
        counts = dict(
            self.env["customer.balance.line"]._read_group(
                [("balance_id", "in", self.ids), ("state", "=", "pending")],
                ["balance_id"],
                ["__count"],
            )
        )
        for balance in self:
            balance.item_count = counts.get(balance._origin, 0)

    @api.depends("period_start", "company_id")
    def _compute_is_scheduled(self):
        for balance in self:
            today = balance.company_id._balance_today()
            balance.is_scheduled = bool(
                balance.period_start and balance.period_start > today
            )

    def _search_is_scheduled(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        # One "today" per company: their time zones may differ.
        scheduled = Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("period_start", ">", company._balance_today())
            for company in self.env["res.company"].sudo().search([])
        )
        if (operator == "in") == (True in value):
            return scheduled
        return ~scheduled

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for balance in self:
            balance.access_url = f"/my/balances/{balance.id}"
        return res

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = (
                    self.env["res.company"].browse(vals.get("company_id"))
                    or self.env.company
                )
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("customer.balance")
                    or "/"
                )
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if any(balance.state == "invoiced" for balance in self):
            raise UserError(_("A balance that has been invoiced cannot be deleted."))
        if self.line_ids.filtered(lambda line: line.state == "invoiced"):
            raise UserError(_("A balance with invoiced items cannot be deleted."))

    # === ACTION METHODS === #

    def action_view_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_line"
        )
        action["domain"] = [("balance_id", "=", self.id)]
        action["context"] = {"default_balance_id": self.id, "search_default_pending": 1}
        return action

    def action_view_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def action_cancel(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel Balance"),
            "res_model": "customer.balance.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_balance_ids": [Command.set(self.ids)]},
        }

    def action_add_entry(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_entry"
        )
        action["context"] = {
            "default_balance_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        return action

    # === BUSINESS METHODS === #

    @api.model
    def _create_for_assignment(self, vals_list):
        """Create the balances items were assigned to. Another transaction may have
        created the same balance meanwhile: the unique index refuses the duplicate
        and the transaction is retried as a concurrency conflict, after which the
        other balance is found."""
        try:
            with self.env.cr.savepoint():
                balances = self.create(vals_list)
                balances.flush_recordset()
        except errors.UniqueViolation as error:
            if "one_open_balance_per_period" not in str(error):
                raise
            raise errors.SerializationFailure(
                "customer balance created concurrently, retrying"
            ) from error
        return balances

    def _cancel(self, reason):
        """Cancel open balances and their pending items, saying why in the chatter."""
        for balance in self:
            if balance.state != "open":
                raise UserError(
                    _("Only open balances can be cancelled (%s).", balance.name)
                )
        pending = self.line_ids.filtered(lambda line: line.state == "pending")
        pending.write({"state": "cancel"})
        self.write({"state": "cancel"})
        for balance in self:
            balance.message_post(
                body=_("Balance cancelled: %s", reason),
                subtype_xmlid="mail.mt_note",
            )

    def _get_invoice_partner(self):
        """The address the consolidated invoice goes to: the billed partner's
        invoice address."""
        self.ensure_one()
        return self.env["res.partner"].browse(
            self.partner_id.address_get(["invoice"])["invoice"]
        )

    def _prepare_invoice_values(self, lines, invoice_date):
        """Header values of an invoice for ``lines`` (items of this balance), in the
        way ``sale.order._prepare_invoice`` prepares one."""
        self.ensure_one()
        partner = self._get_invoice_partner()
        fiscal_position = (
            self.env["account.fiscal.position"]
            .with_company(self.company_id)
            ._get_fiscal_position(partner)
        )
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": invoice_date,
            "invoice_origin": self.name,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": self.partner_id.with_company(
                self.company_id
            ).property_payment_term_id.id,
            "invoice_line_ids": [],
        }

    def _get_section_key(self, line):
        """Items are grouped on the invoice by contact and booking."""
        return (line.partner_id, line.sale_line_id.order_id)

    def _prepare_section_name(self, line):
        partner, order = self._get_section_key(line)
        if order:
            return _(
                "%(contact)s — %(order)s (%(date)s)",
                contact=partner.name,
                order=order.name,
                date=format_date(self.env, order.date_order),
            )
        return partner.name

    def _prepare_invoice_lines(self, lines):
        """Invoice line commands for ``lines``: a section per contact and booking,
        then the items. Returns the commands and, per item, its line's sequence."""
        commands = []
        sequences = {}
        sequence = 0
        ordered = lines.sorted(
            lambda line: (
                line.partner_id.name or "",
                line.sale_line_id.order_id.id or 0,
                line.service_date,
                line.id,
            )
        )
        for _key, section_lines in ordered.grouped(self._get_section_key).items():
            sequence += 1
            commands.append(
                Command.create(
                    {
                        "display_type": "line_section",
                        "name": self._prepare_section_name(section_lines[0]),
                        "sequence": sequence,
                    }
                )
            )
            for line in section_lines:
                sequence += 1
                sequences[line] = sequence
                commands.append(
                    Command.create(line._prepare_invoice_line_values(sequence=sequence))
                )
        return commands, sequences

    def _invoice_items(self, lines, invoice_date=None, consolidate=False):
        """Invoice ``lines`` (pending items of this balance) as one customer invoice,
        or credit note when their net total is negative; link each item to its
        invoice line and mark it invoiced. Returns the invoice (empty when the items
        net to zero)."""
        self.ensure_one()
        lines = lines.filtered(lambda line: line.state == "pending")
        if not lines:
            return self.env["account.move"]
        invoice_date = invoice_date or self.company_id._balance_today()
        totals = self._compute_totals(lines)
        currency = self.currency_id
        values = self._prepare_invoice_values(lines, invoice_date)
        commands, sequences = self._prepare_invoice_lines(lines)
        if currency.compare_amounts(totals["total_amount_currency"], 0.0) < 0:
            values["move_type"] = "out_refund"
            for command in commands:
                line_values = command[2]
                if line_values.get("display_type") == "product":
                    line_values["price_unit"] = -line_values["price_unit"]
        values["invoice_line_ids"] = commands
        if consolidate:
            values["balance_id"] = self.id
        invoice = self.env["account.move"].with_company(self.company_id).create(values)
        invoice_lines = {
            line.sequence: line
            for line in invoice.invoice_line_ids
            if line.display_type == "product"
        }
        for line in lines:
            line.invoice_line_id = invoice_lines[sequences[line]]
        lines.state = "invoiced"
        return invoice

    def _compute_totals(self, lines):
        """Tax totals of ``lines`` over the whole set, as the invoice computes them."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        return AccountTax._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id,
            company=self.company_id,
        )

    def _get_portal_return_action(self):
        return self.env.ref("customer_balance.action_customer_balance")
