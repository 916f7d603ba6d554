# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import format_amount, format_datetime


class CustomerBalance(models.Model):
    """What a balance's screens say about where it stands, beyond its ``state``
    (whose keys other code relies on): carried over and where to, due since when,
    overdue, and why a due balance is not billed yet."""

    _inherit = "customer.balance"

    # The labels of the company's setting, translated: a selection given as a
    # function is shown as the function returns it.
    period_type = fields.Selection(
        selection=lambda self: (
            self.env["res.company"]
            ._fields["balance_period"]
            ._description_selection(self.env)
        ),
    )
    carried_to_ids = fields.One2many(
        comodel_name="customer.balance",
        inverse_name="carried_from_id",
        string="Carried Into",
        readonly=True,
    )
    carried_to_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Carried Over To",
        compute="_compute_carried_to_id",
        help="The balance this one's items were carried into, below the minimum "
        "invoice amount.",
    )
    display_state = fields.Selection(
        selection=[
            ("scheduled", "Scheduled"),
            ("open", "Open"),
            ("due", "Due"),
            ("overdue", "Overdue"),
            ("invoiced", "Invoiced"),
            ("carried", "Carried Over"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        compute="_compute_display_state",
        help="Scheduled: its period has not started. Due: the bill run bills it "
        "today. Overdue: due since an earlier day and still not billed (see why on "
        "the balance). Carried Over: below the minimum invoice amount, its items "
        "went into the next period's balance.",
    )
    due_since = fields.Date(
        compute="_compute_due_since",
        help="The day this open balance became due for billing.",
    )
    is_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_due_since",
        help="Due since an earlier day and still not billed.",
    )
    unbilled_reason = fields.Char(
        string="Not Billed Because",
        compute="_compute_unbilled_reason",
        help="Why this due balance has no invoice yet.",
    )

    # === COMPUTE METHODS === #

    @api.depends("carried_to_ids")
    def _compute_carried_to_id(self):
        for balance in self:
            balance.carried_to_id = balance.carried_to_ids[:1]

    @api.depends("state", "carried_to_id", "is_scheduled", "is_due", "due_since")
    def _compute_display_state(self):
        for balance in self:
            if balance.state == "cancel":
                balance.display_state = "carried" if balance.carried_to_id else "cancel"
            elif balance.state == "invoiced":
                balance.display_state = "invoiced"
            elif balance.is_overdue:
                balance.display_state = "overdue"
            elif balance.is_due:
                balance.display_state = "due"
            elif balance.is_scheduled:
                balance.display_state = "scheduled"
            else:
                balance.display_state = "open"

    @api.depends("is_due", "invoice_creation_date", "company_id")
    def _compute_due_since(self):
        for balance in self:
            due = balance.is_due and balance.invoice_creation_date
            balance.due_since = due
            balance.is_overdue = bool(due and due < balance.company_id._balance_today())

    @api.depends("is_due", "billing_error", "amount_total", "bill_run_inactive")
    @api.depends_context("lang", "tz")
    def _compute_unbilled_reason(self):
        cron = self.env.ref(
            "customer_balance.ir_cron_consolidate_due", raise_if_not_found=False
        )
        next_run = cron and cron.sudo().exists().nextcall
        for balance in self:
            balance.unbilled_reason = (
                balance._get_unbilled_reason(next_run) if balance.is_due else False
            )

    # === BUSINESS METHODS === #

    def _get_unbilled_reason(self, next_run=None):
        """Why this due balance is not billed yet, in words: the bill run failed
        on it (and leaves it out until someone retries), the bill run is
        switched off, it will be carried over, or it waits for the next run."""
        self.ensure_one()
        env = self.env
        if self.billing_error:
            # The stored error is one or more sentences of their own (the
            # blockers' reasons end with a full stop, an exception's text may
            # not): no full stop is added after it.
            return env._(
                "The bill run could not bill it: %(error)s It is left out of the "
                "bill run until the cause is fixed and someone clicks Retry Billing.",
                error=self._as_sentence(self.billing_error),
            )
        if self.bill_run_inactive:
            return env._(
                "The bill run is switched off: nothing bills it by itself. Use Bill "
                "Now, or ask an administrator to switch the bill run on."
            )
        if self._is_below_minimum():
            return env._(
                "Below the minimum invoice amount (%s): the next bill run carries it "
                "over into the next period instead of billing it.",
                format_amount(
                    env, self.company_id.balance_min_amount, self.currency_id
                ),
            )
        if next_run:
            return env._(
                "Waiting for the next bill run, %s.", format_datetime(env, next_run)
            )
        return env._("Waiting for the next bill run.")

    @api.model
    def _as_sentence(self, text):
        """``text`` (a reason, an error, one or more sentences) on one line and
        ending like a sentence, for a message that goes on after it: the full
        stop is added only when it has none of its own."""
        text = " ".join((text or "").split())
        if text and not text.endswith((".", "!", "?", "…")):
            text += "."
        return text
