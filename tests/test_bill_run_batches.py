# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.customer_balance_run import INVOICE_BATCH_SIZE_PARAM
from .common import CustomerBalanceCommon

RUN_LOGGER = "odoo.addons.customer_balance.models.customer_balance_run"


@tagged("post_install", "-at_install")
class TestBillRunBatches(CustomerBalanceCommon):
    """The bill run builds the invoices of a batch of balances in one
    ``account.move.create`` call and commits the batch as one: a failing balance
    is billed alone, the others of its batch are billed, and a worker dying in a
    batch leaves nothing of it billed twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Move = cls.env["account.move"]
        cls.members = cls.env["res.partner"].create(
            [
                {"name": f"Member {number}", "email": f"member{number}@example.org"}
                for number in range(1, 6)
            ]
        )
        cls.company.balance_auto_post = True

    # === HELPERS === #

    def _june_balances(self, partners):
        """A June balance per partner with two desk days (100.00 and 20.00)."""
        items = self.env["customer.balance.line"]
        with freeze_time("2026-06-15 10:00:00"):
            for partner in partners:
                for price in (100.0, 20.0):
                    items |= self._new_item(partner, price)
        return items.balance_id, items

    def _set_batch_size(self, size):
        self.env["ir.config_parameter"].set_param(INVOICE_BATCH_SIZE_PARAM, str(size))

    def _count_creates(self):
        """Patch ``account.move.create``: returns the patcher and the list of the
        number of moves each call created."""
        MoveModel = type(self.Move)
        create = MoveModel.create
        calls = []

        def counting_create(records, vals_list):
            calls.append(len(vals_list) if isinstance(vals_list, list) else 1)
            return create(records, vals_list)

        return patch.object(MoveModel, "create", counting_create), calls

    def _assert_billed_once(self, balances, items):
        invoices = self.Move.search([("balance_id", "in", balances.ids)])
        self.assertEqual(len(invoices), len(balances))
        self.assertEqual(invoices.balance_id, balances)
        self.assertEqual(set(balances.mapped("state")), {"invoiced"})
        self.assertEqual(set(items.mapped("state")), {"invoiced"})
        self.assertEqual(len(items.invoice_line_id), len(items))
        for balance in balances:
            self.assertEqual(
                balance.line_ids.invoice_line_id.move_id, balance.invoice_id
            )
        return invoices

    # === TESTS === #

    def test_batch_creates_its_invoices_in_one_call(self):
        """Five due balances, batches of 10: their five invoices are created by
        one ``account.move.create`` call, posted, each balance billed once with
        its own items, and the run records five billed outcomes."""
        self._set_batch_size(10)
        balances, items = self._june_balances(self.members)
        patcher, calls = self._count_creates()
        with freeze_time("2026-07-01 08:00:00"), patcher:
            run = self._bill_run()
        self.assertEqual(calls, [5])
        invoices = self._assert_billed_once(balances, items)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual(set(invoices.mapped("amount_total")), {138.0})
        self.assertEqual((run.state, run.billed_count), ("done", 5))
        self.assertEqual(run.invoice_ids, invoices)
        for balance in balances:
            self.assertIn("Consolidated Invoice", self._chatter(balance))

    def test_batches_of_two(self):
        """Batches of 2: five balances are billed in three create calls (2, 2, 1)
        within one call of the scheduler, each committed on its own."""
        self._set_batch_size(2)
        balances, items = self._june_balances(self.members)
        patcher, calls = self._count_creates()
        with freeze_time("2026-07-01 08:00:00"), patcher:
            run = self._bill_run()
        self.assertEqual(calls, [2, 2, 1])
        self._assert_billed_once(balances, items)
        self.assertEqual(run.billed_count, 5)

    def test_failing_balance_in_a_batch(self):
        """Ben's invoice cannot be created (the database refuses its payment
        terms): the batch's create fails, its balances are billed one by one, Ben
        keeps the error and his items pending, the four others are billed once
        and the run ends *failed* with Ben's balance."""
        self._set_batch_size(10)
        partners = self.members[:4] | self.ben
        balances, items = self._june_balances(partners)
        ben = balances.filtered(lambda balance: balance.partner_id == self.ben)
        BalanceModel = type(self.env["customer.balance"])
        prepare = BalanceModel._prepare_invoice_values

        def bad_values(records, lines, invoice_date):
            values = prepare(records, lines, invoice_date)
            if records == ben:
                values["invoice_payment_term_id"] = 999999999
            return values

        patcher, calls = self._count_creates()
        with (
            freeze_time("2026-07-01 08:00:00"),
            patcher,
            patch.object(BalanceModel, "_prepare_invoice_values", bad_values),
            mute_logger("odoo.sql_db", RUN_LOGGER),
        ):
            run = self._bill_run()
        # The batch's call, then one per balance.
        self.assertEqual(calls, [5, 1, 1, 1, 1, 1])
        self.assertEqual(ben.state, "open")
        self.assertIn("invoice_payment_term_id", ben.billing_error)
        self.assertIn("could not bill this balance", ben.message_ids[0].body)
        ben_items = items.filtered(lambda item: item.partner_id == self.ben)
        self.assertEqual(set(ben_items.mapped("state")), {"pending"})
        self._assert_billed_once(balances - ben, items - ben_items)
        self.assertEqual(run.state, "failed")
        self.assertEqual((run.billed_count, run.failed_count), (4, 1))
        self.assertEqual(run.failed_balance_ids, ben)

    def test_failing_post_in_a_batch(self):
        """Posting the batch's invoices fails because of Anna's: the batch is
        rolled back and billed one by one; Anna's balance keeps the error, with
        no invoice left, and the others are billed and posted."""
        self._set_batch_size(10)
        balances, items = self._june_balances(self.members[:2] | self.anna)
        anna = balances.filtered(lambda balance: balance.partner_id == self.anna)
        MoveModel = type(self.Move)
        post = MoveModel.action_post

        def failing_post(moves):
            if anna in moves.balance_id:
                raise UserError("Anna's invoice cannot be posted.")  # pylint: disable=translation-required
            return post(moves)

        with (
            freeze_time("2026-07-01 08:00:00"),
            patch.object(MoveModel, "action_post", failing_post),
            mute_logger(RUN_LOGGER),
        ):
            run = self._bill_run()
        self.assertEqual(anna.state, "open")
        self.assertEqual(anna.billing_error, "Anna's invoice cannot be posted.")
        self.assertFalse(self.Move.search([("balance_id", "=", anna.id)]))
        anna_items = items.filtered(lambda item: item.partner_id == self.anna)
        invoices = self._assert_billed_once(balances - anna, items - anna_items)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual((run.billed_count, run.failed_count), (2, 1))

    def test_worker_dying_in_a_batch_bills_nothing_twice(self):
        """Batches of 2 of five balances; the worker dies while committing the
        second batch: the first batch stays billed, nothing of the second is
        (its two invoices are lost with the transaction). The next run bills the
        three others: five invoices, one per balance, each item invoiced once."""
        self._set_batch_size(2)
        balances, items = self._june_balances(self.members)
        with freeze_time("2026-07-01 08:00:00"):
            # Dies at the initial progress, batch 1, then batch 2.
            calls = self._run_until_the_worker_dies(
                self.env["customer.balance"]._cron_consolidate_due,
                lambda calls: len(calls) == 3,
            )
            self.assertEqual(calls, [0, 2, 2])
            billed = balances.filtered(lambda balance: balance.state == "invoiced")
            self.assertEqual(billed, balances[:2])
            self.assertEqual(
                len(self.Move.search([("balance_id", "in", balances.ids)])), 2
            )
            self.assertEqual(
                set((balances - billed).line_ids.mapped("state")), {"pending"}
            )

            run = self._bill_run()

        self._assert_billed_once(balances, items)
        self.assertEqual(len(self.env["customer.balance.run"].search([])), 1)
        self.assertEqual((run.state, run.billed_count), ("done", 5))
        self.assertEqual(len(run.line_ids), 5)

    def test_call_billing_the_last_balances_when_time_is_up_ends_the_run(self):
        """Odoo's scheduler gives a job a few seconds, then calls it again only
        while it reports balances remaining. When the time is up right after the
        batch holding the last due balances, that call ends the run (done), as
        no further call will come."""
        self._set_batch_size(1)
        balances, items = self._june_balances(self.members[:3])
        Run = self.env["customer.balance.run"]

        def time_is_up(cron, processed=0, remaining=None, deactivate=False):
            cron.env.flush_all()
            return 0.0

        with (
            freeze_time("2026-07-01 08:00:00"),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", time_is_up),
        ):
            for _call in balances:
                Run._cron_bill_run()
        run = Run.search([])
        self._assert_billed_once(balances, items)
        self.assertEqual(len(run), 1)
        self.assertEqual((run.state, run.billed_count), ("done", 3))
        self.assertTrue(run.date_end)
