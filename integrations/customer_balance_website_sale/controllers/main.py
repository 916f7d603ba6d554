# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.http import request, route

from odoo.addons.website_sale.controllers.main import WebsiteSale


class WebsiteSaleBalance(WebsiteSale):
    @route()
    def shop_payment_validate(self, sale_order_id=None, **post):
        """Override of `website_sale`: a cart whose products all go on the
        customer's balance is confirmed without payment, as a free cart is; its
        items wait on the balance of their period."""
        order_sudo = request.cart if sale_order_id is None else None
        if (
            order_sudo
            and order_sudo.state in ("draft", "sent")
            and order_sudo.amount_total
            and not order_sudo.get_portal_last_transaction()
            and not self._get_shop_payment_errors(order_sudo)
            and order_sudo._balance_skips_payment()
        ):
            order_sudo._check_cart_is_ready_to_be_paid()
            order_sudo._validate_order()
            request.website.sale_reset()
            return request.redirect("/shop/confirmation")
        return super().shop_payment_validate(sale_order_id=sale_order_id, **post)
