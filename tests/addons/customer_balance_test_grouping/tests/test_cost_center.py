# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import ConcurrencyError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.customer_balance.tests.common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestCostCenter(CustomerBalanceCommon):
    """A module keeping balances apart by a cost center, installed for real: its
    field is in ``_get_grouping_fields()``, so the stored key, the unique index,
    reopening and partner merge keep each cost center on its own balances."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Balance = cls.env["customer.balance"]

    def setUp(self):
        super().setUp()
        self.creations = self._spy_balance_creations()

    def _spy_balance_creations(self):
        """Record each call of ``_create_for_assignment`` (the balances it
        created) and each conflict on the unique index it turned into a retry
        (a ``ConcurrencyError``)."""
        Balance = type(self.Balance)
        create_for_assignment = Balance._create_for_assignment
        calls = {"created": [], "conflicts": []}

        def spy(model, vals_list):
            try:
                balances = create_for_assignment(model, vals_list)
            except ConcurrencyError as error:
                calls["conflicts"].append(error)
                raise
            calls["created"].append(balances)
            return balances

        self.patch(Balance, "_create_for_assignment", spy)
        return calls

    def _cancel_invoice(self, balance):
        """Bill ``balance`` now, then cancel its consolidated invoice."""
        balance.action_consolidate()
        invoice = balance.invoice_id
        if invoice.state == "posted":
            invoice.button_draft()
        invoice.button_cancel()
        return invoice

    # === ASSIGNMENT === #

    @freeze_time("2026-06-20 10:00:00")
    def test_cost_centers_get_their_own_balances(self):
        """Lisa books desks for Operations and for Research in June: each cost
        center gets its own open June balance at once, created once, without a
        conflict on the unique index (no retry); a second Operations item joins
        the Operations balance, an item without cost center gets a third one."""
        ops = self._new_item(self.lisa, cost_center="OPS")
        research = self._new_item(self.lisa, 40.0, cost_center="R&D")
        ops_again = self._new_item(self.lisa, 20.0, cost_center="OPS")
        plain = self._new_item(self.lisa, 10.0)

        self.assertEqual(ops_again.balance_id, ops.balance_id)
        balances = ops.balance_id | research.balance_id | plain.balance_id
        self.assertEqual(len(balances), 3)
        self.assertEqual(balances.mapped("cost_center"), ["OPS", "R&D", False])
        self.assertEqual(set(balances.mapped("state")), {"open"})
        self.assertEqual(set(balances.mapped("partner_id")), {self.lisa})
        self.assertEqual(len(set(balances.mapped("period_start"))), 1)
        self.assertEqual(
            balances.mapped("amount_untaxed"), [120.0, 40.0, 10.0], "per cost center"
        )
        research_key = json.loads(research.balance_id.grouping_key)
        self.assertEqual(research_key["cost_center"], "R&D")
        self.assertNotIn("cost_center", json.loads(plain.balance_id.grouping_key))
        # One creation per new balance, none refused by the index.
        self.assertEqual(self.creations["conflicts"], [])
        self.assertEqual([len(b) for b in self.creations["created"]], [1, 1, 1])
        self.assertEqual(self.Balance.union(*self.creations["created"]), balances)

    @freeze_time("2026-06-20 10:00:00")
    def test_items_of_two_cost_centers_at_once(self):
        """Two items of Lisa's June created in one call, one per cost center:
        one creation makes both balances, no conflict."""
        ops, research = self.env["customer.balance.line"].create(
            [
                {
                    "partner_id": self.lisa.id,
                    "product_id": self.desk.id,
                    "name": "Desk day",
                    "quantity": 1.0,
                    "price_unit": price,
                    "service_date": "2026-06-15",
                    "cost_center": cost_center,
                }
                for price, cost_center in ((100.0, "OPS"), (40.0, "R&D"))
            ]
        )
        self.assertNotEqual(ops.balance_id, research.balance_id)
        self.assertEqual(self.creations["conflicts"], [])
        self.assertEqual([len(b) for b in self.creations["created"]], [2])

    @freeze_time("2026-06-20 10:00:00")
    def test_changed_cost_center_moves_the_item(self):
        """A pending item moved from Operations to Research leaves the
        Operations balance for Lisa's Research balance of June."""
        ops = self._new_item(self.lisa, cost_center="OPS")
        research = self._new_item(self.lisa, 40.0, cost_center="R&D")
        moved = self._new_item(self.lisa, 20.0, cost_center="OPS")

        moved.cost_center = "R&D"

        self.assertEqual(moved.balance_id, research.balance_id)
        self.assertEqual(ops.balance_id.amount_untaxed, 100.0)
        self.assertEqual(research.balance_id.amount_untaxed, 60.0)
        self.assertEqual(self.creations["conflicts"], [])

    @freeze_time("2026-06-20 10:00:00")
    def test_unique_index_is_per_cost_center(self):
        """The database holds one open balance per cost center and period: a
        second open Research balance of Lisa's June is refused, an Operations
        one is not."""
        self._balance(self.lisa, cost_center="R&D")
        ops = self._balance(self.lisa, cost_center="OPS")
        ops.flush_recordset()
        self.assertEqual(json.loads(ops.grouping_key)["cost_center"], "OPS")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self._balance(self.lisa, cost_center="R&D")
                self.env.flush_all()

    # === REOPENING === #

    @freeze_time("2026-06-20 10:00:00")
    def test_cancelled_invoice_reopens_its_cost_center(self):
        """The Operations balance is billed now, then its invoice cancelled: it
        opens again with its items, though Lisa's Research balance of June is
        open (another key)."""
        ops = self._new_item(self.lisa, cost_center="OPS")
        research = self._new_item(self.lisa, 40.0, cost_center="R&D")
        balance = ops.balance_id

        self._cancel_invoice(balance)

        self.assertEqual(balance.state, "open")
        self.assertEqual(ops.balance_id, balance)
        self.assertEqual(ops.state, "pending")
        self.assertEqual(research.balance_id.state, "open")
        self.assertNotEqual(research.balance_id, balance)
        self.assertEqual(self.creations["conflicts"], [])

    @freeze_time("2026-06-20 10:00:00")
    def test_cancelled_invoice_joins_the_open_balance_of_its_cost_center(self):
        """The Operations balance is billed now and a new Operations item opens
        another June balance: when the invoice is cancelled, the billed balance
        is cancelled and its items join the open Operations balance, not the
        Research one."""
        ops = self._new_item(self.lisa, cost_center="OPS")
        research = self._new_item(self.lisa, 40.0, cost_center="R&D")
        billed = ops.balance_id
        billed.action_consolidate()
        later = self._new_item(self.lisa, 20.0, cost_center="OPS")
        self.assertNotEqual(later.balance_id, billed)

        invoice = billed.invoice_id
        if invoice.state == "posted":
            invoice.button_draft()
        invoice.button_cancel()

        self.assertEqual(billed.state, "cancel")
        self.assertEqual(ops.balance_id, later.balance_id)
        self.assertEqual(ops.state, "pending")
        self.assertEqual(later.balance_id.amount_untaxed, 120.0)
        self.assertEqual(research.balance_id.amount_untaxed, 40.0)
        self.assertEqual(self.creations["conflicts"], [])

    # === PARTNER MERGE === #

    @freeze_time("2026-06-20 10:00:00")
    def test_partner_merge_keeps_cost_centers_apart(self):
        """Lisa and her duplicate both have an Operations balance and one
        without cost center in June, the duplicate a Research one too: merged,
        each pair becomes one balance, the Research balance stays apart, now
        Lisa's, its key saying so."""
        twin = self.env["res.partner"].create(
            {"name": "Lisa Solo (duplicate)", "email": "lisa@example.org"}
        )
        ops = self._new_item(self.lisa, cost_center="OPS")
        plain = self._new_item(self.lisa, 10.0)
        twin_ops = self._new_item(twin, 30.0, cost_center="OPS")
        twin_plain = self._new_item(twin, 5.0)
        twin_research = self._new_item(twin, 40.0, cost_center="R&D")
        research_balance = twin_research.balance_id

        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.lisa | twin).ids, self.lisa
        )

        self.assertEqual(twin_ops.balance_id, ops.balance_id)
        self.assertEqual(ops.balance_id.amount_untaxed, 130.0)
        self.assertEqual(twin_plain.balance_id, plain.balance_id)
        self.assertEqual(plain.balance_id.amount_untaxed, 15.0)
        self.assertEqual(twin_research.balance_id, research_balance)
        self.assertEqual(research_balance.state, "open")
        self.assertEqual(research_balance.partner_id, self.lisa)
        self.assertEqual(
            json.loads(research_balance.grouping_key),
            {
                "company_id": self.company.id,
                "cost_center": "R&D",
                "currency_id": self.currency.id,
                "partner_id": self.lisa.id,
            },
        )
        open_balances = self.Balance.search(
            [("partner_id", "=", self.lisa.id), ("state", "=", "open")]
        )
        self.assertEqual(len(open_balances), 3)
        # Lisa's next Research item finds the merged balance by its key.
        self.assertEqual(
            self._new_item(self.lisa, cost_center="R&D").balance_id, research_balance
        )
        self.assertEqual(self.creations["conflicts"], [])
