# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, fields, models
from odoo.fields import Domain

OUTCOMES = [
    ("bill", "Bill"),
    ("carry", "Carry Over"),
    ("fail", "Fail"),
    # Not one of DESIGN's three: items netting to zero are closed without an
    # invoice, which is neither billed nor carried nor failed.
    ("close", "Close (Nothing to Bill)"),
]


class CustomerBalanceRunPreview(models.TransientModel):
    """What the bill run would do on a given day, balance by balance, decided by
    the bill run's own selection (``customer.balance._get_due_domain``) and
    decision (``customer.balance._get_bill_decision``) and written nowhere: no
    invoice, no item, no invoice number, no state change."""

    _name = "customer.balance.run.preview"
    _description = "Bill Run Preview"

    date = fields.Date(
        string="Bill Run Of",
        required=True,
        default=lambda self: self._default_date(),
        help="The day of the bill run to preview (in each company's time zone). "
        "By default the next scheduled bill run.",
    )
    computed_date = fields.Date(
        string="Previewed Day",
        readonly=True,
        help="The day the lines below were computed for.",
    )
    line_ids = fields.One2many(
        comodel_name="customer.balance.run.preview.line",
        inverse_name="wizard_id",
        string="Balances",
        readonly=True,
    )
    line_count = fields.Integer(string="Balances Count", compute="_compute_counts")
    bill_count = fields.Integer(string="To Bill", compute="_compute_counts")
    carry_count = fields.Integer(string="To Carry Over", compute="_compute_counts")
    fail_count = fields.Integer(string="Would Fail", compute="_compute_counts")
    close_count = fields.Integer(string="Nothing to Bill", compute="_compute_counts")
    waiting_count = fields.Integer(
        string="Waiting for a Retry",
        readonly=True,
        help="Due balances whose billing failed before: the bill run leaves them "
        "out until someone retries them.",
    )
    totals_html = fields.Html(
        string="Totals",
        compute="_compute_totals_html",
        sanitize=False,
        help="Per currency: what would be billed, carried over and fail.",
    )

    # === DEFAULT METHODS === #

    @api.model
    def _default_date(self):
        """The day of the next scheduled bill run in the company's time zone
        (today when it is overdue or switched off)."""
        company = self.env.company
        today = company._balance_today()
        cron = self.env.ref(
            "customer_balance.ir_cron_consolidate_due", raise_if_not_found=False
        )
        cron = cron and cron.sudo()
        if not cron or not cron.active or not cron.nextcall:
            return today
        return max(company._balance_local_date(cron.nextcall), today)

    # === COMPUTE METHODS === #

    @api.depends("line_ids.outcome")
    def _compute_counts(self):
        counts = defaultdict(int)
        real = self.filtered("id")
        if real:
            for wizard, outcome, count in self.env[
                "customer.balance.run.preview.line"
            ]._read_group(
                [("wizard_id", "in", real.ids)],
                ["wizard_id", "outcome"],
                ["__count"],
            ):
                counts[wizard, outcome] = count
        for wizard in self:
            origin = wizard._origin
            wizard.bill_count = counts[origin, "bill"]
            wizard.carry_count = counts[origin, "carry"]
            wizard.fail_count = counts[origin, "fail"]
            wizard.close_count = counts[origin, "close"]
            wizard.line_count = sum(counts[origin, key] for key, _label in OUTCOMES)

    @api.depends("line_ids.outcome", "line_ids.amount_total")
    def _compute_totals_html(self):
        for wizard in self:
            wizard.totals_html = (
                wizard._render_totals() if wizard._origin.computed_date else False
            )

    # === ACTION METHODS === #

    def action_compute(self):
        """Preview the bill run of the chosen day, and show it."""
        self.ensure_one()
        self._compute_lines()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Bill Run Preview"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"dialog_size": "extra-large"},
        }

    def action_view_lines(self):
        """The previewed balances as a list, to filter, group and export."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_run_preview_line"
        )
        action["domain"] = [("wizard_id", "=", self.id)]
        action["name"] = self.env._(
            "Bill Run Preview of %s",
            fields.Date.to_string(self.computed_date),
        )
        return action

    # === BUSINESS METHODS === #

    def _get_balances_domain(self):
        """The balances the bill run takes on the chosen day (its own selection),
        in the companies the user works in."""
        self.ensure_one()
        due = self.env["customer.balance"]._get_due_domain(on_date=self.date)
        return due & Domain("company_id", "in", self.env.companies.ids)

    def _prepare_line_values(self, balance, decision, notes):
        """Values of the preview line of ``balance``, given the bill run's
        ``decision`` for it and the preview's ``notes``."""
        outcome = decision["outcome"]
        reason = decision["reason"]
        if outcome == "close" and not reason:
            # One string per case (Odoo has no plural forms in Python).
            if not balance.item_count:
                reason = self.env._(
                    "Nothing to bill: no pending item; closed without an invoice."
                )
            elif balance.item_count == 1:
                reason = self.env._(
                    "Nothing to bill: its only item is zero; closed without an invoice."
                )
            else:
                reason = self.env._(
                    "Nothing to bill: the items net to zero; closed without an invoice."
                )
        elif outcome == "bill":
            reason = "\n".join(filter(None, [reason, *notes]))
        return {
            "wizard_id": self.id,
            "balance_id": balance.id,
            "partner_id": balance.partner_id.id,
            "company_id": balance.company_id.id,
            "billing_date": balance.billing_date,
            "item_count": balance.item_count,
            "outcome": outcome,
            "reason": reason or False,
            "amount_total": balance.amount_total,
            "currency_id": balance.currency_id.id,
        }

    def _compute_lines(self):
        """Replace the lines by what the bill run would do on ``date``: one
        search, one decision for the whole set, the stored totals, one insert."""
        self.ensure_one()
        Balance = self.env["customer.balance"]
        self.line_ids.unlink()
        balances = Balance.search(self._get_balances_domain(), order="billing_date, id")
        decisions = balances._get_bill_decision(on_date=self.date)
        notes = balances._get_billing_notes(on_date=self.date)
        self.env["customer.balance.run.preview.line"].create(
            [
                self._prepare_line_values(
                    balance, decisions[balance], notes.get(balance, [])
                )
                for balance in balances
            ]
        )
        waiting = Balance.search_count(
            Balance._get_due_domain(with_errors=True, on_date=self.date)
            & Domain("billing_error", "!=", False)
            & Domain("company_id", "in", self.env.companies.ids)
        )
        self.write({"computed_date": self.date, "waiting_count": waiting})

    def _get_totals(self):
        """``[(currency, {outcome: (count, amount)})]``, per currency of the
        lines, from one grouped query."""
        self.ensure_one()
        totals = defaultdict(dict)
        for currency, outcome, count, amount in self.env[
            "customer.balance.run.preview.line"
        ]._read_group(
            [("wizard_id", "=", self._origin.id)],
            ["currency_id", "outcome"],
            ["__count", "amount_total:sum"],
        ):
            totals[currency][outcome] = (count, amount)
        return sorted(totals.items(), key=lambda item: item[0].name)

    def _render_totals(self):
        """The totals per currency, rendered by the QWeb template
        ``customer_balance.customer_balance_run_preview_totals``."""
        self.ensure_one()
        return self.env["ir.qweb"]._render(
            "customer_balance.customer_balance_run_preview_totals",
            {
                "totals": self._get_totals(),
                "outcomes": [
                    (key, label)
                    for key, label in self.env["customer.balance.run.preview.line"]
                    ._fields["outcome"]
                    ._description_selection(self.env)
                ],
            },
        )


class CustomerBalanceRunPreviewLine(models.TransientModel):
    """One balance the bill run would take: what it would do with it, and why."""

    _name = "customer.balance.run.preview.line"
    _description = "Bill Run Preview Line"
    _order = "wizard_id, billing_date, id"

    wizard_id = fields.Many2one(
        comodel_name="customer.balance.run.preview",
        required=True,
        ondelete="cascade",
        index=True,
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", readonly=True
    )
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    billing_date = fields.Date(readonly=True)
    item_count = fields.Integer(string="Items", readonly=True)
    outcome = fields.Selection(
        selection=OUTCOMES,
        required=True,
        readonly=True,
        help="Bill: a consolidated invoice (a credit note when negative). Carry "
        "over: below the minimum amount, into the next period. Fail: the bill run "
        "would not bill it, for the reason given. Close: the items net to zero.",
    )
    reason = fields.Text(
        readonly=True,
        help="Why it carries over or would fail; what to know about one billed.",
    )
    amount_total = fields.Monetary(string="Total", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
