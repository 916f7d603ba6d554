# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import html
import re

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import format_amount, format_datetime

from .common import CustomerBalanceCommon, CustomerBalanceTestMixin

NO_ADDRESS = (
    "No invoice address with an e-mail: the invoice could not be sent. Add an "
    "e-mail to Café Lumen or to a contact of the company."
)
NO_ACCOUNT = (
    "Product Desk day has no income account (nor its category, nor the company), "
    "and the sales journal has no default account."
)


@tagged("post_install", "-at_install")
class TestTexts(CustomerBalanceCommon):
    """The sentences the coworking space's accountant reads on a balance and in
    its chatter, word for word, in English and German: one full stop where one
    sentence ends, and "1 item" for one item."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.env["ir.module.module"]._load_module_terms(["customer_balance"], ["de_DE"])
        cls.env_de = cls.env(context=dict(cls.env.context, lang="de_DE"))
        cls.lumen = cls.env["res.partner"].create({"name": "Café Lumen"})

    # === HELPERS === #

    def _october(self, partner):
        """An October balance of ``partner``, due since 3 November."""
        return self._balance(
            partner,
            period_start="2026-10-01",
            period_end="2026-10-31",
            billing_date="2026-11-03",
        )

    def _texts(self, record):
        """The plain text of each message of ``record``, newest first."""
        record.invalidate_recordset(["message_ids"])
        return [
            html.unescape(re.sub(r"<[^>]+>", "", body))
            for body in record.message_ids.mapped("body")
            if body
        ]

    # === NOT BILLED BECAUSE === #

    @freeze_time("2026-12-07 10:00:00")
    def test_unbilled_reason_of_a_failed_bill_run_has_one_full_stop(self):
        """Invoices are e-mailed automatically and Café Lumen has no e-mail: the
        bill run could not bill its October balance. *Not Billed Because* quotes
        the reason with its own full stop, not "sent.. It is left out"."""
        self.company.write({"balance_auto_post": True, "balance_auto_send": True})
        balance = self._october(self.lumen)
        self._item(balance, 40.0)

        self._bill_run()

        balance.invalidate_recordset()
        self.assertEqual(balance.billing_error, NO_ADDRESS)
        self.assertEqual(
            balance.unbilled_reason,
            f"The bill run could not bill it: {NO_ADDRESS} It is left out of the "
            "bill run until the cause is fixed and someone clicks Retry Billing.",
        )
        self.assertEqual(
            balance.with_env(self.env_de).unbilled_reason,
            f"Der Abrechnungslauf konnte es nicht abrechnen: {NO_ADDRESS} Es bleibt "
            "außen vor, bis die Ursache behoben ist und jemand „Abrechnung erneut "
            "versuchen“ klickt.",
        )

    @freeze_time("2026-12-07 10:00:00")
    def test_unbilled_reason_of_each_stored_error(self):
        """Two reasons at once (one a line), or an error without a full stop of
        its own (an exception's text): one sentence after the other, each ended
        once."""
        balance = self._october(self.lumen)
        self._item(balance, 40.0)
        tail = (
            " It is left out of the bill run until the cause is fixed and someone "
            "clicks Retry Billing."
        )
        for error, quoted in (
            (f"{NO_ADDRESS}\n{NO_ACCOUNT}", f"{NO_ADDRESS} {NO_ACCOUNT}"),
            ("division by zero", "division by zero."),
            ("Is the journal locked?", "Is the journal locked?"),
        ):
            with self.subTest(error=error):
                balance.billing_error = error
                self.assertEqual(
                    balance.unbilled_reason,
                    f"The bill run could not bill it: {quoted}{tail}",
                )

    @freeze_time("2026-12-07 10:00:00")
    def test_unbilled_reason_of_each_other_cause(self):
        """The bill run switched off, a total below the minimum, the next run:
        each said in one sentence with one full stop."""
        balance = self._october(self.lumen)
        self._item(balance, 10.0)
        cron = self.env.ref("customer_balance.ir_cron_consolidate_due")
        next_run = format_datetime(self.env, cron.nextcall)
        self.assertEqual(
            balance.unbilled_reason, f"Waiting for the next bill run, {next_run}."
        )

        self.company.balance_min_amount = 50.0
        balance.invalidate_recordset()
        minimum = format_amount(self.env, 50.0, self.currency)
        self.assertEqual(
            balance.unbilled_reason,
            f"Below the minimum invoice amount ({minimum}): the next bill run carries "
            "it over into the next period instead of billing it.",
        )

        cron.active = False
        balance.invalidate_recordset()
        self.assertEqual(
            balance.unbilled_reason,
            "The bill run is switched off: nothing bills it by itself. Use Bill Now, "
            "or ask an administrator to switch the bill run on.",
        )

    # === ONE ITEM, SEVERAL ITEMS === #

    def test_carry_over_of_one_item_says_1_item(self):
        """Lisa's June balance of one desk day is below the 50.00 minimum: both
        chatters say "1 item carried over", the minimum shown as an amount; in
        German too."""
        self.company.balance_min_amount = 50.0
        minimum = format_amount(self.env, 50.0, self.currency)
        june = self._balance(self.lisa)
        self._item(june, 10.0)

        july = june._carry_over()

        self.assertEqual(
            self._texts(june)[0],
            f"Below the minimum invoice amount ({minimum}): 1 item carried over to "
            f"{july.display_name}.",
        )
        self.assertEqual(
            self._texts(july)[0], f"1 item carried over from {june.display_name}."
        )

        # Two items, in German.
        ben_june = self._balance(self.ben)
        self._item(ben_june, 10.0)
        self._item(ben_june, 5.0)
        ben_july = ben_june.with_env(self.env_de)._carry_over()
        minimum_de = format_amount(self.env_de, 50.0, self.currency)
        self.assertEqual(
            self._texts(ben_june)[0],
            f"Unter dem Mindestrechnungsbetrag ({minimum_de}): 2 Positionen nach "
            f"{ben_july.display_name} übertragen.",
        )
        # And one item, in German.
        anna_june = self._balance(self.anna)
        self._item(anna_june, 10.0)
        anna_july = anna_june.with_env(self.env_de)._carry_over()
        self.assertEqual(
            self._texts(anna_june)[0],
            f"Unter dem Mindestrechnungsbetrag ({minimum_de}): 1 Position nach "
            f"{anna_july.display_name} übertragen.",
        )
        self.assertEqual(
            self._texts(anna_july)[0],
            f"1 Position aus {anna_june.display_name} übertragen.",
        )

    def test_billing_one_item_says_1_item(self):
        """*Bill now* on Lisa's balance of one desk day: "created for 1 item"."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)

        invoice = balance._consolidate()

        texts = [text for text in self._texts(balance) if "Consolidated" in text]
        self.assertEqual(len(texts), 1)
        self.assertRegex(texts[0], r"^Consolidated Invoice \S.* created for 1 item\.$")
        self.assertIn(invoice.type_name, texts[0])

        ben_balance = self._balance(self.ben).with_env(self.env_de)
        self._item(ben_balance, 100.0)
        ben_balance._consolidate()
        texts = [text for text in self._texts(ben_balance) if "Sammelbeleg" in text]
        self.assertEqual(len(texts), 1)
        self.assertRegex(texts[0], r" als Sammelbeleg für 1 Position erstellt\.$")

    def test_closing_one_zero_item_says_the_item(self):
        """A balance whose only item is free: closed without an invoice, the
        chatter speaks of that one item."""
        balance = self._balance(self.lisa)
        self._item(balance, 0.0)

        balance._consolidate()

        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(
            self._texts(balance)[0],
            "Nothing to bill: its only item is zero. Balance closed; the item is "
            "waived.",
        )

    @freeze_time("2026-07-01 10:00:00")
    def test_preview_of_one_zero_item_says_the_item(self):
        """The bill run preview of 1 July: Lisa's June balance has one free item,
        Ben's none, Anna's two that net to zero: each line says so."""
        lisa = self._balance(self.lisa)
        self._item(lisa, 0.0)
        ben = self._balance(self.ben)
        anna = self._balance(self.anna)
        self._item(anna, 30.0)
        self._item(anna, -30.0)

        wizard = self.env["customer.balance.run.preview"].create({"date": "2026-07-01"})
        wizard.action_compute()

        reasons = {line.balance_id: line.reason for line in wizard.line_ids}
        self.assertEqual(
            reasons[lisa],
            "Nothing to bill: its only item is zero; closed without an invoice.",
        )
        self.assertEqual(
            reasons[ben],
            "Nothing to bill: no pending item; closed without an invoice.",
        )
        self.assertEqual(
            reasons[anna],
            "Nothing to bill: the items net to zero; closed without an invoice.",
        )

    def test_cancelling_one_item_says_1_item_and_one_full_stop(self):
        """Cancelled with the reason "Moved away." (the accountant's own full
        stop) and one pending item: one full stop, "1 pending item"."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)

        balance._cancel("Moved away.")

        self.assertEqual(
            self._texts(balance)[0],
            "Balance cancelled: Moved away. 1 pending item waived: it will not be "
            "billed, and its order shows nothing to invoice for it.",
        )

        ben_balance = self._balance(self.ben)
        self._item(ben_balance, 100.0)
        self._item(ben_balance, 50.0)
        ben_balance.with_env(self.env_de)._cancel("Umgezogen")
        self.assertEqual(
            self._texts(ben_balance)[0],
            "Kundenkonto storniert: Umgezogen. 2 offene Positionen erlassen: Sie "
            "werden nicht abgerechnet, und ihre Aufträge zeigen für sie nichts mehr "
            "abzurechnen.",
        )

    def test_merge_of_one_item_says_1_item(self):
        """Lisa's duplicate had one desk day: the merged balance says "1 item
        moved"."""
        twin = self.env["res.partner"].create(
            {"name": "Lisa Solo (duplicate)", "email": "lisa@example.org"}
        )
        lisa_june = self._balance(self.lisa)
        self._item(lisa_june, 100.0)
        twin_june = self._balance(twin)
        self._item(twin_june, 40.0)
        twin_name = twin_june.name

        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.lisa | twin).ids, self.lisa
        )

        self.assertRegex(
            self._texts(lisa_june)[0],
            rf"^Balance {re.escape(twin_name)} merged into this one \(.*\): 1 item "
            r"moved\.$",
        )


