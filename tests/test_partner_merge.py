# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestPartnerMerge(CustomerBalanceCommon):
    """Lisa was entered twice; both contacts booked desks in June. Merging them
    with Odoo's merge wizard leaves one June balance holding every item."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lisa_twin = cls.env["res.partner"].create(
            {"name": "Lisa Solo (duplicate)", "email": "lisa@example.org"}
        )
        cls.Wizard = cls.env["base.partner.merge.automatic.wizard"]

    def _merge(self, partners, survivor):
        self.Wizard._merge(partners.ids, survivor)

    @freeze_time("2026-06-20 10:00:00")
    def test_merge_two_open_balances_of_the_same_period(self):
        """Lisa (100.00) and her duplicate (40.00 + 20.00) each have a June
        balance: after the merge Lisa's June balance holds the three items
        (160.00 untaxed), the duplicate's balance is gone, and Lisa's balance says
        so in its chatter."""
        lisa_june = self._balance(self.lisa)
        lisa_item = self._item(lisa_june, 100.0)
        twin_june = self._balance(self.lisa_twin)
        twin_items = self._item(twin_june, 40.0) | self._item(twin_june, 20.0)
        twin_name = twin_june.name

        self._merge(self.lisa | self.lisa_twin, self.lisa)

        self.assertFalse(self.lisa_twin.exists())
        self.assertFalse(twin_june.exists())
        balances = self.env["customer.balance"].search(
            [("partner_id", "=", self.lisa.id)]
        )
        self.assertEqual(balances, lisa_june)
        self.assertEqual(lisa_june.line_ids, lisa_item | twin_items)
        self.assertEqual(set(lisa_june.line_ids.mapped("state")), {"pending"})
        self.assertEqual(twin_items.partner_id, self.lisa)
        self.assertAlmostEqual(lisa_june.amount_untaxed, 160.0)
        self.assertEqual(lisa_june.item_count, 3)
        messages = "\n".join(lisa_june.message_ids.mapped("body"))
        self.assertIn(twin_name, messages)
        self.assertIn("merged into this one", messages)

    @freeze_time("2026-06-20 10:00:00")
    def test_balances_of_other_periods_follow_the_contact(self):
        """The duplicate's July balance has no counterpart: it simply becomes
        Lisa's, with its item."""
        lisa_june = self._balance(self.lisa)
        self._item(lisa_june, 100.0)
        twin_july = self._balance(self.lisa_twin, month=7)
        twin_item = self._item(twin_july, 55.0)

        self._merge(self.lisa | self.lisa_twin, self.lisa)

        self.assertEqual(twin_july.partner_id, self.lisa)
        self.assertEqual(twin_july.state, "open")
        self.assertEqual(twin_item.balance_id, twin_july)
        self.assertEqual(
            self.env["customer.balance"].search([("partner_id", "=", self.lisa.id)]),
            lisa_june | twin_july,
        )

    @freeze_time("2026-06-20 10:00:00")
    def test_merged_balance_with_an_item_billed_on_its_own(self):
        """The duplicate's June balance also had an item invoiced on its own
        (Invoice Now): its pending item moves to Lisa's balance, the billed one
        stays on its invoice, and no second open June balance is left."""
        lisa_june = self._balance(self.lisa)
        self._item(lisa_june, 100.0)
        twin_june = self._balance(self.lisa_twin)
        billed = self._item(twin_june, 30.0)
        pending = self._item(twin_june, 25.0)
        billed.action_invoice_now()
        self.assertEqual(billed.state, "invoiced")
        invoice = billed.invoice_id

        self._merge(self.lisa | self.lisa_twin, self.lisa)

        self.assertEqual(pending.balance_id, lisa_june)
        self.assertEqual(billed.state, "invoiced")
        self.assertEqual(billed.invoice_id, invoice)
        self.assertEqual(billed.partner_id, self.lisa)
        self.assertTrue(not twin_june.exists() or twin_june.state == "cancel")
        self.assertAlmostEqual(lisa_june.amount_untaxed, 125.0)
        self.assertEqual(
            self.env["customer.balance"].search(
                [("partner_id", "=", self.lisa.id), ("state", "=", "open")]
            ),
            lisa_june,
        )
