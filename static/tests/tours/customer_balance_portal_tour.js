import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("customer_balance_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the customer balances from My Account",
            trigger: 'a[href="/my/balances"]:contains("Customer Balances")',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Open the balance of the current period",
            trigger: '.o_portal_my_doc_table a:contains("BAL/")',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The items, the period and the total are shown",
            trigger: '.o_customer_balance_items td:contains("Desk day (Anna)")',
        },
        {
            trigger: '.o_customer_balance_items td:contains("Meeting room (Ben)")',
        },
        {
            trigger: '.o_portal_customer_balance:contains("172.50")',
        },
    ],
});

registry.category("web_tour.tours").add("customer_balance_share_tour", {
    steps: () => [
        {
            content: "The shared balance opens without login",
            trigger: '.o_portal_customer_balance:contains("Desk day (Anna)")',
        },
        {
            trigger: '.o_portal_customer_balance:contains("172.50")',
        },
    ],
});
