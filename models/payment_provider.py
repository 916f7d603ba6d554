# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models

from odoo.addons.payment import utils as payment_utils

# The payment method of the checkout choice "Add to my customer balance".
BALANCE_PAYMENT_METHOD_CODES = {"customer_balance"}


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    custom_mode = fields.Selection(
        selection_add=[("customer_balance", "Customer Balance")]
    )

    # === CRUD METHODS === #

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        self.ensure_one()
        if self.custom_mode != "customer_balance":
            return super()._get_default_payment_method_codes()
        return BALANCE_PAYMENT_METHOD_CODES

    # === BUSINESS METHODS === #

    @api.model
    def _get_compatible_providers(
        self, *args, sale_order_id=None, report=None, **kwargs
    ):
        """Override of `payment` to offer "Add to my customer balance" only for
        orders of eligible customers whose products let them choose."""
        providers = super()._get_compatible_providers(
            *args, sale_order_id=sale_order_id, report=report, **kwargs
        )
        balance_providers = providers.filtered(
            lambda provider: provider.custom_mode == "customer_balance"
        )
        if not balance_providers:
            return providers
        order = self.env["sale.order"].browse(sale_order_id).exists()
        reason = (
            order._balance_checkout_unavailability_reason()
            if order
            else _("only orders can be added to a customer balance")
        )
        if reason:
            providers -= balance_providers
            payment_utils.add_to_report(
                report, balance_providers, available=False, reason=reason
            )
        return providers
