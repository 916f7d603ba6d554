# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestGroupingKey(CustomerBalanceCommon):
    """Which balance an item goes on is one stored key (``grouping_key``), built
    from ``_get_grouping_fields()``: the unique index, reopening and partner merge
    read it, so a module keeping balances apart by one more field gets its own
    balances."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = cls._billing_clerk("grouping.clerk")

    def _keep_balances_apart_by_project(self):
        """Extend the grouping key as a module keeping balances per project would.
        The item's source document stands for its project; the balance keeps it
        in a plain text field of its own (``billing_error``: no bill run runs in
        these tests)."""
        Balance = type(self.Balance)
        grouping_fields = Balance._get_grouping_fields
        grouping_key = Balance._get_grouping_key

        def _get_grouping_fields(model):
            return [*grouping_fields(model), "billing_error"]

        def _get_grouping_key(model, item, billed_partner):
            return {
                **grouping_key(model, item, billed_partner),
                "billing_error": item.origin_ref or False,
            }

        self.patch(Balance, "_get_grouping_fields", _get_grouping_fields)
        self.patch(Balance, "_get_grouping_key", _get_grouping_key)

    # === THE STORED KEY === #

    @freeze_time("2026-06-20 10:00:00")
    def test_grouping_key_is_stored_and_fixed(self):
        """Lisa's June balance stores its key (her, the company, the currency);
        a billing user cannot write it, nor another customer, while writing the
        key it already has is no error."""
        item = self._new_item(self.lisa)
        balance = item.balance_id
        self.assertEqual(
            json.loads(balance.grouping_key),
            {
                "company_id": self.company.id,
                "currency_id": self.currency.id,
                "partner_id": self.lisa.id,
            },
        )
        as_clerk = balance.with_user(self.billing_user)
        with self.assertRaises(UserError):
            as_clerk.write({"grouping_key": "forged"})
        with self.assertRaises(UserError):
            as_clerk.write({"partner_id": self.anna.id})
        as_clerk.write({"grouping_key": balance.grouping_key})
        self.assertEqual(balance.partner_id, self.lisa)

    # === A MODULE ADDING A GROUPING FIELD === #

    @freeze_time("2026-06-20 10:00:00")
    def test_extra_grouping_field_gets_its_own_balances(self):
        """Lisa books desks for two projects in June: each project gets its own
        open June balance at once (no conflict on the unique index, no retry),
        and a second item of the first project joins its balance."""
        self._keep_balances_apart_by_project()
        apollo = self._new_item(self.lisa, origin_ref="Apollo")
        gemini = self._new_item(self.lisa, 40.0, origin_ref="Gemini")
        apollo_again = self._new_item(self.lisa, 20.0, origin_ref="Apollo")

        self.assertNotEqual(apollo.balance_id, gemini.balance_id)
        self.assertEqual(apollo_again.balance_id, apollo.balance_id)
        balances = apollo.balance_id | gemini.balance_id
        self.assertEqual(set(balances.mapped("state")), {"open"})
        self.assertEqual(set(balances.mapped("period_start")), {date(2026, 6, 1)})
        self.assertEqual(balances.mapped("billing_error"), ["Apollo", "Gemini"])
        self.assertEqual(apollo.balance_id.amount_untaxed, 120.0)
        self.assertEqual(gemini.balance_id.amount_untaxed, 40.0)

    @freeze_time("2026-06-20 10:00:00")
    def test_extra_grouping_field_reopens_its_own_balance(self):
        """The Apollo balance is billed now, then its invoice cancelled: it opens
        again with its items (the open Gemini balance of June is another key,
        not one that would take them)."""
        self._keep_balances_apart_by_project()
        apollo = self._new_item(self.lisa, origin_ref="Apollo")
        gemini = self._new_item(self.lisa, 40.0, origin_ref="Gemini")
        balance = apollo.balance_id
        balance.action_consolidate()
        invoice = balance.invoice_id
        if invoice.state == "posted":
            invoice.button_draft()
        invoice.button_cancel()

        self.assertEqual(balance.state, "open")
        self.assertEqual(apollo.balance_id, balance)
        self.assertEqual(apollo.state, "pending")
        self.assertEqual(gemini.balance_id.state, "open")
        self.assertNotEqual(gemini.balance_id, balance)

    @freeze_time("2026-06-20 10:00:00")
    def test_extra_grouping_field_in_partner_merge(self):
        """Lisa and her duplicate both have an Apollo balance in June, the
        duplicate a Gemini one too: merged, the two Apollo balances become one,
        the Gemini balance stays apart, now Lisa's, its key saying so."""
        self._keep_balances_apart_by_project()
        twin = self.env["res.partner"].create(
            {"name": "Lisa Solo (duplicate)", "email": "lisa@example.org"}
        )
        apollo = self._new_item(self.lisa, origin_ref="Apollo")
        twin_apollo = self._new_item(twin, 30.0, origin_ref="Apollo")
        twin_gemini = self._new_item(twin, 40.0, origin_ref="Gemini")
        gemini_balance = twin_gemini.balance_id

        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.lisa | twin).ids, self.lisa
        )

        self.assertEqual(twin_apollo.balance_id, apollo.balance_id)
        self.assertEqual(apollo.balance_id.amount_untaxed, 130.0)
        self.assertEqual(twin_gemini.balance_id, gemini_balance)
        self.assertEqual(gemini_balance.state, "open")
        self.assertEqual(gemini_balance.partner_id, self.lisa)
        self.assertEqual(
            json.loads(gemini_balance.grouping_key)["partner_id"], self.lisa.id
        )
        # The next Gemini item of Lisa finds the merged balance by its key.
        self.assertEqual(
            self._new_item(self.lisa, origin_ref="Gemini").balance_id, gemini_balance
        )
