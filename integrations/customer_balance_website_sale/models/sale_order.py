# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # === BUSINESS METHODS === #

    def _get_confirmation_template(self):
        """Override of `website_sale`: a shop order on a balance gets the balance's
        confirmation e-mail (period, date of the consolidated invoice), not the
        website's own template."""
        self.ensure_one()
        return (
            self._get_balance_confirmation_template()
            or super()._get_confirmation_template()
        )

    def _balance_skips_payment(self):
        """Whether the shop confirms this cart without any payment step: every
        product of it is *always on balance* and the customer uses balances (the
        order is not above the maximum amount, and so on)."""
        self.ensure_one()
        lines = self.order_line.filtered(
            lambda line: not line.display_type and line.product_id
        )
        return (
            bool(lines)
            and all(line.product_id.balance_policy == "always" for line in lines)
            and not self._balance_ineligibility_reason()
        )
