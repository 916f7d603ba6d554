import { patch } from "@web/core/utils/patch";

import { PaymentForm } from "@payment/interactions/payment_form";

patch(PaymentForm.prototype, {
    /**
     * "Add to my customer balance" is paid later, with the consolidated invoice.
     *
     * @override
     */
    _isPayLaterPaymentMethod(paymentMethodCode) {
        return (
            paymentMethodCode === "customer_balance" ||
            super._isPayLaterPaymentMethod(...arguments)
        );
    },
});
