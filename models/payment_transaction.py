# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _is_balance_transaction(self):
        """Whether the customer chose "Add to my customer balance"."""
        self.ensure_one()
        return (
            self.provider_code == "custom"
            and self.provider_id.custom_mode == "customer_balance"
        )

    def _post_process(self):
        """Override of `payment` to put the orders of a pending "customer balance"
        transaction on the balance: the choice is checked again (the transaction
        route does not check that the provider is allowed), the order confirmed
        without charging, its items created. The transaction is never set to done:
        that would register a payment."""
        balance_txs = self.filtered(
            lambda tx: tx._is_balance_transaction() and tx.state == "pending"
        )
        for tx in balance_txs:
            orders = tx.sale_order_ids.filtered(
                lambda order: order.state in ("draft", "sent")
            )
            reasons = [
                reason
                for order in orders
                if (reason := order._balance_checkout_unavailability_reason())
            ]
            if reasons:
                tx._set_error(
                    _(
                        "This order cannot be added to a customer balance: %s",
                        reasons[0],
                    )
                )
                continue
            orders.balance_requested = True
            orders.with_context(send_email=True).action_confirm()
        return super()._post_process()
