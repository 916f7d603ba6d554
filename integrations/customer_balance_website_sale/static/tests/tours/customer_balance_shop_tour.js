import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_shop_balance_tour", {
    steps: () => [
        {
            content: "Choose to add the order to the customer balance",
            trigger:
                'input[name="o_payment_radio"][data-payment-method-code="customer_balance"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: 'button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The confirmation page gives the period and the billing date",
            trigger:
                '#customer_balance_confirmation:contains("for the period"):contains("consolidated invoice will be created on")',
            timeout: 20000,
        },
    ],
});

registry.category("web_tour.tours").add("customer_balance_shop_always_tour", {
    steps: () => [
        {
            content: "Nothing to pay: the order goes on the balance",
            trigger: ".o_customer_balance_skip_payment",
        },
        {
            content: "Confirm the order",
            trigger:
                'form[name="o_wsale_confirm_order"] button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The confirmation page gives the period and the billing date",
            trigger:
                '#customer_balance_confirmation:contains("for the period"):contains("consolidated invoice will be created on")',
        },
    ],
});
