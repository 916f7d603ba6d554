# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.fields import Domain
from odoo.tools import format_amount, format_date


class CustomerBalance(models.Model):
    """When a balance is billed: due, threshold, minimum, what billing decides and
    why it could not; the bill run itself is ``customer.balance.run``."""

    _inherit = "customer.balance"

    billing_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last bill run could not bill this balance. The bill run leaves "
        "it out until someone retries.",
    )
    is_due = fields.Boolean(
        string="Due",
        compute="_compute_is_due",
        search="_search_is_due",
        help="The period is over and the billing date has come: the bill run bills "
        "this balance.",
    )
    invoice_creation_date = fields.Date(
        string="Invoice Date",
        compute="_compute_invoice_creation_date",
        help="The day the consolidated invoice will be created.",
    )
    is_above_threshold = fields.Boolean(
        string="Above Threshold",
        compute="_compute_is_above_threshold",
        search="_search_is_above_threshold",
        help="The balance is open and its total reached the company's billing "
        "threshold: it is billed at once unless that failed.",
    )
    threshold_notified = fields.Boolean(
        readonly=True,
        copy=False,
        help="The chatter said that the billing threshold is reached and the bill "
        "run was asked to bill this balance.",
    )
    bill_run_inactive = fields.Boolean(
        compute="_compute_bill_run_inactive",
        help="The scheduled bill run is switched off: due balances are not billed "
        "by themselves.",
    )
    bill_run_last_failed = fields.Boolean(
        compute="_compute_bill_run_last_failed",
        help="The last bill run could not bill some balances, or it stopped before "
        "the end: see Bill Runs.",
    )

    # === COMPUTE METHODS === #

    @api.depends("state", "billing_date", "period_end", "company_id")
    def _compute_is_due(self):
        for balance in self:
            balance.is_due = balance._is_due()

    def _search_is_due(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        due = self._get_due_domain(with_errors=True, with_threshold=False)
        if (operator == "in") == (True in value):
            return due
        return ~due

    @api.depends("billing_date", "period_end")
    def _compute_invoice_creation_date(self):
        for balance in self:
            # Billed once the period is over and the billing date has come.
            balance.invoice_creation_date = balance.billing_date and max(
                balance.billing_date, balance.period_end + relativedelta(days=1)
            )

    @api.depends(
        "state",
        "amount_total",
        "currency_id",
        "company_id",
        "company_id.balance_threshold_amount",
    )
    def _compute_is_above_threshold(self):
        for balance in self:
            threshold = balance.company_id.balance_threshold_amount
            balance.is_above_threshold = bool(
                balance.state == "open"
                and threshold
                and balance.currency_id == balance.company_id.currency_id
                and balance.currency_id.compare_amounts(balance.amount_total, threshold)
                >= 0
            )

    def _search_is_above_threshold(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        # The threshold is in the company's currency, as the consolidation reads it.
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("balance_threshold_amount", ">", 0)])
        )
        above = Domain("state", "=", "open") & Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("currency_id", "=", company.currency_id.id)
            & Domain("amount_total", ">=", company.balance_threshold_amount)
            for company in companies
        )
        if (operator == "in") == (True in value):
            return above
        return ~above

    def _compute_bill_run_inactive(self):
        self.bill_run_inactive = self._is_bill_run_inactive()

    @api.model
    def _is_bill_run_inactive(self):
        """Whether the scheduled bill run is switched off."""
        cron = self.env.ref(
            "customer_balance.ir_cron_consolidate_due", raise_if_not_found=False
        )
        # Only administrators read scheduled actions; everyone sees the warning.
        return not (cron and cron.sudo().exists().active)

    def _compute_bill_run_last_failed(self):
        self.bill_run_last_failed = self.env[
            "customer.balance.run"
        ]._is_last_run_failed()

    # === ACTION METHODS === #

    def action_retry_billing(self):
        """Retry Billing: forget the error that keeps these balances out of the bill
        run, and hand the due ones to it at once: it bills them within minutes,
        in its own transaction, through the same transition as *Bill now*
        (``_consolidate``). Says in the chatter and a notification when each is
        billed."""
        self.billing_error = False
        due = self.filtered_domain(self._get_due_domain())
        bill_run_off = self._is_bill_run_inactive()
        if due and not bill_run_off:
            due._trigger_bill_run()
        notes = []
        for balance in self:
            if balance in due and bill_run_off:
                note = _(
                    "The scheduled bill run is switched off: bill it with Bill now."
                )
            elif balance in due:
                note = _("The bill run bills it within a few minutes.")
            elif balance.invoice_creation_date:
                note = _(
                    "The bill run bills it on %s.",
                    format_date(self.env, balance.invoice_creation_date),
                )
            else:
                note = _("A manual balance is billed with Bill now.")
            balance.message_post(body=_("Billing retried. %s", note))
            notes.append(note)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": _("Billing retried"),
                "message": " ".join(dict.fromkeys(notes)),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # === BUSINESS METHODS === #

    def _is_due(self):
        """The period is over and its billing date has come."""
        self.ensure_one()
        today = self.company_id._balance_today()
        return bool(
            self.state == "open"
            and self.billing_date
            and self.billing_date <= today
            and self.period_end < today
        )

    @api.model
    def _get_due_domain(self, with_errors=False, with_threshold=True, on_date=None):
        """What the bill run bills: open balances whose period is over and whose
        billing date has come, in each company's own time zone, and (with
        ``with_threshold``) open balances whose total reached the billing
        threshold; except (for the bill run) those whose billing failed.
        ``on_date`` replaces each company's today: what a run of that day bills."""
        companies = (
            self.env["res.company"].sudo().search([("balance_enabled", "=", True)])
        )
        due = Domain.OR(
            Domain("company_id", "=", company.id)
            & Domain("billing_date", "<=", on_date or company._balance_today())
            & Domain("period_end", "<", on_date or company._balance_today())
            for company in companies
        )
        if with_threshold:
            due |= self._search_is_above_threshold("in", [True])
        return (
            Domain("state", "=", "open")
            & (Domain.TRUE if with_errors else Domain("billing_error", "=", False))
            & due
        )

    def _get_bill_decision(self, on_date=None):
        """What billing each of these open balances does, written nowhere:
        ``{balance: {"outcome": outcome, "reason": reason}}``, ``outcome`` being

        - ``close``: no pending item, or they net to zero (nothing is invoiced);
        - ``carry``: the total is below the company's minimum invoice amount, the
          items go into the next period's balance (the bill run only; *Bill now*
          bills it);
        - ``fail``: ``_get_billing_blockers`` found why it cannot be billed
          (``reason``, translated); the bill run bills nothing and keeps it;
        - ``bill``: a consolidated invoice (or a credit note).

        The bill run, *Bill now* and the preview all decide with it. ``on_date``:
        the company-local day billing happens (today by default), for a preview
        of another day."""
        blockers = self._get_billing_blockers(on_date=on_date)
        decisions = {}
        for balance in self:
            reasons = blockers.get(balance)
            if not balance.item_count or balance.currency_id.is_zero(
                balance.amount_total
            ):
                outcome, reason = "close", ""
            elif balance._is_below_minimum():
                outcome = "carry"
                reason = _(
                    "Below the minimum invoice amount (%s).",
                    format_amount(
                        self.env,
                        balance.company_id.balance_min_amount,
                        balance.currency_id,
                    ),
                )
            elif reasons:
                outcome, reason = "fail", "\n".join(reasons)
            else:
                outcome, reason = "bill", ""
            decisions[balance] = {"outcome": outcome, "reason": reason}
        return decisions

    def _get_billing_blockers(self, on_date=None):
        """Why each of these balances cannot be billed: ``{balance: [reason]}``
        (translated reasons; a balance without any may be missing). Only what
        creating its consolidated invoice would really fail on, checked cheaply
        for the whole set; modules extend it. ``on_date``: see
        ``_get_bill_decision``."""
        blockers = defaultdict(list)
        # A branch invoices in its own sales journals or its parents'.
        journals = (
            self.env["account.journal"]
            .sudo()
            ._read_group(
                [
                    ("type", "=", "sale"),
                    ("company_id", "in", self.company_id.parent_ids.ids),
                ],
                ["company_id"],
            )
        )
        with_journal = self.env["res.company"].union(
            *(company for (company,) in journals)
        )
        for balance in self:
            if not balance.company_id.parent_ids & with_journal:
                blockers[balance].append(
                    _(
                        "%s has no sales journal to create the consolidated "
                        "invoice in.",
                        balance.company_id.name,
                    )
                )
        return dict(blockers)

    def _is_below_minimum(self):
        self.ensure_one()
        minimum = self.company_id.balance_min_amount
        currency = self.currency_id
        return bool(
            minimum
            and currency.compare_amounts(self.amount_total, 0.0) > 0
            and currency.compare_amounts(self.amount_total, minimum) < 0
        )

    def _store_billing_error(self, message):
        """Billing this balance failed (``message``): keep the reason on it and in
        its chatter. The bill run leaves it out until someone retries."""
        self.ensure_one()
        self.billing_error = message
        self.message_post(
            body=_("The bill run could not bill this balance: %s", message)
        )

    def _notify_threshold_reached(self):
        """Open balances whose total reached the billing threshold: say so once in
        their chatter and hand them to the bill run, which bills them in its own
        transaction (``_get_due_domain`` includes them). Never bills here: this
        runs inside the request recording a charge (an order confirmation, a
        checkout), which must not fail, post or charge because billing would."""
        if not any(balance.company_id.balance_threshold_amount for balance in self):
            return  # no threshold: nothing to compute on the hot path
        reached = self.filtered(
            lambda balance: (
                balance.is_above_threshold and not balance.threshold_notified
            )
        )
        if not reached:
            return
        for balance in reached:
            balance.message_post(
                body=_(
                    "The billing threshold (%s) is reached: the bill run bills this "
                    "balance now.",
                    format_amount(
                        self.env,
                        balance.company_id.balance_threshold_amount,
                        balance.currency_id,
                    ),
                )
            )
        reached.threshold_notified = True
        reached._trigger_bill_run()

    def _trigger_bill_run(self):
        """Hand these balances (which reached the billing threshold) to the bill run,
        which bills them in its own transaction. The hook a job queue overrides."""
        self.env.ref("customer_balance.ir_cron_consolidate_due")._trigger()

    @api.model
    def _cron_consolidate_due(self, batch_size=100):
        """The bill run, under its former name: ``customer.balance.run.
        _cron_bill_run``."""
        return self.env["customer.balance.run"]._cron_bill_run(batch_size=batch_size)
