# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    balance_policy = fields.Selection(
        selection=[
            ("none", "Pay immediately"),
            ("always", "Always on balance"),
            ("optional", "Customer chooses at checkout"),
        ],
        string="Customer Balance",
        default="always",
        required=True,
        help="Pay immediately: never put on a customer balance, invoiced as usual.\n"
        "Always on balance: for customers who use balances, the item goes on their "
        "balance and is billed with the consolidated invoice.\n"
        "Customer chooses at checkout: the customer may add it to the balance or "
        "pay now.",
    )
    balance_invoice_timing = fields.Selection(
        selection=[
            ("order", "At booking time"),
            ("start", "At service start"),
        ],
        string="Bill In Period Of",
        default="order",
        required=True,
        help="At booking time: the item is billed with the period in which the "
        "order is confirmed.\nAt service start: the item waits for the period in "
        "which the service starts (bookings for later months are scheduled).",
    )
