# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    balance_ids = fields.One2many(
        comodel_name="customer.balance",
        inverse_name="partner_id",
        string="Customer Balances",
    )
    balance_count = fields.Integer(
        string="Balances Count",
        compute="_compute_balance_count",
        groups="customer_balance.group_customer_balance_user",
    )
    balance_open_amount = fields.Monetary(
        string="Open Balance",
        compute="_compute_balance_open_amount",
        search="_search_balance_open_amount",
        currency_field="balance_currency_id",
        groups="customer_balance.group_customer_balance_user",
        help="Total of the open customer balances billed to this partner, in the "
        "company's currency.",
    )
    balance_currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_balance_open_amount",
    )

    # === COMPUTE METHODS === #

    @api.depends("balance_ids")
    def _compute_balance_count(self):
        counts = dict(
            self.env["customer.balance"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.balance_count = counts.get(partner._origin, 0)

    @api.depends("balance_ids.amount_total", "balance_ids.state")
    @api.depends_context("company")
    def _compute_balance_open_amount(self):
        company = self.env.company
        amounts = dict(
            self.env["customer.balance"]._read_group(
                [
                    ("partner_id", "in", self.ids),
                    ("state", "=", "open"),
                    ("company_id", "=", company.id),
                    ("currency_id", "=", company.currency_id.id),
                ],
                ["partner_id"],
                ["amount_total:sum"],
            )
        )
        for partner in self:
            partner.balance_open_amount = amounts.get(partner._origin, 0.0)
            partner.balance_currency_id = company.currency_id

    def _search_balance_open_amount(self, operator, value):
        if operator not in ("<", "<=", ">", ">=", "=", "!="):
            return NotImplemented
        company = self.env.company
        groups = self.env["customer.balance"]._read_group(
            [
                ("state", "=", "open"),
                ("company_id", "=", company.id),
                ("currency_id", "=", company.currency_id.id),
            ],
            ["partner_id"],
            ["amount_total:sum"],
            having=[("amount_total:sum", operator, value)],
        )
        partner_ids = [partner.id for partner, _amount in groups]
        return [("id", "in", partner_ids)]

    # === ACTION METHODS === #

    def action_view_balances(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
