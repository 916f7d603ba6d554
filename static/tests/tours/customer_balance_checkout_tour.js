import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_checkout_tour", {
    steps: () => [
        {
            content: "Accept and pay the quotation",
            trigger: "#o_sale_portal_paynow",
            run: "click",
        },
        {
            content: "Choose to add the order to the customer balance",
            trigger:
                '.modal input[name="o_payment_radio"][data-payment-method-code="customer_balance"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order is added to the balance, nothing is charged",
            trigger: 'body:contains("added to your customer balance")',
            timeout: 20000,
        },
    ],
});
