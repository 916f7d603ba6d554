import { registry } from "@web/core/registry";

/** Fail when ``selector``'s elements do not lie fully inside the window. */
function assertOnScreen(selector) {
    const width = document.documentElement.clientWidth;
    const cells = document.querySelectorAll(selector);
    if (!cells.length) {
        throw new Error(`Nothing matches ${selector}`);
    }
    for (const cell of cells) {
        const rect = cell.getBoundingClientRect();
        if (rect.left < 0 || rect.right > width + 0.5) {
            throw new Error(
                `${selector} is cut off: ${rect.left}-${rect.right} in a ${width} px window`
            );
        }
    }
}

// On a 390 px phone the amounts of the list and of the balance page stay on screen.
registry.category("web_tour.tours").add("customer_balance_phone_tour", {
    url: "/my/balances",
    steps: () => [
        {
            content: "The list's totals are on screen",
            trigger: ".o_portal_my_doc_table td.text-end",
            run() {
                assertOnScreen(".o_portal_my_doc_table th, .o_portal_my_doc_table td.text-end");
            },
        },
        {
            content: "Open the current balance",
            trigger: ".o_portal_my_doc_table a:contains(BAL/)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Its Amount column and totals are on screen",
            trigger: ".o_customer_balance_items .o_customer_balance_item_amount",
            run() {
                assertOnScreen(
                    ".o_customer_balance_items th, .o_customer_balance_item_amount, .o_customer_balance_totals td"
                );
            },
        },
    ],
});
