# Copyright 2026 Customer Balances contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Balances - eCommerce",
    "summary": "Add shop orders to the customer balance at checkout",
    "version": "19.0.1.0.0",
    "category": "Website/Website",
    "website": "https://github.com/customer-balance/customer_balance",
    "author": "Customer Balances contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "auto_install": True,
    "depends": ["customer_balance", "website_sale"],
    "data": ["views/website_sale_templates.xml"],
    "demo": ["demo/customer_balance_website_sale_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "customer_balance_website_sale/static/tests/tours/**/*",
        ],
    },
}
