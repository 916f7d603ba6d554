import { registry } from "@web/core/registry";

// A visitor opens a balance's share link, pays it now with the demo provider and
// lands on the paid invoice.
registry.category("web_tour.tours").add("customer_balance_pay_now_tour", {
    steps: () => [
        {
            content: "The shared balance offers Pay now",
            trigger: '.o_portal_customer_balance:contains("Desk day (Anna)")',
        },
        {
            content: "Pay now",
            trigger: ".o_customer_balance_pay_now button[name=pay_now]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The invoice's payment form opens with the demo provider",
            trigger:
                "#pay_with input[name=o_payment_radio][data-payment-method-code=demo]:not(:visible), #pay_with input[name=o_payment_radio][data-payment-method-code=demo]",
            run() {
                // A single payment method is preselected (its radio hidden).
                if (!this.anchor.checked) {
                    this.anchor.click();
                }
            },
        },
        {
            content: "Enter the demo card",
            trigger: "#pay_with input[name=customer_input]",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name=o_payment_submit_button]:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the invoice, paid",
            trigger: "[name=invoice_paid_badge]:contains(Paid)",
            timeout: 30000,
        },
    ],
});
