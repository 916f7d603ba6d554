# Copyright 2026 Customer Balances contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Balances - Event Tickets",
    "summary": "Event tickets go on customer balances in the period the event starts",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/customer-balance/customer_balance",
    "author": "Customer Balances contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "auto_install": True,
    "depends": ["customer_balance", "event_sale"],
}