@tagged("post_install", "-at_install")
class TestCarriedOverBanner(CustomerBalanceTestMixin, HttpCase):
    """The Carried Over banner of the balance form, as the accountant sees it."""

    def test_carried_over_banner_is_one_sentence(self):
        """A balance carried into July: its banner reads as one sentence, the
        July balance's name an inline link in it, no line broken before ", which
        bills them."."""
        company = self.env.ref("base.main_company")
        company.write({"balance_enabled": True, "balance_min_amount": 50.0})
        member = self.env["res.partner"].create({"name": "Banner Member"})
        june = self.env["customer.balance"].create(
            {
                "partner_id": member.id,
                "company_id": company.id,
                "period_type": "month",
                "period_start": "2026-06-01",
                "period_end": "2026-06-30",
                "billing_date": "2026-06-30",
            }
        )
        self.env["customer.balance.line"].create(
            {
                "balance_id": june.id,
                "partner_id": member.id,
                "name": "Desk day",
                "price_unit": 10.0,
                "service_date": "2026-06-15",
                "tax_ids": [Command.clear()],
            }
        )
        july = june._carry_over()
        self.assertEqual(june.display_state, "carried")
        code = """
            (async () => {
                let banner, link;
                for (let i = 0; i < 200 && !link; i++) {
                    await new Promise((resolve) => setTimeout(resolve, 50));
                    banner = [...document.querySelectorAll(".o_form_view .alert")].find(
                        (alert) => alert.textContent.includes("Carried over.")
                    );
                    link = banner && banner.querySelector("a");
                }
                if (!link) {
                    throw new Error("no link in the Carried Over banner");
                }
                const text = banner.innerText.trim();
                if (text.includes("\\n")) {
                    throw new Error(`banner in lines: ${JSON.stringify(text)}`);
                }
                const expected = "Carried over. Below the minimum invoice amount, its "
                    + "items went into the next period's balance %s, which bills them.";
                if (text.replace(/\\s+/g, " ") !== expected) {
                    throw new Error(`banner reads: ${JSON.stringify(text)}`);
                }
                // The comma follows the link on its line.
                const walker = document.createTreeWalker(banner, NodeFilter.SHOW_TEXT);
                let tail;
                while (walker.nextNode()) {
                    if (walker.currentNode.data.includes("which bills them")) {
                        tail = walker.currentNode;
                    }
                }
                const range = document.createRange();
                range.setStart(tail, tail.data.indexOf(","));
                range.setEnd(tail, tail.data.indexOf(",") + 1);
                const comma = range.getClientRects()[0];
                const rects = link.getClientRects();
                const end = rects[rects.length - 1];
                if (Math.abs(comma.bottom - end.bottom) > 4
                        || comma.left < end.right - 1) {
                    throw new Error("the comma is not right after the link");
                }
                console.log("test successful");
            })();
        """ % july.display_name.replace("\\", "\\\\").replace('"', '\\"')
        self.browser_js(
            f"/odoo/action-customer_balance.action_customer_balance/{june.id}",
            code,
            login="admin",
        )
