# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestItemLifecycle(CustomerBalanceCommon):
    """Exactly once on every path (issue 11): what users and attackers do to an
    item, and what each path must leave behind. One test per numbered problem."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sell_desk_days()
        cls.billing_user = cls._billing_clerk("billing.clerk")
        cls.cron = cls.env.ref("customer_balance.ir_cron_consolidate_due")

    # === HELPERS === #

    def _book(self, partner, qty=1.0, price=None):
        """A confirmed order of ``partner`` for ``qty`` desk days (on a balance)."""
        line = {"product_id": self.desk.id, "product_uom_qty": qty}
        if price is not None:
            line["price_unit"] = price
        order = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create(line)]}
        )
        order.action_confirm()
        return order

    def _credit(self, partner, amount, **values):
        """A goodwill credit of ``amount`` (untaxed) added with *Add Entry*."""
        wizard = Form(self.env["customer.balance.entry"])
        wizard.partner_id = partner
        wizard.entry_type = "credit"
        wizard.name = "Goodwill"
        wizard.amount = amount
        for field, value in values.items():
            setattr(wizard, field, value)
        wizard.save().action_add()
        return self.Item.search([], order="id desc", limit=1)

    def _assert_booked_quantities(self, order_line, pending, billed, waived, odoo):
        """The order line accounts for its booked quantity exactly once: pending on
        a balance, invoiced through a balance, waived, or to invoice by Odoo."""
        items = order_line.balance_line_ids
        self.assertAlmostEqual(order_line._balance_pending_qty(), pending)
        self.assertAlmostEqual(
            sum(items.filtered(lambda i: i.state == "invoiced").mapped("quantity")),
            billed,
        )
        self.assertAlmostEqual(order_line.balance_waived_qty, waived)
        self.assertAlmostEqual(order_line.qty_to_invoice, odoo)
        self.assertAlmostEqual(
            order_line.product_uom_qty, pending + billed + waived + odoo
        )

    # === 1. ADD TO BALANCE ON DRAFTS THAT ALREADY BILL ITEMS === #

    @freeze_time("2026-06-20 10:00:00")
    def test_add_to_balance_refused_on_invoice_now_draft(self):
        """Invoice Now made a draft for Anna's desk day: *Add to Balance* is hidden
        on it and refused when called anyway; the charge stays billed once."""
        item = self._item(self._balance(self.anna), 100.0)
        item.action_invoice_now()
        draft = item.invoice_id
        self.assertEqual(draft.state, "draft")
        self.assertFalse(draft.balance_can_add)
        with self.assertRaisesRegex(UserError, "already bills customer balance items"):
            draft.with_user(self.billing_user).action_add_to_balance()
        self.assertTrue(draft.exists())
        self.assertEqual(item.state, "invoiced")
        self.assertEqual(self.Item.search_count([("partner_id", "=", self.anna.id)]), 1)

    @freeze_time("2026-07-02 10:00:00")
    def test_add_to_balance_refused_on_consolidated_draft(self):
        """Auto-post off: the balance's draft consolidated invoice cannot be turned
        into items again (nor is the button shown)."""
        self.company.balance_auto_post = False
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        invoice = balance.action_consolidate() and balance.invoice_id
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.balance_can_add)
        with self.assertRaises(UserError):
            invoice.action_add_to_balance()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(len(balance.line_ids), 1)

    @freeze_time("2026-06-20 10:00:00")
    def test_add_to_balance_still_converts_plain_drafts(self):
        """A plain draft invoice still becomes items (and disappears)."""
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.lisa.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.desk.id, "price_unit": 30.0})
                ],
            }
        )
        self.assertTrue(move.balance_can_add)
        move.action_add_to_balance()
        self.assertFalse(move.exists())
        self.assertEqual(
            self.Item.search([("partner_id", "=", self.lisa.id)]).price_unit, 30.0
        )

    # === 2. ZERO NET AND CANCELLED BALANCES WAIVE === #

    @freeze_time("2026-06-10 10:00:00")
    def test_zero_net_waives_booking_and_credit(self):
        """A 50.00 booking and a 50.00 goodwill credit net to zero: the balance
        closes without an invoice, both items are waived, and the order shows
        nothing to invoice (Odoo's own Create invoice does not bill the 50.00)."""
        self.desk.taxes_id = False
        order = self._book(self.lisa, price=50.0)
        self._credit(self.lisa, 50.0)
        balance = order.order_line.balance_line_ids.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        self.assertEqual(balance.state, "invoiced")
        self.assertFalse(balance.invoice_id)
        self.assertEqual(set(balance.line_ids.mapped("state")), {"cancel"})
        self.assertIn("net to zero", self._chatter(balance))
        self._assert_booked_quantities(order.order_line, 0, 0, 1, 0)
        self.assertEqual(order.invoice_status, "no")
        with self.assertRaises(UserError):
            order._create_invoices()

    @freeze_time("2026-06-10 10:00:00")
    def test_cancel_balance_waives_by_default(self):
        """Cancelling a balance with the wizard (default options) waives its
        charges: the wizard says so, the booking shows nothing to invoice."""
        order = self._book(self.anna)
        balance = order.order_line.balance_line_ids.balance_id
        wizard = Form(
            self.env["customer.balance.cancel"].with_context(
                default_balance_ids=balance.ids
            )
        )
        wizard.reason = "Member left"
        self.assertFalse(wizard.give_back)
        wizard.save().action_cancel()
        self.assertEqual(balance.state, "cancel")
        self._assert_booked_quantities(order.order_line, 0, 0, 1, 0)
        self.assertIn("waived", self._chatter(balance))
        arch = self.env["customer.balance.cancel"].get_views([(False, "form")])
        self.assertIn("are waived", arch["views"]["form"]["arch"])

    @freeze_time("2026-06-10 10:00:00")
    def test_cancel_balance_can_give_bookings_back(self):
        """With *Give the bookings back to normal invoicing*, the booking is to
        invoice by Odoo again (once), a manual charge is simply cancelled, and
        the chatter says so."""
        order = self._book(self.anna)
        balance = order.order_line.balance_line_ids.balance_id
        manual = self._item(balance, 20.0)
        wizard = Form(
            self.env["customer.balance.cancel"].with_context(
                default_balance_ids=balance.ids
            )
        )
        wizard.reason = "Invoice per booking from now on"
        wizard.give_back = True
        wizard.save().action_cancel()
        self.assertEqual(manual.state, "cancel")
        self._assert_booked_quantities(order.order_line, 0, 0, 0, 1)
        self.assertIn(order.name, self._chatter(balance))
        invoice = order._create_invoices()
        self.assertAlmostEqual(invoice.amount_untaxed, 100.0)
        self.assertAlmostEqual(order.order_line.qty_to_invoice, 0.0)
        # Editing the order later does not put the quantity back on a balance.
        order.order_line.price_unit = 110.0
        self.assertFalse(
            order.order_line.balance_line_ids.filtered(lambda i: i.state == "pending")
        )

    # === 3. THRESHOLD BILLING OFF THE HOT PATH === #

    @freeze_time("2026-06-10 10:00:00")
    def test_threshold_never_bills_in_the_confirmation(self):
        """Threshold 100.00 and billing that fails (a missing journal): confirming
        Anna's 230.00 booking still records it, posts nothing, notes the threshold
        once and triggers the bill run; the bill run's failure is kept on the
        balance, the item waits."""
        self.company.balance_threshold_amount = 100.0
        self.company.balance_auto_post = True
        Balance = type(self.Balance)

        def broken(balance, *args, **kwargs):
            raise UserError(balance.env._("No sales journal"))

        triggers = self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", self.cron.id)]
        )
        with patch.object(Balance, "_invoice_balances", broken):
            order = self._book(self.anna, qty=2.0)
            item = order.order_line.balance_line_ids
            balance = item.balance_id
            self.assertEqual((item.state, balance.state), ("pending", "open"))
            self.assertTrue(balance.is_above_threshold)
            self.assertEqual(self._chatter(balance).count("threshold"), 1)
            self.assertGreater(
                self.env["ir.cron.trigger"].search_count(
                    [("cron_id", "=", self.cron.id)]
                ),
                triggers,
            )
            self.assertIn(balance, self.Balance.search(self.Balance._get_due_domain()))
            self._item(balance, 1.0)  # a later item: no second note
            self.assertEqual(self._chatter(balance).count("threshold"), 1)
            self._bill_run()
        self.assertEqual(balance.state, "open")
        self.assertIn("No sales journal", balance.billing_error)
        self.assertEqual(item.state, "pending")
        self.assertFalse(
            self.env["account.move"].search([("partner_id", "=", self.anna.id)])
        )

        balance.action_retry_billing()
        self._bill_run()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id.state, "posted")
        self.assertEqual(item.invoice_id, balance.invoice_id)

    # === 4. NOBODY WRITES AROUND THE TRANSITIONS === #

    @freeze_time("2026-06-20 10:00:00")
    def test_invoiced_item_cannot_be_written_back_to_pending(self):
        """A billing user writes ``state`` (with or without a context flag, as an
        RPC call could send it) on an invoiced item, or its invoice line, or the
        state of a balance: all refused; the item stays billed once."""
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        other = self._item(balance, 10.0)
        item.action_invoice_now()
        as_clerk = item.with_user(self.billing_user)
        for context in ({}, {"customer_balance_transition": True}):
            for values in (
                {"state": "pending"},
                {"state": "pending", "invoice_line_id": False},
                {"invoice_line_id": False},
            ):
                with self.assertRaises(UserError):
                    as_clerk.with_context(**context).write(values)
            with self.assertRaises(UserError):
                balance.with_user(self.billing_user).with_context(**context).write(
                    {"state": "cancel"}
                )
            with self.assertRaises(UserError):
                other.with_user(self.billing_user).with_context(**context).write(
                    {"state": "cancel"}
                )
        with self.assertRaises(UserError):
            self.Item.create(
                {
                    "partner_id": self.anna.id,
                    "name": "Forged",
                    "price_unit": 1.0,
                    "state": "invoiced",
                    "invoice_line_id": item.invoice_line_id.id,
                }
            )
        self.assertEqual(item.state, "invoiced")
        self.assertEqual(balance.state, "open")
        self.assertEqual(other.state, "pending")

    @freeze_time("2026-06-20 10:00:00")
    def test_balance_cannot_be_duplicated(self):
        """Balances come from assignment only: Duplicate is not offered on the form
        and ``copy`` is refused, so no stray open balance of a billed period
        exists for a cancelled invoice to fill."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        with self.assertRaises(UserError):
            balance.with_user(self.billing_user).copy()
        self.assertEqual(
            self.Balance.search_count([("partner_id", "=", self.anna.id)]), 1
        )
        arch = self.Balance.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('duplicate="0"', arch)

    @freeze_time("2026-06-20 10:00:00")
    def test_balance_identity_and_totals_cannot_be_written(self):
        """A billing user writes, as an RPC call could, the total, the currency, the
        customer or the billing date of Anna's open balance: all refused, the balance
        still shows what its invoice will bill; its billing error can still be
        cleared (Retry Billing)."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        total = balance.amount_total
        other_currency = self.setup_other_currency("EUR")
        as_clerk = balance.with_user(self.billing_user)
        for values in (
            {"amount_total": 1.0},
            {"amount_untaxed": 1.0, "amount_tax": 0.0},
            {"currency_id": other_currency.id},
            {"partner_id": self.ben.id},
            {"billing_date": "2026-06-01"},
            {"period_end": "2026-07-31"},
        ):
            with self.assertRaises(UserError):
                as_clerk.write(values)
        self.assertEqual(balance.amount_total, total)
        self.assertEqual(
            (balance.partner_id, balance.currency_id), (self.anna, self.currency)
        )
        self.assertEqual(
            balance._get_tax_totals(balance._get_document_lines())[
                "total_amount_currency"
            ],
            total,
        )
        as_clerk.billing_error = "Journal missing"
        as_clerk.action_retry_billing()
        self.assertFalse(balance.billing_error)

    @freeze_time("2026-06-20 10:00:00")
    def test_portal_user_cannot_write_items_or_balances(self):
        """A member calling ``write`` on her own balance or item gets an access
        error before any business rule."""
        portal = new_test_user(
            self.env,
            login="anna.member",
            groups="base.group_portal",
            partner_id=self.anna.id,
        )
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        with self.assertRaises(AccessError):
            balance.with_user(portal).write({"state": "cancel"})
        with self.assertRaises(AccessError):
            item.with_user(portal).write({"state": "cancel"})

    @freeze_time("2026-06-20 10:00:00")
    def test_booking_item_charges_follow_the_order(self):
        """A booking item's price or quantity is changed on the order: a direct
        write says so; editing the order updates the item."""
        order = self._book(self.anna)
        item = order.order_line.balance_line_ids
        for values in (
            {"price_unit": 1.0},
            {"quantity": 5.0},
            {"tax_ids": [Command.clear()]},
        ):
            with self.assertRaisesRegex(UserError, "on the order"):
                item.with_user(self.billing_user).write(values)
        order.order_line.product_uom_qty = 3.0
        self.assertEqual(item.quantity, 3.0)
        self._assert_booked_quantities(order.order_line, 3, 0, 0, 0)

    # === INVOICE NOW: OFF THE BALANCE, AND BACK WHEN CANCELLED === #

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_leaves_the_balance_and_comes_back(self):
        """Invoice Now takes Anna's desk day off her balance (its documents no
        longer list it; the chatter links the invoice); cancelling that invoice
        puts it back on her open balance, once."""
        balance = self._balance(self.anna)
        item = self._item(balance, 100.0)
        kept = self._item(balance, 10.0)
        item.action_invoice_now()
        invoice = item.invoice_id
        self.assertFalse(item.balance_id)
        self.assertNotIn(item, balance.line_ids)
        self.assertEqual(balance._get_document_lines(), kept)
        self.assertIn(invoice.display_name, self._chatter(balance))
        invoice.button_cancel()
        self.assertEqual(item.state, "pending")
        self.assertEqual(item.balance_id, balance)
        self.assertFalse(item.invoice_line_id)
        self.assertEqual(balance._get_document_lines(), item | kept)
        self.assertIn("was cancelled", self._chatter(balance))

    @freeze_time("2026-06-20 10:00:00")
    def test_cancelled_invoice_cannot_come_back(self):
        """Once cancelled, an invoice whose items went back on a balance cannot be
        reset to draft: its lines would bill them a second time."""
        order = self._book(self.ben)
        item = order.order_line.balance_line_ids
        item.action_invoice_now()
        invoice = item.invoice_id
        invoice.button_cancel()
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            invoice.button_draft()
        self._assert_booked_quantities(order.order_line, 1, 0, 0, 0)

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_of_a_booking_counts_on_its_order(self):
        """A booking invoiced now counts as invoiced through a balance; deleting
        that draft puts it back pending, nothing to invoice by Odoo."""
        order = self._book(self.ben, qty=2.0)
        item = order.order_line.balance_line_ids
        item.action_invoice_now()
        self._assert_booked_quantities(order.order_line, 0, 2, 0, 0)
        item.invoice_id.unlink()
        self.assertEqual(item.state, "pending")
        self._assert_booked_quantities(order.order_line, 2, 0, 0, 0)

    @freeze_time("2026-07-02 10:00:00")
    def test_consolidated_invoice_cancelled_reopens_balance(self):
        """The consolidated invoice cancelled: the balance opens again with its
        items pending, and bills them once more."""
        balance = self._balance(self.anna)
        items = self._item(balance, 100.0) | self._item(balance, 20.0)
        balance.action_consolidate()
        balance.invoice_id.button_cancel()
        self.assertEqual(balance.state, "open")
        self.assertEqual(set(items.mapped("state")), {"pending"})
        balance.action_consolidate()
        self.assertEqual(items.invoice_id, balance.invoice_id)

    # === 6. INVOICE DATE === #

    @freeze_time("2026-06-15 10:00:00")
    def test_late_item_of_two_years_ago_is_invoiced_today(self):
        """A desk day of May 2024 entered today: its (past) balance is billed by
        the next bill run, dated today, not in the closed May 2024 period."""
        item = self._new_late_item("2024-05-10")
        balance = item.balance_id
        self._bill_run()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id.invoice_date, date(2026, 6, 15))
        self.assertEqual(balance.invoice_id.invoice_origin, balance.name)

    @freeze_time("2026-06-15 10:00:00")
    def test_invoice_date_after_lock_dates(self):
        """With the sales locked until 20 June, a balance billed on 15 June is
        dated 21 June, the first day its invoice can be posted."""
        self.company.sale_lock_date = date(2026, 6, 20)
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        self.company.balance_auto_post = True
        invoice = balance._consolidate()
        self.assertEqual(invoice.invoice_date, date(2026, 6, 21))
        self.assertEqual(invoice.state, "posted")

    def _new_late_item(self, day):
        return self.Item.create(
            {
                "partner_id": self.lisa.id,
                "product_id": self.desk.id,
                "name": "Late desk day",
                "price_unit": 80.0,
                "service_date": day,
            }
        )

    # === 8. TAXES OF MANUAL CHARGES === #

    @freeze_time("2026-06-15 10:00:00")
    def test_manual_charge_taxes_follow_fiscal_position(self):
        """Lisa's reverse-charge fiscal position maps the desk's VAT to 0%: a
        charge added with *Add Entry* carries the mapped tax, as Odoo's invoice
        line would."""
        position = self.env["account.fiscal.position"].create(
            {"name": "Reverse charge"}
        )
        tax_zero = self.env["account.tax"].create(
            {
                "name": "Reverse charge 0%",
                "amount": 0.0,
                "type_tax_use": "sale",
                "fiscal_position_ids": [Command.set(position.ids)],
                "original_tax_ids": [Command.set(self.tax_sale_a.ids)],
            }
        )
        self.lisa.property_account_position_id = position
        wizard = Form(self.env["customer.balance.entry"])
        wizard.partner_id = self.lisa
        wizard.product_id = self.desk
        wizard.amount = 100.0
        self.assertEqual(wizard.tax_ids[:], tax_zero)
        wizard.save().action_add()
        item = self.Item.search([("partner_id", "=", self.lisa.id)])
        self.assertEqual(item.tax_ids, tax_zero)
        self.assertAlmostEqual(item.balance_id.amount_total, 100.0)
