# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestUpcomingNotice(CustomerBalanceCommon):
    """Notice 3 days ahead: June's balances are invoiced on 1 July, so their
    members hear of it on 28 June (Berlin time)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_notice_days = 3
        cls.template = cls.env.ref(
            "customer_balance.mail_template_balance_upcoming_invoice"
        )

    # === HELPERS === #

    def _notices(self, balance):
        """The upcoming invoice notices posted on ``balance``."""
        balance.invalidate_recordset(["message_ids"])
        return balance.message_ids.filtered(
            lambda message: (
                message.message_type == "comment"
                and message.subject
                and balance.name in message.subject
            )
        )

    def _run_on(self, moment):
        with freeze_time(moment):
            return self._bill_run()

    # === WHEN === #

    def test_notice_in_window_once(self):
        """Lisa's June balance (115.00, invoiced on 1 July): the run of 27 June
        sends nothing; the run of 28 June (00:30 in Berlin, still 27 June in
        UTC) sends her one notice with her item, the total, the date of the
        invoice and her balance page with its access token, addressed to her on
        the chatter; the runs of 29 and 30 June send nothing more, not even after
        an item was added; on 1 July the balance is billed, no notice."""
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        self._run_on("2026-06-27 08:00:00")
        self.assertFalse(self._notices(balance))
        self.assertFalse(balance.notice_date)

        self._run_on("2026-06-27 22:30:00")
        notice = self._notices(balance)
        self.assertEqual(len(notice), 1)
        self.assertEqual(balance.notice_date, date(2026, 6, 28))
        self.assertEqual(notice.partner_ids, self.lisa)
        self.assertEqual(notice.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn("07/01/2026", notice.subject)
        body = str(notice.body)
        self.assertIn("Desk day", body)
        self.assertIn("115.00", body)
        self.assertIn("06/01/2026", body)
        self.assertIn(f"/my/balances/{balance.id}?access_token=", body)
        self.assertIn(balance.access_token, body)
        mails = self.env["mail.mail"].search([("mail_message_id", "=", notice.id)])
        self.assertEqual(mails.recipient_ids, self.lisa)

        self._run_on("2026-06-29 08:00:00")
        self._item(balance, 50.0)
        self._run_on("2026-06-30 08:00:00")
        self.assertEqual(len(self._notices(balance)), 1)
        self.assertEqual(balance.notice_date, date(2026, 6, 28))

        self._run_on("2026-07-01 08:00:00")
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(len(self._notices(balance)), 1)

    def test_no_notice_when_off(self):
        """Notice days 0: no notice, ever."""
        self.company.balance_notice_days = 0
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        self._run_on("2026-06-29 08:00:00")
        self.assertFalse(self._notices(balance))
        self.assertFalse(balance.notice_date)

    def test_no_notice_for_nothing_to_bill(self):
        """An empty balance, one whose items net to zero and one below the
        minimum amount (carried over, not invoiced) get no notice."""
        self.company.balance_min_amount = 50.0
        empty = self._balance(self.lisa)
        netted = self._balance(self.anna)
        self._item(netted, 100.0)
        self._item(netted, -100.0)
        small = self._balance(self.ben)
        self._item(small, 10.0)
        self._run_on("2026-06-29 08:00:00")
        for balance in empty | netted | small:
            self.assertFalse(self._notices(balance), balance.partner_id.name)
            self.assertFalse(balance.notice_date)

    def test_no_notice_for_balance_billed_early(self):
        """Lisa's balance is billed on 20 June (Bill now), Anna's reaches the
        billing threshold and the run of 20 June bills it: neither gets a notice
        on 28 June."""
        self.company.balance_threshold_amount = 200.0
        lisa = self._balance(self.lisa)
        self._item(lisa, 100.0)
        anna = self._balance(self.anna)
        self._item(anna, 300.0)
        with freeze_time("2026-06-20 08:00:00"):
            lisa.action_consolidate()
            self._bill_run()
        self.assertEqual((lisa | anna).mapped("state"), ["invoiced", "invoiced"])
        self._run_on("2026-06-28 08:00:00")
        self.assertFalse(self._notices(lisa) | self._notices(anna))

    # === TO WHOM, IN WHICH LANGUAGE === #

    def test_company_recipients(self):
        """Balances per company: Figma's notice goes to its billing contact Ben;
        without billing contacts, to the invoice address; the other employees
        (Anna) get none."""
        self.company.balance_grouping = "company"
        self.ben.balance_billing_contact = True
        figma = self._balance(self.figma)
        self._item(figma, 100.0, partner=self.anna)
        self._run_on("2026-06-28 08:00:00")
        self.assertEqual(self._notices(figma).partner_ids, self.ben)

        self.ben.balance_billing_contact = False
        invoices = self.env["res.partner"].create(
            {
                "name": "Figma Invoices",
                "type": "invoice",
                "parent_id": self.figma.id,
                "email": "invoices@figma.com",
            }
        )
        other = self.env["res.partner"].create(
            {"name": "Pixar", "is_company": True, "email": "books@pixar.com"}
        )
        with_address = self._balance(other, month=7)
        self._item(with_address, 100.0, service_date="2026-07-10")
        second = self._balance(self.figma, month=7)
        self._item(second, 100.0, partner=self.anna, service_date="2026-07-10")
        self._run_on("2026-07-29 08:00:00")
        self.assertEqual(self._notices(second).partner_ids, invoices)
        self.assertEqual(self._notices(with_address).partner_ids, other)

    def test_notice_in_the_customer_language(self):
        """Lisa reads German: her notice is the German template, with German
        dates; Anna's stays English."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["customer_balance"], ["de_DE"], overwrite=True
        )
        self.lisa.lang = "de_DE"
        lisa = self._balance(self.lisa)
        self._item(lisa, 100.0)
        anna = self._balance(self.anna)
        self._item(anna, 100.0)
        self._run_on("2026-06-28 08:00:00")
        german = self._notices(lisa)
        self.assertIn("Ihre Rechnung", german.subject)
        self.assertIn("Kundenkonto", str(german.body))
        self.assertIn("01.07.2026", german.subject)
        english = self._notices(anna)
        self.assertIn("your invoice of 07/01/2026", english.subject)

    def test_template_is_editable(self):
        """The notice is the template's: an edited subject is what is sent."""
        self.template.subject = "Coming soon: {{ object.name }}"
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        self._run_on("2026-06-28 08:00:00")
        balance.invalidate_recordset(["message_ids"])
        self.assertIn(
            f"Coming soon: {balance.name}", balance.message_ids.mapped("subject")
        )

    # === EXACTLY ONCE === #

    def test_run_now_sends_without_committing(self):
        """*Run Now* by an accountant sends the notices too, in her request
        (nothing committed there)."""
        clerk = new_test_user(
            self.env, login="notice.clerk", groups="account.group_account_invoice"
        )
        balance = self._balance(self.lisa)
        self._item(balance, 100.0)
        with freeze_time("2026-06-28 08:00:00"):
            self.env["customer.balance.run"].with_user(clerk).action_run_now()
        self.assertEqual(len(self._notices(balance)), 1)

    def test_killed_run_resumes_without_second_notice(self):
        """Three members' balances in the window; the worker dies while
        committing the second notice (lost with its transaction, the first was
        committed). The next run sends the second and the third: one notice per
        balance."""
        partners = self.env["res.partner"].create(
            [
                {"name": f"Member {number}", "email": f"m{number}@example.org"}
                for number in range(3)
            ]
        )
        balances = self.Balance
        for partner in partners:
            balances |= self._balance(partner)
            self._item(balances[-1], 100.0)
        sent = []
        send = type(self.Balance)._send_upcoming_notice

        def counting_send(balance):
            sent.append(balance.id)
            return send(balance)

        def send_notices():
            with patch.object(
                type(self.Balance), "_send_upcoming_notice", counting_send
            ):
                # As the scheduled run calls it (progress committed).
                self.env["customer.balance.run"].with_context(
                    ir_cron_progress_id=-1
                )._send_upcoming_notices()

        with freeze_time("2026-06-28 08:00:00"):
            self._run_until_the_worker_dies(send_notices, lambda _calls: len(sent) == 2)
            self.assertEqual(
                [len(self._notices(balance)) for balance in balances], [1, 0, 0]
            )
            self._bill_run()
        self.assertEqual(
            [len(self._notices(balance)) for balance in balances], [1, 1, 1]
        )
        self.assertEqual(set(balances.mapped("notice_date")), {date(2026, 6, 28)})
