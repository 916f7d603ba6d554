# Copyright 2026 Customer Balances contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Balances - Test: a grouping field",
    "summary": "Test module: balances kept apart by a cost center, an extra field "
    "of the grouping key",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/customer-balance/customer_balance",
    "author": "Customer Balances contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["customer_balance"],
}
