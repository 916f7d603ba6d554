# Copyright 2026 Customer Balances contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Balances - Resource Bookings in the Shop",
    "summary": "Tests the member's path: a meeting room bought in the shop on the "
    "balance, scheduled in the portal",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/customer-balance/customer_balance",
    "author": "Customer Balances contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "auto_install": True,
    "depends": [
        "customer_balance_website_sale",
        "customer_balance_resource_booking",
    ],
    "demo": ["demo/customer_balance_website_sale_resource_booking_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "customer_balance_website_sale_resource_booking/static/tests/tours/**/*",
        ],
    },
}
