import { registry } from "@web/core/registry";

function assertCount(selector, expected, what) {
    const count = document.querySelectorAll(selector).length;
    if (count !== expected) {
        throw new Error(`${what}: ${count} found, ${expected} expected (${selector})`);
    }
}

registry.category("web_tour.tours").add("customer_balance_labels_tour", {
    url: "/odoo/action-customer_balance.action_customer_balance",
    steps: () => [
        {
            content: "The list offers the bill runs once, not a Bill Run beside Bill Runs",
            trigger: '.o_control_panel button:contains("Bill Runs")',
            run() {
                const labels = [...document.querySelectorAll(".o_control_panel button")].map(
                    (button) => button.textContent.trim()
                );
                if (labels.includes("Bill Run")) {
                    throw new Error(`a "Bill Run" button beside "Bill Runs": ${labels}`);
                }
            },
        },
        {
            content: "Open the label member's balance",
            trigger: '.o_data_row:contains("Label Member") td[name="partner_id"]',
            run: "click",
        },
        {
            content: "Add an entry",
            trigger: '.o_form_view button[name="action_add_entry"]',
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="name"] input, .modal .o_field_widget[name="name"] textarea',
            run: "edit Coffee",
        },
        {
            trigger: '.modal .o_field_widget[name="amount"] input',
            run: "edit 12",
        },
        {
            content: "Add it",
            trigger: '.modal .modal-footer button[name="action_add"]',
            run: "click",
        },
        {
            content: "Back on the balance, with its new total",
            trigger: 'body:not(:has(.modal)) .o_form_view .o_field_widget[name="amount_total"]:contains("112.00")',
        },
        {
            content: "The breadcrumb names the balance once",
            trigger: ".o_breadcrumb",
            run() {
                assertCount(".o_breadcrumb .breadcrumb-item", 1, "breadcrumb items before the balance");
            },
        },
    ],
});
