# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import UTC, date, datetime

import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import date_utils


class ResCompany(models.Model):
    _inherit = "res.company"

    balance_enabled = fields.Boolean(
        string="Customer Balances",
        help="Collect bookings and charges of customers on a balance and bill them "
        "as one consolidated invoice per billing period.",
    )
    balance_period = fields.Selection(
        selection=[
            ("week", "Weekly"),
            ("month", "Monthly"),
            ("quarter", "Quarterly"),
            ("year", "Yearly"),
            ("manual", "Manual"),
        ],
        string="Billing Period",
        default="month",
        required=True,
        help="How long a balance collects items before it is billed. Periods follow "
        "the calendar in the company's time zone (weeks start on Monday). Manual: one "
        "open balance per customer, only billed when an accountant creates the "
        "invoice.",
    )
    balance_billing_delay = fields.Integer(
        string="Billing Delay (days)",
        default=0,
        help="Days to wait after the end of a period before the consolidated invoice "
        "is created, e.g. to let late bookings of the period come in.",
    )
    balance_grouping = fields.Selection(
        selection=[("person", "Per person"), ("company", "Per company")],
        string="Balance Per",
        default="person",
        required=True,
        help="Per person: each contact has its own balance. Per company: all contacts "
        "of a company share one balance, billed to the company.",
    )
    balance_max_order_amount = fields.Monetary(
        string="Maximum Order Amount",
        currency_field="currency_id",
        help="Orders above this amount are invoiced at once as usual instead of going "
        "on the balance. Leave at 0 for no maximum.",
    )
    balance_threshold_amount = fields.Monetary(
        string="Billing Threshold",
        currency_field="currency_id",
        help="When the total of a balance reaches this amount, it is billed at once "
        "without waiting for the end of the period. Leave at 0 for no threshold.",
    )
    balance_min_amount = fields.Monetary(
        string="Minimum Invoice Amount",
        currency_field="currency_id",
        help="A balance whose total is below this amount when it is due is carried "
        "into the next period instead of being billed. Leave at 0 to bill any amount.",
    )
    balance_admin_only = fields.Boolean(
        string="Only Items Added by Staff",
        help="Only charges entered by your staff go on balances. Orders that customers "
        "place themselves (portal, shop) are paid or invoiced at once.",
    )
    balance_partner_category_ids = fields.Many2many(
        comodel_name="res.partner.category",
        relation="res_company_balance_partner_category_rel",
        column1="company_id",
        column2="category_id",
        string="Communities",
        help="Only customers with one of these tags (or whose company has one) use "
        "balances. Leave empty to allow every customer.",
    )
    balance_include_subscriptions = fields.Boolean(
        string="Include Subscription Invoices",
        help="Invoices of recurring contracts go on the balance too and are paid with "
        "the consolidated invoice.",
    )
    balance_portal_visible = fields.Boolean(
        string="Show Balances in the Portal",
        default=True,
        help="Customers see their open balances, items and the date of the coming "
        "invoice under My Account.",
    )
    balance_portal_pay = fields.Boolean(
        string="Pay Now in the Portal",
        default=True,
        help="Members, the billing contacts of their company and whoever opens a "
        "balance's share link may settle an open balance at once from its portal page: "
        "it is billed and its invoice paid with the company's payment providers.",
    )
    balance_auto_post = fields.Boolean(
        string="Confirm Invoices Automatically",
        help="Consolidated invoices are confirmed as soon as they are created. "
        "Otherwise they stay in draft for review.",
    )
    balance_auto_send = fields.Boolean(
        string="Send Invoices Automatically",
        help="Confirmed consolidated invoices are e-mailed to the customer at once.",
    )
    balance_auto_pay = fields.Boolean(
        string="Charge Saved Payment Methods",
        help="A confirmed consolidated invoice is charged at once with the payment "
        "method the customer saved (a payment token of an enabled provider). A failed "
        "charge leaves the invoice open and schedules a follow-up for the accountant.",
    )

    balance_notice_days = fields.Integer(
        string="Upcoming Invoice Notice (days)",
        default=0,
        help="That many days before a balance's invoice is created, its member (for "
        "a company: the billing contacts, else the invoice address) is e-mailed the "
        "upcoming invoice: its items, total and date. 0: no notice.",
    )

    _balance_billing_delay_positive = models.Constraint(
        "CHECK (balance_billing_delay >= 0)",
        "The billing delay of customer balances cannot be negative.",
    )
    _balance_amounts_positive = models.Constraint(
        "CHECK (COALESCE(balance_max_order_amount, 0) >= 0"
        " AND COALESCE(balance_threshold_amount, 0) >= 0"
        " AND COALESCE(balance_min_amount, 0) >= 0)",
        "The amounts of the customer balance settings cannot be negative.",
    )
    _balance_notice_days_positive = models.Constraint(
        "CHECK (COALESCE(balance_notice_days, 0) >= 0)",
        "The days of the upcoming invoice notice cannot be negative.",
    )

    # === CONSTRAINT METHODS === #

    @api.constrains("balance_threshold_amount", "balance_min_amount")
    def _check_balance_threshold_above_minimum(self):
        for company in self:
            threshold = company.balance_threshold_amount
            minimum = company.balance_min_amount
            if (
                threshold
                and minimum
                and company.currency_id.compare_amounts(threshold, minimum) < 0
            ):
                raise ValidationError(
                    _(
                        "The billing threshold (%(threshold)s) of %(company)s "
                        "cannot be lower than its minimum invoice amount "
                        "(%(minimum)s).",
                        threshold=threshold,
                        minimum=minimum,
                        company=company.name,
                    )
                )

    @api.constrains("balance_auto_post", "balance_auto_send")
    def _check_balance_auto_send_needs_post(self):
        for company in self:
            if company.balance_auto_send and not company.balance_auto_post:
                raise ValidationError(
                    _(
                        "Consolidated invoices can only be sent automatically when "
                        "they are also confirmed automatically."
                    )
                )

    @api.constrains("balance_auto_post", "balance_auto_pay")
    def _check_balance_auto_pay_needs_post(self):
        for company in self:
            if company.balance_auto_pay and not company.balance_auto_post:
                raise ValidationError(
                    _(
                        "Consolidated invoices can only be charged automatically when "
                        "they are also confirmed automatically."
                    )
                )

    # === BUSINESS METHODS === #

    def _balance_timezone(self):
        """The time zone billing periods are decided in: the company's, as ``stock``
        and ``sale_loyalty`` read it from its partner; UTC when unset."""
        self.ensure_one()
        return pytz.timezone(self.partner_id.tz or "UTC")

    def _balance_local_date(self, value):
        """The company-local date of ``value`` (a naive UTC datetime, as the ORM
        stores them, or already a date)."""
        self.ensure_one()
        if not value:
            return False
        if not isinstance(value, datetime):
            return value if isinstance(value, date) else fields.Date.to_date(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self._balance_timezone()).date()

    def _balance_today(self):
        """Today in the company's time zone."""
        self.ensure_one()
        return self._balance_local_date(fields.Datetime.now())

    def _balance_period_bounds(self, local_date, period_type=None):
        """The calendar period containing ``local_date`` (a company-local date) as
        ``(start, end)``; ``(False, False)`` for manual balances."""
        self.ensure_one()
        period_type = period_type or self.balance_period
        if period_type == "manual":
            return False, False
        return (
            date_utils.start_of(local_date, period_type),
            date_utils.end_of(local_date, period_type),
        )

    def _balance_billing_date(self, period_end):
        """The day a balance of a period ending on ``period_end`` is billed."""
        self.ensure_one()
        if not period_end:
            return False
        return period_end + relativedelta(days=self.balance_billing_delay)
