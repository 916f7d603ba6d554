import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_run_preview_tour", {
    url: "/odoo/action-customer_balance.action_customer_balance",
    steps: () => [
        {
            content: "Open the Customers menu",
            trigger: '.o_main_navbar [data-menu-xmlid="account.menu_finance_receivables"]',
            run: "click",
        },
        {
            content: "Open the bill run preview",
            trigger: '.o-dropdown--menu [data-menu-xmlid="customer_balance.menu_customer_balance_run_preview"]',
            run: "click",
        },
        {
            content: "The day of the next bill run is proposed",
            trigger: '.modal .o_field_widget[name="date"] input',
        },
        {
            content: "Preview the bill run",
            trigger: '.modal .modal-footer button[name="action_compute"]',
            run: "click",
        },
        {
            content: "The member's balance would be billed",
            trigger: '.modal .o_field_widget[name="line_ids"] .o_data_row:contains("Tour Preview Member"):contains("Bill")',
        },
        {
            content: "The totals per currency",
            trigger: '.modal .o_customer_balance_run_preview_totals td[data-outcome="bill"]:contains("130.00")',
        },
        {
            content: "Open the balances as a list",
            trigger: '.modal .modal-footer button[name="action_view_lines"]',
            run: "click",
        },
        {
            content: "The list shows the member's balance",
            trigger: '.o_list_view .o_data_row:contains("Tour Preview Member")',
        },
        {
            content: "Open the search options",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Group by outcome",
            trigger: '.o_group_by_menu .o-dropdown-item:contains("Outcome")',
            run: "click",
        },
        {
            content: "The balances are grouped by what the run would do",
            trigger: '.o_list_view .o_group_header:contains("Bill")',
        },
    ],
});
