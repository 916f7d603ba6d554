# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestWriteGuard(CustomerBalanceCommon):
    """The fields only transitions write (``customer.balance.transition.mixin``):
    refused to everyone else when the value changes, whatever context an RPC call
    sends; the same value written back is no error; the order's synchronisation
    and the lifecycle are separate permissions, and "leave the balance alone"
    permits nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()
        cls.billing_user = cls._billing_clerk("guard.clerk")

    def _book(self, partner):
        """A confirmed order of one desk day of ``partner`` (on a balance)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": self.desk.id})],
            }
        )
        order.action_confirm()
        return order

    @freeze_time("2026-06-20 10:00:00")
    def test_same_value_written_back_is_no_error(self):
        """A form saving every field writes back what Anna's balance and its
        invoiced item already hold (state, customer, period, totals, price): no
        error, nothing changes; another value is refused."""
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        kept = self._item(balance, 10.0)
        item.action_invoice_now()
        as_clerk = balance.with_user(self.billing_user)
        as_clerk.write(
            {
                "state": "open",
                "partner_id": self.anna.id,
                "currency_id": self.currency.id,
                "period_start": "2026-06-01",
                "amount_total": balance.amount_total,
            }
        )
        item.with_user(self.billing_user).write(
            {
                "state": "invoiced",
                "invoice_line_id": item.invoice_line_id.id,
                "price_unit": 100.0,
                "tax_ids": [Command.set(self.tax_sale_a.ids)],
                "service_date": item.service_date,
            }
        )
        self.assertEqual((balance.state, balance.partner_id), ("open", self.anna))
        self.assertEqual((item.state, item.price_unit), ("invoiced", 100.0))
        with self.assertRaises(UserError):
            as_clerk.write({"state": "open", "period_start": "2026-05-01"})
        with self.assertRaises(UserError):
            item.with_user(self.billing_user).write(
                {"state": "invoiced", "price_unit": 90.0}
            )
        with self.assertRaises(UserError):
            item.with_user(self.billing_user).write({"tax_ids": [Command.clear()]})
        self.assertEqual(item.price_unit, 100.0)
        self.assertEqual(item.tax_ids, self.tax_sale_a)
        self.assertEqual(kept.state, "pending")

    @freeze_time("2026-06-20 10:00:00")
    def test_client_context_writes_nothing_around_the_transitions(self):
        """An RPC call sending the transition's context key with any value (JSON
        cannot hold the real one) changes neither a balance's total nor an
        item's state."""
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        for value in (True, 1, "lifecycle", ["lifecycle", "order"]):
            context = {"customer_balance_transition": value}
            with self.assertRaises(UserError):
                balance.with_user(self.billing_user).with_context(**context).write(
                    {"amount_total": 1.0}
                )
            with self.assertRaises(UserError):
                item.with_user(self.billing_user).with_context(**context).write(
                    {"state": "cancel"}
                )
        self.assertEqual(balance.amount_untaxed, 100.0)
        self.assertEqual(item.state, "pending")

    @freeze_time("2026-06-20 10:00:00")
    def test_order_sync_and_lifecycle_are_separate_permissions(self):
        """The order's synchronisation (``_as_transition("order")``, as the
        resource booking bridge plays it) writes a booking item's price but not
        its state; a lifecycle transition writes its state but not its price."""
        item = self._book(self.anna).order_line.balance_line_ids
        with self.assertRaises(UserError):
            item._as_transition("order").write({"state": "cancel"})
        with self.assertRaises(UserError):
            item._as_transition().write({"price_unit": 80.0})
        item._as_transition("order").write({"price_unit": 80.0})
        self.assertEqual(item.price_unit, 80.0)
        self.assertEqual(item.balance_id.amount_untaxed, 80.0)
        self.assertEqual(item.state, "pending")

    @freeze_time("2026-06-20 10:00:00")
    def test_leaving_the_balance_alone_permits_nothing(self):
        """The flag the assignment and the transitions set to update the balances
        themselves (``_without_balance_touch``) is no permission: an item's state
        is still refused with it, and written with a transition."""
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        with self.assertRaises(UserError):
            item._without_balance_touch().write({"state": "cancel"})
        self.assertEqual(item.state, "pending")
        item._cancel_with_booking()
        self.assertEqual(item.state, "cancel")
        self.assertEqual(balance.amount_untaxed, 0.0)

    @freeze_time("2026-06-20 10:00:00")
    def test_new_balance_and_item_are_open_and_pending(self):
        """Creating a balance already invoiced, or an item already invoiced, is
        refused outside the transitions."""
        with self.assertRaises(UserError):
            self.env["customer.balance"].create(
                {"partner_id": self.anna.id, "state": "invoiced"}
            )
        with self.assertRaises(UserError):
            self.Item.create(
                {
                    "partner_id": self.anna.id,
                    "name": "Forged",
                    "price_unit": 1.0,
                    "state": "cancel",
                }
            )

    @freeze_time("2026-06-20 10:00:00")
    def test_item_amounts_are_never_written(self):
        """A billing clerk's RPC write of a pending item's computed amounts
        (subtotal, total, the amounts its balance's sums are made of) is
        refused: the balance keeps the total its invoice will bill."""
        item = self._item(self._balance(self.anna), 51.6)
        balance = item.balance_id
        total = balance.amount_total
        for vals in (
            {"price_subtotal": 1000000.0},
            {"price_total": 1000000.0},
            {"raw_price_subtotal": 1000000.0},
            {"raw_tax_amounts": {"1": 1000000.0}},
            {"has_price_excluded_tax": not item.has_price_excluded_tax},
        ):
            with self.assertRaisesRegex(UserError, "computed from its quantity"):
                item.with_user(self.billing_user).write(vals)
        self.env.flush_all()
        self.assertFalse(
            balance.currency_id.compare_amounts(balance.amount_total, total)
        )
        self._assert_pending_sums_are_the_items(balance)
        # The same value written back passes, as a form saving every field does.
        item.with_user(self.billing_user).write({"price_subtotal": item.price_subtotal})
        self.assertEqual(item.state, "pending")
