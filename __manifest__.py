# Copyright 2026 Customer Balances contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Balances",
    "summary": "Collect bookings and charges on a customer balance, "
    "billed as one consolidated invoice per period",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/customer-balance/customer_balance",
    "author": "Customer Balances contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": False,
    "installable": True,
    "depends": ["account", "sale", "portal", "iap", "payment_custom"],
    "data": [
        "security/customer_balance_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "data/payment_provider_data.xml",
        "data/mail_template_data.xml",
        "views/customer_balance_views.xml",
        "views/customer_balance_line_views.xml",
        "views/res_config_settings_views.xml",
        "views/product_template_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "views/sale_order_views.xml",
        "views/sale_portal_templates.xml",
        "views/customer_balance_portal_templates.xml",
        "wizards/customer_balance_wizard_views.xml",
    ],
    "demo": ["demo/customer_balance_demo.xml"],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "assets": {
        "web.assets_frontend": [
            "customer_balance/static/src/interactions/payment_form.js",
        ],
        "web.assets_tests": [
            "customer_balance/static/tests/tours/**/*",
        ],
    },
}
