# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.fields import Domain

# A contract overdue by several periods bills one period per contract run: the
# bill run collects up to this many periods of it at once.
MAX_PERIODS = 24


class CustomerBalanceRun(models.Model):
    _inherit = "customer.balance.run"

    @api.model
    def _collect_due_charges(self):
        """Override of `customer_balance`: before the balances are billed, the
        subscription charges due on the billing date (today, in each company's
        time zone) are collected onto them, as the contract's own job would, so
        that the invoice made when a period starts holds that period's pre-paid
        membership, whichever daily job runs first. The contracts' dates advance
        as with their own job: run again, or the contract's job after it, finds
        nothing more to bill."""
        res = super()._collect_due_charges()
        Contract = self.env["contract.contract"]
        companies = self.env["res.company"].search(
            [
                ("balance_enabled", "=", True),
                ("balance_include_subscriptions", "=", True),
            ]
        )
        for company in companies:
            date_ref = company._balance_today()
            for _period in range(MAX_PERIODS):
                contracts = Contract.search(
                    Domain.AND(
                        [
                            Contract._get_contracts_to_invoice_domain(date_ref),
                            [
                                ("company_id", "=", company.id),
                                ("contract_type", "=", "sale"),
                                ("generation_type", "=", "invoice"),
                            ],
                        ]
                    )
                ).filtered(
                    lambda contract, day=date_ref: contract._balance_collectable(day)
                )
                if not contracts:
                    break
                contracts.with_company(company)._balance_collect(date_ref)
        return res
