# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    balance_enabled = fields.Boolean(
        related="company_id.balance_enabled", readonly=False
    )
    balance_period = fields.Selection(
        related="company_id.balance_period", readonly=False
    )
    balance_billing_delay = fields.Integer(
        related="company_id.balance_billing_delay", readonly=False
    )
    balance_grouping = fields.Selection(
        related="company_id.balance_grouping", readonly=False
    )
    balance_max_order_amount = fields.Monetary(
        related="company_id.balance_max_order_amount",
        currency_field="currency_id",
        readonly=False,
    )
    balance_threshold_amount = fields.Monetary(
        related="company_id.balance_threshold_amount",
        currency_field="currency_id",
        readonly=False,
    )
    balance_min_amount = fields.Monetary(
        related="company_id.balance_min_amount",
        currency_field="currency_id",
        readonly=False,
    )
    balance_admin_only = fields.Boolean(
        related="company_id.balance_admin_only", readonly=False
    )
    balance_partner_category_ids = fields.Many2many(
        related="company_id.balance_partner_category_ids", readonly=False
    )
    balance_include_subscriptions = fields.Boolean(
        related="company_id.balance_include_subscriptions", readonly=False
    )
    balance_portal_visible = fields.Boolean(
        related="company_id.balance_portal_visible", readonly=False
    )
    balance_portal_pay = fields.Boolean(
        related="company_id.balance_portal_pay", readonly=False
    )
    balance_auto_post = fields.Boolean(
        related="company_id.balance_auto_post", readonly=False
    )
    balance_auto_send = fields.Boolean(
        related="company_id.balance_auto_send", readonly=False
    )
    balance_auto_pay = fields.Boolean(
        related="company_id.balance_auto_pay", readonly=False
    )
    balance_notice_days = fields.Integer(
        related="company_id.balance_notice_days", readonly=False
    )

    # === ACTION METHODS === #

    def action_open_balance_notice_template(self):
        """The e-mail of the upcoming invoice notice, to adapt its text."""
        template = self.env.ref(
            "customer_balance.mail_template_balance_upcoming_invoice"
        )
        return template._get_records_action(name=template.display_name)
