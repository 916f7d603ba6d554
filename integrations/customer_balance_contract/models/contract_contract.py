# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import _, models
from odoo.tools import format_amount, format_date


class ContractContract(models.Model):
    _inherit = "contract.contract"

    # === BUSINESS METHODS === #

    def _prepare_recurring_invoices_values(self, date_ref=False):
        """Override of `contract`: the charges of contracts whose customer uses
        customer balances (with *Include subscription invoices*) become pending
        items with origin *subscription* on the balance of their period instead of
        invoice values. The contract's dates advance as for an invoice (``super``
        does it), so the next run bills the next period."""
        invoices_values = []
        for contract in self:
            # The periods the lines bill, read before ``super`` moves them on.
            periods = contract._balance_periods_to_invoice(date_ref)
            contract_values = super(
                ContractContract, contract
            )._prepare_recurring_invoices_values(date_ref)
            invoices_values += [
                values
                for values in contract_values
                if not contract._balance_take_over_invoice_values(values, periods)
            ]
        return invoices_values

    def _balance_periods_to_invoice(self, date_ref=False):
        """``{contract.line: (first day, last day)}``: the period each line of
        this contract bills next, when its charges may go on balances."""
        self.ensure_one()
        date_ref = date_ref or self.recurring_next_date
        if not date_ref or not self._balance_takes_subscriptions():
            return {}
        return {
            line: line._get_period_to_invoice(
                line.last_date_invoiced, line.recurring_next_date
            )[:2]
            for line in self._get_lines_to_invoice(date_ref)
            if not line.display_type
        }

    def _balance_collectable(self, date_ref):
        """Whether the bill run collects this due contract's charge on
        ``date_ref``: its charges go on the customer's balance (a customer not on
        balances keeps her contract's own invoice and job) and it has a line to
        bill on that day (a contract that ended has none)."""
        self.ensure_one()
        if not self._balance_takes_subscriptions():
            return False
        if not self._get_lines_to_invoice(date_ref):
            return False
        return not self.env["customer.balance"]._get_ineligibility_reason(
            self.invoice_partner_id or self.partner_id,
            self.company_id,
            from_portal=False,
        )

    def _balance_collect(self, date_ref):
        """Bill these contracts' charges due on ``date_ref`` as their own job
        does (one period each): each in a savepoint, a failure kept on its
        contract as the job keeps it, the others billed all the same."""
        for contract in self:
            try:
                with self.env.cr.savepoint():
                    contract._recurring_create_invoice(date_ref)
                contract._clear_invoice_generation_error()
            except Exception as exc:  # noqa: BLE001 - kept on the contract
                contract._record_invoice_generation_error(exc, "invoice")

    def _balance_takes_subscriptions(self):
        """Whether the charges of this contract may go on customer balances."""
        self.ensure_one()
        company = self.company_id
        return (
            self.contract_type == "sale"
            and company.balance_enabled
            and company.balance_include_subscriptions
        )

    def _balance_take_over_invoice_values(self, invoice_values, periods=None):
        """Put the charge described by ``invoice_values`` (what the contract would
        invoice) on the customer's balance. Returns the items created, none when
        the customer does not use balances: the contract invoices it then.
        ``periods``: the period each contract line bills (see
        ``_balance_periods_to_invoice``)."""
        self.ensure_one()
        Item = self.env["customer.balance.line"]
        if (
            invoice_values.get("move_type") != "out_invoice"
            or not self._balance_takes_subscriptions()
        ):
            return Item
        vals_list = self._prepare_balance_subscription_values(
            invoice_values, periods or {}
        )
        if not vals_list or Item.new(vals_list[0])._get_balance_ineligibility_reason():
            return Item
        items = Item.create(vals_list)
        self._balance_log_take_over(items)
        return items

    def _prepare_balance_subscription_values(self, invoice_values, periods=None):
        """Values of the items of a contract's charge: the lines the invoice would
        have, as Odoo's invoice computes them (taxes of the fiscal position,
        analytic).

        Which balance bills each charge (seed 003, Spacebring): the invoice made
        when a period starts holds that period's *pre-paid* membership with the
        bookings of the period that just ended, and a *post-paid* membership
        with the bookings of the period it covers. So a charge is dated on the
        first day of the period it covers (``service_date``); a pre-paid one
        goes on the balance of the day before (``balance_period_date``): the
        balance billed when its period starts."""
        self.ensure_one()
        periods = periods or {}
        # An invoice in memory only: Odoo computes its lines, nothing is created.
        draft = (
            self.env["account.move"]
            .with_company(self.company_id)
            .new(dict(invoice_values))
        )
        lines = draft.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        vals_list = []
        for vals, line in zip(draft._prepare_balance_line_values(), lines, strict=True):
            contract_line = line.contract_line_id
            first_day = periods.get(contract_line, (False,))[0]
            if first_day:
                vals["service_date"] = first_day
                if contract_line.recurring_invoicing_type == "pre-paid":
                    vals["balance_period_date"] = first_day - timedelta(days=1)
            vals_list.append(
                {**vals, "origin": "subscription", "origin_ref": self.name}
            )
        return vals_list

    def _balance_log_take_over(self, items):
        """Say on the balance and on the contract that the charge waits on the
        balance and is paid with the consolidated invoice, created when."""
        self.ensure_one()
        for balance, balance_items in items.grouped("balance_id").items():
            payment_date = balance.invoice_creation_date
            when = (
                _("on %s", format_date(self.env, payment_date))
                if payment_date
                else _("when the balance is billed")
            )
            balance.message_post(
                body=_(
                    "%(count)s subscription items added from %(origin)s.",
                    count=len(balance_items),
                    origin=self.name,
                )
            )
            self.message_post(
                body=_(
                    "Charge of %(amount)s added to customer balance %(balance)s "
                    "instead of a separate invoice: it is paid with the "
                    "consolidated invoice, created %(when)s.",
                    amount=format_amount(
                        self.env,
                        sum(balance_items.mapped("price_total")),
                        balance.currency_id,
                    ),
                    balance=balance._get_html_link(),
                    when=when,
                )
            )
