# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from lxml import etree
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestSettings(CustomerBalanceCommon):
    def test_defaults_of_a_new_company(self):
        """A new company starts with the feature off, monthly, no delay, per person,
        no limits, balances visible in the portal, invoices left for review."""
        company = self.env["res.company"].create({"name": "Fresh Co"})
        self.assertFalse(company.balance_enabled)
        self.assertEqual(company.balance_period, "month")
        self.assertEqual(company.balance_billing_delay, 0)
        self.assertEqual(company.balance_grouping, "person")
        self.assertEqual(company.balance_max_order_amount, 0.0)
        self.assertEqual(company.balance_threshold_amount, 0.0)
        self.assertEqual(company.balance_min_amount, 0.0)
        self.assertFalse(company.balance_admin_only)
        self.assertFalse(company.balance_partner_category_ids)
        self.assertFalse(company.balance_include_subscriptions)
        self.assertTrue(company.balance_portal_visible)
        self.assertFalse(company.balance_auto_post)
        self.assertFalse(company.balance_auto_send)

    def test_settings_form_saves_on_the_company(self):
        """Every setting saved through the settings form lands on the company."""
        with Form(self.env["res.config.settings"]) as settings:
            settings.balance_enabled = True
            settings.balance_period = "quarter"
            settings.balance_billing_delay = 3
            settings.balance_grouping = "company"
            settings.balance_max_order_amount = 250.0
            settings.balance_threshold_amount = 1000.0
            settings.balance_min_amount = 20.0
            settings.balance_admin_only = True
            settings.balance_partner_category_ids.add(self.community)
            settings.balance_include_subscriptions = True
            settings.balance_portal_visible = False
            settings.balance_auto_post = True
            settings.balance_auto_send = True
        company = self.env.company
        self.assertRecordValues(
            company,
            [
                {
                    "balance_enabled": True,
                    "balance_period": "quarter",
                    "balance_billing_delay": 3,
                    "balance_grouping": "company",
                    "balance_max_order_amount": 250.0,
                    "balance_threshold_amount": 1000.0,
                    "balance_min_amount": 20.0,
                    "balance_admin_only": True,
                    "balance_partner_category_ids": self.community.ids,
                    "balance_include_subscriptions": True,
                    "balance_portal_visible": False,
                    "balance_auto_post": True,
                    "balance_auto_send": True,
                }
            ],
        )
        # The form shows what is saved when opened again.
        settings = Form(self.env["res.config.settings"])
        self.assertEqual(settings.balance_period, "quarter")
        self.assertEqual(settings.balance_billing_delay, 3)

    def test_settings_are_per_company(self):
        """Saving the settings of one company leaves another company's untouched."""
        other = self.setup_other_company(name="Musterstadt Hall")["company"]
        self.env.user.company_ids = [Command.link(other.id)]
        other.balance_period = "week"
        with Form(
            self.env["res.config.settings"].with_company(self.company)
        ) as settings:
            settings.balance_period = "year"
            settings.balance_billing_delay = 5
        self.assertEqual(self.company.balance_period, "year")
        self.assertEqual(self.company.balance_billing_delay, 5)
        self.assertEqual(other.balance_period, "week")
        self.assertEqual(other.balance_billing_delay, 0)
        self.assertFalse(other.balance_enabled)
        settings = Form(self.env["res.config.settings"].with_company(other))
        self.assertEqual(settings.balance_period, "week")

    def test_amounts_use_the_company_currency(self):
        """The monetary settings are shown in the company's currency."""
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.currency_id, self.company.currency_id)
        field = settings._fields["balance_max_order_amount"]
        self.assertEqual(field.get_currency_field(settings), "currency_id")

    def test_negative_delay_refused(self):
        """A negative billing delay is refused by the database, nothing is saved."""
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.company.balance_billing_delay = -1
            self.company.flush_recordset()
        self.company.invalidate_recordset()
        self.assertEqual(self.company.balance_billing_delay, 0)

    def test_threshold_below_minimum_refused(self):
        """A billing threshold below the minimum invoice amount makes no sense."""
        with self.assertRaisesRegex(
            ValidationError, "cannot be lower than its minimum"
        ):
            self.company.write(
                {"balance_threshold_amount": 10.0, "balance_min_amount": 20.0}
            )

    def test_auto_send_needs_auto_post(self):
        """Invoices are only sent automatically when confirmed automatically."""
        with self.assertRaisesRegex(ValidationError, "also confirmed automatically"):
            self.company.write({"balance_auto_send": True, "balance_auto_post": False})

    def test_settings_view_hides_options_while_off(self):
        """The settings block is on the Invoicing page, and every setting but the
        switch itself is hidden while the feature is off."""
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        block = etree.fromstring(arch).xpath("//block[@id='customer_balance_settings']")
        self.assertEqual(len(block), 1)
        settings = block[0].xpath(".//setting")
        self.assertGreaterEqual(len(settings), 8)
        for setting in settings:
            if setting.get("id") == "balance_enabled":
                self.assertFalse(setting.get("invisible"))
            else:
                # Hidden while off; a setting may also hide for other reasons
                # (the notice has no billing date to count from in manual mode).
                self.assertRegex(
                    setting.get("invisible") or "",
                    r"^not balance_enabled( or |$)",
                    setting.get("id"),
                )

    def test_product_fields(self):
        """Products go on balances by default, billed in the period of the booking;
        both can be changed on the product form."""
        template = self.desk.product_tmpl_id
        self.assertEqual(template.balance_policy, "always")
        self.assertEqual(template.balance_invoice_timing, "order")
        with Form(template) as form:
            form.balance_policy = "optional"
            form.balance_invoice_timing = "start"
        self.assertEqual(template.balance_policy, "optional")
        self.assertEqual(template.balance_invoice_timing, "start")
        with Form(template) as form:
            form.balance_policy = "none"
        self.assertEqual(template.balance_policy, "none")
