# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerBalanceRunLine(models.Model):
    """What one bill run did with one balance. Only ever created (by the run), so
    that workers sharing a run never update the same row."""

    _name = "customer.balance.run.line"
    _description = "Bill Run Outcome"
    _order = "id"
    _check_company_auto = True

    run_id = fields.Many2one(
        comodel_name="customer.balance.run",
        string="Bill Run",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(related="balance_id.partner_id")
    outcome = fields.Selection(
        selection=[
            ("billed", "Billed"),
            ("closed", "Nothing to Bill"),
            ("carried", "Carried Over"),
            ("failed", "Failed"),
        ],
        required=True,
        readonly=True,
    )
    invoice_id = fields.Many2one(
        comodel_name="account.move",
        readonly=True,
        ondelete="set null",
    )
    carried_to_id = fields.Many2one(
        comodel_name="customer.balance",
        readonly=True,
        ondelete="set null",
    )
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    amount_total = fields.Monetary(
        string="Invoiced",
        related="invoice_id.amount_total_in_currency_signed",
        currency_field="currency_id",
    )
    error = fields.Text(string="Reason", readonly=True)
