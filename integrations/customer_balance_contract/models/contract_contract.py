# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
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
            contract_values = super(
                ContractContract, contract
            )._prepare_recurring_invoices_values(date_ref)
            invoices_values += [
                values
                for values in contract_values
                if not contract._balance_take_over_invoice_values(values)
            ]
        return invoices_values

    def _balance_takes_subscriptions(self):
        """Whether the charges of this contract may go on customer balances."""
        self.ensure_one()
        company = self.company_id
        return (
            self.contract_type == "sale"
            and company.balance_enabled
            and company.balance_include_subscriptions
        )

    def _balance_take_over_invoice_values(self, invoice_values):
        """Put the charge described by ``invoice_values`` (what the contract would
        invoice) on the customer's balance. Returns the items created, none when
        the customer does not use balances: the contract invoices it then."""
        self.ensure_one()
        Item = self.env["customer.balance.line"]
        if (
            invoice_values.get("move_type") != "out_invoice"
            or not self._balance_takes_subscriptions()
        ):
            return Item
        vals_list = self._prepare_balance_subscription_values(invoice_values)
        if not vals_list or Item.new(vals_list[0])._get_balance_ineligibility_reason():
            return Item
        items = Item.create(vals_list)
        self._balance_log_take_over(items)
        return items

    def _prepare_balance_subscription_values(self, invoice_values):
        """Values of the items of a contract's charge: the lines the invoice would
        have, as Odoo's invoice computes them (taxes of the fiscal position,
        analytic), dated on the invoice date of the charge."""
        self.ensure_one()
        # An invoice in memory only: Odoo computes its lines, nothing is created.
        draft = (
            self.env["account.move"]
            .with_company(self.company_id)
            .new(dict(invoice_values))
        )
        return [
            {
                **vals,
                "origin": "subscription",
                "origin_ref": self.name,
            }
            for vals in draft._prepare_balance_line_values()
        ]

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
