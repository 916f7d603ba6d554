import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_bill_tour", {
    url: "/odoo/action-customer_balance.action_customer_balance",
    steps: () => [
        {
            content: "Open the filters",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Show the due balances",
            trigger: '.o_filter_menu .o-dropdown-item:contains("Due")',
            run: "click",
        },
        {
            content: "Close the filters",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Open the balance of the tour member",
            trigger: '.o_data_row:contains("Tour Member") td[name="partner_id"]',
            run: "click",
        },
        {
            content: "Preview the consolidated invoice",
            trigger: '.o_form_view button[name="action_preview"]',
            run: "click",
        },
        {
            content: "The preview shows the total and the items",
            trigger: '.modal .o_field_widget[name="preview_html"]:contains("Desk day")',
        },
        {
            trigger: '.modal .o_field_widget[name="amount_total"]:contains("130.00")',
        },
        {
            content: "Close the preview",
            trigger: '.modal .modal-footer button:contains("Close")',
            run: "click",
        },
        {
            content: "Bill now",
            trigger: '.o_form_view button[name="action_consolidate"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal .modal-footer .btn-primary',
            run: "click",
        },
        {
            content: "The posted consolidated invoice is shown",
            trigger: '.o_form_view .o_statusbar_status [aria-checked="true"]:contains("Posted")',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="partner_id"]:contains("Tour Member")',
        },
    ],
});
