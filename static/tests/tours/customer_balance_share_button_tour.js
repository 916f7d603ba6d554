import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_share_button_tour", {
    steps: () => [
        {
            content: "Share the balance from its form",
            trigger: '.o_form_view .o_statusbar_buttons button:contains("Share")',
            run: "click",
        },
        {
            content: "The share wizard gives a link with an access token",
            trigger: '.modal .o_field_widget[name="share_link"]:contains("access_token=")',
        },
        {
            content: "Close the wizard",
            trigger: '.modal .modal-footer button:contains("Cancel")',
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
