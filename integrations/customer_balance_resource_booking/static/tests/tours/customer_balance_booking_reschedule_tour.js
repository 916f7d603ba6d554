import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_booking_reschedule_tour", {
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
            content: "Confirm the new date",
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
