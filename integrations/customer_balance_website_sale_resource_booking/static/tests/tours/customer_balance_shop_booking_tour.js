import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_shop_booking_checkout_tour", {
    steps: () => [
        {
            content: "Choose to add the meeting room to the customer balance",
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
            content: "The order is confirmed",
            trigger: 'h3:contains("Thank you for your order.")',
            timeout: 20000,
        },
    ],
});

registry.category("web_tour.tours").add("customer_balance_shop_booking_schedule_tour", {
    steps: () => [
        {
            content: "Open the first day with free slots",
            trigger: ".o_booking_calendar button[id^='dropdown-trigger-']",
            run: "click",
        },
        {
            content: "Pick its first slot",
            trigger: ".slots-dropdown.show .dropdown-item",
            run: "click",
        },
        {
            content: "Confirm the date",
            trigger: ".modal.show button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the booking's page",
            trigger: "body:contains('Scheduled'), body:contains('Confirmed')",
        },
    ],
});
