# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestManualSources(CustomerBalanceCommon):
    """What an accountant does by hand on balances: move items, invoice some of
    them now, delete them, add charges and credits, turn draft invoices into items
    and cancel a balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_6 = cls.env["account.tax"].create(
            {"name": "Reduced 6%", "amount": 6.0, "type_tax_use": "sale"}
        )

    # === HELPERS === #

    def _invoices(self, action):
        """The invoices an *Invoice Now* action opens."""
        Move = self.env["account.move"]
        if action.get("res_id"):
            return Move.browse(action["res_id"])
        return Move.search(action["domain"])

    def _open_balances(self, partner):
        return self.env["customer.balance"].search(
            [("partner_id", "=", partner.id), ("state", "=", "open")]
        )

    def _assert_amount(self, first, second, msg=None):
        self.assertAlmostEqual(first, second, places=2, msg=msg)

    def _move_form(self, lines):
        """The move wizard as opened from the items' *Move* action."""
        action = lines.action_move_to_balance()
        return Form(self.env[action["res_model"]].with_context(**action["context"]))

    def _entry_form(self, action=None, **context):
        """The Add Entry wizard, as opened by ``action`` or with ``context``."""
        if action:
            context = {**action["context"], **context}
        return Form(self.env["customer.balance.entry"].with_context(**context))

    # === MOVE === #

    def test_move_items_to_another_balance(self):
        """Two of Anna's three items move to Lisa's balance through the wizard:
        they wait there (still as Anna's items), both totals follow to the cent
        and both chatters name the other balance and the items."""
        source = self._balance(self.anna)
        target = self._balance(self.lisa)
        desk = self._item(source, 10.0, name="Desk A1")
        room = self._item(source, 20.0, name="Meeting room")
        kept = self._item(source, 30.0, name="Locker")
        already = self._item(target, 5.0, name="Coffee")

        with self._move_form(desk + room) as form:
            form.to_other_customer = True
            form.balance_id = target
        form.record.action_move()

        self.assertEqual(source.line_ids, kept)
        self.assertEqual(target.line_ids, desk + room + already)
        self.assertEqual((desk + room).partner_id, self.anna)
        self.assertEqual(set((desk + room).mapped("state")), {"pending"})
        self._assert_amount(source.amount_untaxed, 30.0)
        self._assert_amount(source.amount_total, 34.5)
        self._assert_amount(target.amount_untaxed, 35.0)
        self._assert_amount(target.amount_total, 40.25)
        self.assertEqual((source.item_count, target.item_count), (1, 3))
        source_chatter = self._chatter(source)
        self.assertIn(f"Items moved to {target.name}", source_chatter)
        for name in ("Desk A1", "Meeting room"):
            self.assertIn(name, source_chatter)
        self.assertNotIn("Locker", source_chatter)
        target_chatter = self._chatter(target)
        self.assertIn(f"Items moved here from {source.name}", target_chatter)
        for name in ("Desk A1", "Meeting room"):
            self.assertIn(name, target_chatter)

    def test_move_items_from_two_balances(self):
        """Items of Anna's June and July balances move together to Ben's June
        balance: each source says what left it, the target names both sources."""
        june = self._balance(self.anna)
        july = self._balance(self.anna, month=7)
        target = self._balance(self.ben)
        june_item = self._item(june, 12.0, name="June desk")
        july_item = self._item(july, 8.0, name="July desk")

        with self._move_form(june_item + july_item) as form:
            form.to_other_customer = True
            form.balance_id = target
        form.record.action_move()

        self.assertEqual(target.line_ids, june_item + july_item)
        self.assertFalse(june.line_ids | july.line_ids)
        self._assert_amount(june.amount_total, 0.0)
        self._assert_amount(july.amount_total, 0.0)
        self._assert_amount(target.amount_untaxed, 20.0)
        for source in (june, july):
            self.assertIn(f"Items moved to {target.name}", self._chatter(source))
        target_chatter = self._chatter(target)
        self.assertIn(june.name, target_chatter)
        self.assertIn(july.name, target_chatter)

    def test_move_refused_to_another_company(self):
        """A balance of another company is refused with a message naming it;
        the item stays where it was and no chatter claims a move."""
        other = self.setup_other_company(name="Musterstadt Hall")["company"]
        source = self._balance(self.lisa)
        item = self._item(source, 10.0)
        foreign = self._balance(
            self.lisa, company_id=other.id, currency_id=other.currency_id.id
        )
        wizard = self.env["customer.balance.line.move"].create(
            {"line_ids": [Command.set(item.ids)], "balance_id": foreign.id}
        )
        with self.assertRaisesRegex(
            UserError, "same company and currency.*Musterstadt Hall"
        ):
            wizard.action_move()
        self.assertEqual(item.balance_id, source)
        self.assertFalse(foreign.line_ids)
        self._assert_amount(source.amount_untaxed, 10.0)
        self.assertNotIn("Items moved", self._chatter(source))
        self.assertNotIn("Items moved", self._chatter(foreign))

    def test_move_refused_to_another_currency(self):
        """A balance in another currency is refused with a message naming the
        currency; nothing moves and the totals stay."""
        source = self._balance(self.anna)
        item = self._item(source, 10.0)
        chf = self.setup_other_currency("CHF")
        foreign = self._balance(self.anna, currency_id=chf.id)
        with self._move_form(item) as form:
            form.balance_id = foreign
        with self.assertRaisesRegex(UserError, r"same company and currency.*CHF"):
            form.record.action_move()
        self.assertEqual(item.balance_id, source)
        self.assertEqual(item.currency_id, self.currency)
        self._assert_amount(source.amount_total, 11.5)
        self._assert_amount(foreign.amount_total, 0.0)

    def test_move_refused_for_invoiced_items_or_closed_target(self):
        """Invoiced items cannot be moved, nor can items go to a cancelled
        balance."""
        source = self._balance(self.anna)
        target = self._balance(self.ben)
        invoiced = self._item(source, 10.0)
        pending = self._item(source, 20.0)
        invoiced.action_invoice_now()
        wizard = self.env["customer.balance.line.move"].create(
            {
                "line_ids": [Command.set((invoiced + pending).ids)],
                "balance_id": target.id,
                "to_other_customer": True,
            }
        )
        with self.assertRaisesRegex(UserError, "Only pending items"):
            wizard.action_move()
        self.assertEqual(pending.balance_id, source)
        target._cancel("Closed")
        wizard.line_ids = pending
        with self.assertRaisesRegex(UserError, "open balance"):
            wizard.action_move()
        self.assertEqual(pending.balance_id, source)

    def test_move_items_already_on_the_target(self):
        """Items already on the chosen balance are not "moved": alone they are
        refused with a clear message; mixed with others, only the others move and
        only they are named in the chatters."""
        source = self._balance(self.anna)
        target = self._balance(self.ben)
        there = self._item(target, 5.0, name="Coffee")
        wizard = self.env["customer.balance.line.move"].create(
            {
                "line_ids": [Command.set(there.ids)],
                "balance_id": target.id,
                "to_other_customer": True,
            }
        )
        with self.assertRaisesRegex(UserError, f"already on {target.name}"):
            wizard.action_move()
        self.assertNotIn("Items moved", self._chatter(target))

        mover = self._item(source, 7.0, name="Locker")
        wizard.line_ids = there + mover
        wizard.action_move()
        self.assertEqual(target.line_ids, there + mover)
        self._assert_amount(target.amount_untaxed, 12.0)
        target_chatter = self._chatter(target)
        self.assertIn(f"Items moved here from {source.name}: Locker", target_chatter)
        self.assertNotIn("Coffee", target_chatter)
        self.assertIn("Items moved to", self._chatter(source))

    @freeze_time("2026-06-10 10:00:00")
    def test_move_reaching_the_threshold_bills_the_target(self):
        """Items moved onto a balance count like items added to it: when its
        total reaches the billing threshold the bill run bills it (the move
        itself bills nothing), the source stays open."""
        self.company.balance_threshold_amount = 100.0
        source = self._balance(self.anna)
        target = self._balance(self.ben)
        self._item(target, 60.0, tax_ids=[Command.clear()])
        mover = self._item(source, 50.0, tax_ids=[Command.clear()])
        self.assertEqual((source.state, target.state), ("open", "open"))

        with self._move_form(mover) as form:
            form.to_other_customer = True
            form.balance_id = target
        form.record.action_move()
        self.assertEqual(target.state, "open")
        self.assertIn("threshold", self._chatter(target))
        cron = self.env.ref("customer_balance.ir_cron_consolidate_due")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()

        self.assertEqual(target.state, "invoiced")
        self.assertEqual(mover.state, "invoiced")
        self._assert_amount(target.invoice_id.amount_total, 110.0)
        self.assertEqual(mover.invoice_id, target.invoice_id)
        self.assertEqual(source.state, "open")
        self.assertIn("threshold", self._chatter(target))

    # === INVOICE NOW === #

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now(self):
        """Invoice Now on two of Anna's three items: they get an invoice of their
        own (not the balance's consolidated invoice) with its own number once
        posted, the balance total drops by exactly that invoice's amount, the items
        are invoiced and point at their invoice lines, the third item waits."""
        self.company.tax_calculation_rounding_method = "round_per_line"
        balance = self._balance(self.anna)
        desk = self._item(balance, 10.01, name="Desk")
        room = self._item(balance, 20.02, name="Room", quantity=2)
        kept = self._item(balance, 30.03, name="Locker")
        total_before = balance.amount_total
        self._assert_amount(total_before, 11.51 + 46.05 + 34.53)

        action = (desk + room).action_invoice_now()
        invoice = self._invoices(action)

        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.anna)
        self.assertFalse(invoice.balance_id)
        self.assertEqual(invoice.invoice_origin, balance.name)
        self._assert_amount(invoice.amount_untaxed, 50.05)
        self._assert_amount(invoice.amount_total, 57.56)
        self._assert_amount(balance.amount_total, total_before - invoice.amount_total)
        self._assert_amount(balance.amount_total, 34.53)
        self.assertEqual(balance.item_count, 1)
        self.assertEqual(balance.state, "open")
        self.assertFalse(balance.invoice_id)
        for item in desk + room:
            self.assertEqual(item.state, "invoiced")
            self.assertEqual(item.invoice_id, invoice)
            self.assertEqual(item.invoice_line_id.move_id, invoice)
            self.assertEqual(item.invoice_line_id.name, item.name)
            self.assertEqual(item.invoice_line_id.quantity, item.quantity)
            self._assert_amount(
                item.invoice_line_id.price_subtotal, item.price_subtotal
            )
        self.assertEqual(invoice.balance_line_ids, desk + room)
        self.assertEqual(kept.state, "pending")
        self.assertFalse(kept.invoice_line_id)

        invoice.action_post()
        later = kept.action_invoice_now()
        second = self._invoices(later)
        second.action_post()
        self.assertRegex(invoice.name, r"^INV/2026/\d+$")
        self.assertRegex(second.name, r"^INV/2026/\d+$")
        self.assertNotEqual(invoice.name, second.name)
        self._assert_amount(balance.amount_total, 0.0)
        self.assertEqual(balance.state, "open")

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_one_invoice_per_balance(self):
        """Items of Anna's and Lisa's balances invoiced together give one invoice
        per balance, each for its own customer and items."""
        anna_balance = self._balance(self.anna)
        lisa_balance = self._balance(self.lisa)
        anna_items = self._item(anna_balance, 10.0) + self._item(anna_balance, 15.0)
        lisa_item = self._item(lisa_balance, 40.0)

        action = (anna_items + lisa_item).action_invoice_now()
        invoices = self._invoices(action)

        self.assertEqual(len(invoices), 2)
        anna_invoice = invoices.filtered(lambda move: move.partner_id == self.anna)
        lisa_invoice = invoices.filtered(lambda move: move.partner_id == self.lisa)
        self.assertEqual(anna_items.invoice_id, anna_invoice)
        self.assertEqual(lisa_item.invoice_id, lisa_invoice)
        self._assert_amount(anna_invoice.amount_total, 28.75)
        self._assert_amount(lisa_invoice.amount_total, 46.0)
        self._assert_amount(anna_balance.amount_total, 0.0)
        self._assert_amount(lisa_balance.amount_total, 0.0)

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_credit_gives_credit_note(self):
        """A credit invoiced on its own becomes a credit note for its amount; the
        balance total goes up by exactly that amount."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        credit = self._item(balance, -40.0, name="Goodwill")
        self._assert_amount(balance.amount_total, 69.0)

        action = credit.action_invoice_now()
        refund = self._invoices(action)

        self.assertEqual(refund.move_type, "out_refund")
        self._assert_amount(refund.amount_untaxed, 40.0)
        self._assert_amount(refund.amount_total, 46.0)
        self.assertEqual(credit.state, "invoiced")
        self.assertEqual(credit.invoice_line_id.move_id, refund)
        self._assert_amount(balance.amount_total, 69.0 + refund.amount_total)

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_from_the_items_of_a_balance(self):
        """Invoice Now from the balance's *Items* list (whose context proposes the
        balance as default) still makes invoices of their own: none of them
        becomes the balance's consolidated invoice, which is made later for the
        remaining item."""
        balance = self._balance(self.anna)
        first, second, last = (self._item(balance, price) for price in (10, 20, 30))
        context = balance.action_view_items()["context"]

        first.with_context(**context).action_invoice_now()
        second.with_context(**context).action_invoice_now()

        own_invoices = first.invoice_id | second.invoice_id
        self.assertEqual(len(own_invoices), 2)
        self.assertFalse(own_invoices.balance_id)
        self.assertEqual(balance.state, "open")
        self.assertFalse(balance.invoice_id)
        balance.with_context(**context).action_consolidate()
        self.assertEqual(balance.state, "invoiced")
        self.assertEqual(balance.invoice_id, last.invoice_id)
        self.assertEqual(balance.invoice_id.balance_id, balance)
        self._assert_amount(balance.invoice_id.amount_total, 34.5)

    @freeze_time("2026-06-20 10:00:00")
    def test_invoice_now_draft_deleted_puts_items_back(self):
        """Deleting the draft made by Invoice Now bills nothing: its items wait on
        their balance again and its total is back to what it was."""
        balance = self._balance(self.anna)
        items = self._item(balance, 10.0) + self._item(balance, 20.0)
        total_before = balance.amount_total
        items.action_invoice_now()
        invoice = items.invoice_id
        self._assert_amount(balance.amount_total, 0.0)

        invoice.unlink()

        self.assertEqual(set(items.mapped("state")), {"pending"})
        self.assertFalse(items.invoice_line_id)
        self.assertEqual(items.balance_id, balance)
        self._assert_amount(balance.amount_total, total_before)
        self.assertEqual(balance.item_count, 2)

    def test_invoice_now_needs_pending_items(self):
        """Invoice Now on items already invoiced is refused and creates nothing."""
        balance = self._balance(self.anna)
        item = self._item(balance, 10.0)
        item.action_invoice_now()
        invoice = item.invoice_id
        with self.assertRaisesRegex(UserError, "Select pending items"):
            item.action_invoice_now()
        self.assertEqual(item.invoice_id, invoice)
        self.assertEqual(
            self.env["account.move"].search_count([("partner_id", "=", self.anna.id)]),
            1,
        )

    # === DELETE AND FROZEN ITEMS === #

    def test_delete_pending_item(self):
        """Deleting a pending item drops the balance total by its amount and
        leaves a message naming it on the balance; the item kept, once invoiced,
        can be neither deleted nor changed."""
        balance = self._balance(self.anna)
        kept = self._item(balance, 40.0)
        removed = self._item(balance, 60.0, name="Projector rental")
        self._assert_amount(balance.amount_total, 115.0)

        removed.unlink()

        self.assertFalse(removed.exists())
        self.assertEqual(balance.line_ids, kept)
        self.assertEqual(balance.item_count, 1)
        self._assert_amount(balance.amount_untaxed, 40.0)
        self._assert_amount(balance.amount_total, 46.0)
        chatter = self._chatter(balance)
        self.assertIn("Items removed", chatter)
        self.assertIn("Projector rental", chatter)
        self.assertIn("60.00", chatter)
        kept.action_invoice_now()
        with self.assertRaisesRegex(UserError, "invoiced item cannot be deleted"):
            kept.unlink()
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            kept.price_unit = 1.0

    def test_invoiced_item_cannot_be_deleted_or_edited(self):
        """An invoiced item can neither be deleted nor have what makes it an item
        (price, quantity, date, contact, balance, taxes) changed."""
        balance = self._balance(self.anna)
        other = self._balance(self.ben)
        item = self._item(balance, 25.0)
        item.action_invoice_now()
        invoice_line = item.invoice_line_id

        with self.assertRaisesRegex(UserError, "invoiced item cannot be deleted"):
            item.unlink()
        for values in (
            {"price_unit": 1.0},
            {"quantity": 3.0},
            {"discount": 50.0},
            {"service_date": "2026-07-02"},
            {"partner_id": self.ben.id},
            {"balance_id": other.id},
            {"tax_ids": [Command.clear()]},
        ):
            with self.assertRaisesRegex(UserError, "cannot be changed"):
                item.write(values)
        self.assertTrue(item.exists())
        self.assertEqual(item.state, "invoiced")
        self.assertEqual(item.invoice_line_id, invoice_line)
        self.assertFalse(item.balance_id)  # invoiced on its own: off the balance
        self.assertEqual(item.partner_id, self.anna)
        self._assert_amount(item.price_subtotal, 25.0)

    def test_cancelled_item_cannot_be_edited(self):
        """A cancelled item is frozen as well."""
        balance = self._balance(self.anna)
        item = self._item(balance, 25.0)
        balance._cancel("Member left")
        self.assertEqual(item.state, "cancel")
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            item.price_unit = 5.0
        self._assert_amount(item.price_unit, 25.0)

    # === ADD ENTRY === #

    @freeze_time("2026-06-10 10:00:00")
    def test_add_entry_charge_from_partner(self):
        """A charge added on Lisa for a service on 3 July lands on her July
        balance (created for it), with the product's name and taxes; her June
        balance is untouched; the chatter names the charge."""
        june = self._balance(self.lisa)
        self._item(june, 10.0)
        with self._entry_form(default_partner_id=self.lisa.id) as form:
            form.product_id = self.desk
            form.quantity = 2
            form.amount = 80.0
            form.service_date = "2026-07-03"
            self.assertEqual(form.name, "Desk day")
            self.assertEqual(form.tax_ids[:], self.tax_sale_a)
        form.record.action_add()

        july = self._open_balances(self.lisa) - june
        self.assertEqual(len(july), 1)
        self.assertEqual(str(july.period_start), "2026-07-01")
        self.assertEqual(str(july.period_end), "2026-07-31")
        item = july.line_ids
        self.assertEqual(len(item), 1)
        self.assertEqual(item.origin, "manual")
        self.assertEqual(item.partner_id, self.lisa)
        self.assertEqual(item.product_id, self.desk)
        self.assertEqual(item.tax_ids, self.tax_sale_a)
        self.assertEqual(str(item.service_date), "2026-07-03")
        self._assert_amount(item.price_unit, 80.0)
        self._assert_amount(item.price_subtotal, 160.0)
        self._assert_amount(july.amount_total, 184.0)
        self._assert_amount(june.amount_total, 11.5)
        self.assertEqual(june.item_count, 1)
        chatter = self._chatter(july)
        self.assertIn("Charge added", chatter)
        self.assertIn("Desk day", chatter)
        self.assertIn("160.00", chatter)

    @freeze_time("2026-06-10 10:00:00")
    def test_add_entry_credit_from_partner(self):
        """A credit of 25 (no tax) on Anna is deducted from her June balance."""
        balance = self._balance(self.anna)
        self._item(balance, 100.0)
        with self._entry_form(default_partner_id=self.anna.id) as form:
            form.entry_type = "credit"
            form.name = "Broken chair"
            form.amount = 25.0
            form.tax_ids.clear()
        form.record.action_add()

        credit = balance.line_ids.filtered(lambda line: line.name == "Broken chair")
        self.assertEqual(len(credit), 1)
        self.assertEqual(str(credit.service_date), "2026-06-10")
        self._assert_amount(credit.price_unit, -25.0)
        self._assert_amount(credit.price_subtotal, -25.0)
        self._assert_amount(balance.amount_untaxed, 75.0)
        self._assert_amount(balance.amount_total, 90.0)
        self.assertEqual(len(self._open_balances(self.anna)), 1)
        self.assertIn("Credit added", self._chatter(balance))
        self.assertIn("Broken chair", self._chatter(balance))

    @freeze_time("2026-06-10 10:00:00")
    def test_add_entry_from_a_balance(self):
        """Add Entry from Anna's scheduled July balance puts the charge on that
        balance, not on the June one of today, with a service date in July."""
        june = self._balance(self.anna)
        july = self._balance(self.anna, month=7)
        with self._entry_form(july.action_add_entry()) as form:
            self.assertEqual(form.partner_id, self.anna)
            self.assertEqual(form.balance_id, july)
            form.name = "Late checkout"
            form.amount = 12.5
            form.tax_ids.add(self.tax_6)
        form.record.action_add()

        item = july.line_ids
        self.assertEqual(len(item), 1)
        self.assertFalse(june.line_ids)
        self.assertEqual(item.partner_id, self.anna)
        self.assertTrue(july.period_start <= item.service_date <= july.period_end)
        self._assert_amount(july.amount_untaxed, 12.5)
        self._assert_amount(july.amount_tax, 0.75)
        self._assert_amount(july.amount_total, 13.25)
        self.assertIn("Late checkout", self._chatter(july))
        # Edited later, the item stays on the balance its date belongs to.
        item.price_unit = 15.0
        item.partner_id = self.anna
        self.assertEqual(item.balance_id, july)

    @freeze_time("2026-06-10 10:00:00")
    def test_add_entry_from_a_balance_for_someone_else(self):
        """Opened from Anna's balance, the balance cleared and Ben chosen: the
        charge goes on Ben's balance, not on the balance the wizard came from."""
        anna_balance = self._balance(self.anna)
        with self._entry_form(anna_balance.action_add_entry()) as form:
            form.balance_id = self.env["customer.balance"]
            form.partner_id = self.ben
            form.name = "Parking"
            form.amount = 9.0
            form.tax_ids.clear()
        form.record.action_add()

        self.assertFalse(anna_balance.line_ids)
        item = self.env["customer.balance.line"].search([("name", "=", "Parking")])
        self.assertEqual(item.partner_id, self.ben)
        self.assertEqual(item.balance_id.partner_id, self.ben)
        self.assertEqual(item.balance_id, self._open_balances(self.ben))
        self._assert_amount(item.balance_id.amount_total, 9.0)

    def test_add_entry_refuses_zero_or_negative_amounts(self):
        """Zero and negative amounts are refused, for charges and credits, and
        nothing is added."""
        balance = self._balance(self.anna)
        wizard = self.env["customer.balance.entry"].create(
            {
                "partner_id": self.anna.id,
                "balance_id": balance.id,
                "name": "Printing",
                "amount": 0.0,
                "service_date": "2026-06-03",
            }
        )
        for entry_type in ("charge", "credit"):
            for amount in (0.0, -5.0, 0.001):
                wizard.write({"entry_type": entry_type, "amount": amount})
                with self.assertRaisesRegex(UserError, "positive amount"):
                    wizard.action_add()
        self.assertFalse(
            self.env["customer.balance.line"].search(
                [("partner_id", "=", self.anna.id)]
            )
        )

    def test_add_entry_refused_on_closed_balance(self):
        """An entry for a cancelled balance is refused."""
        balance = self._balance(self.anna)
        balance._cancel("Duplicate")
        wizard = self.env["customer.balance.entry"].create(
            {
                "partner_id": self.anna.id,
                "balance_id": balance.id,
                "name": "Printing",
                "amount": 10.0,
                "service_date": "2026-06-03",
            }
        )
        with self.assertRaisesRegex(UserError, "open balance"):
            wizard.action_add()
        self.assertFalse(balance.line_ids)

    # === ADD TO BALANCE (DRAFT INVOICES) === #

    def _draft(self, move_type, partner, lines, **values):
        return self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_line_ids": [Command.create(line) for line in lines],
                **values,
            }
        )

    def _two_rate_lines(self):
        """Product lines at 15 % and 6 % (one with both), a discount, and a section
        and a note that must not become items."""
        return [
            {"display_type": "line_section", "name": "Workshop"},
            {
                "product_id": self.desk.id,
                "quantity": 3,
                "price_unit": 33.33,
                "tax_ids": [Command.set(self.tax_sale_a.ids)],
            },
            {
                "name": "Handbooks",
                "quantity": 2,
                "price_unit": 19.99,
                "discount": 10.0,
                "tax_ids": [Command.set(self.tax_6.ids)],
            },
            {
                "name": "Catering",
                "quantity": 7,
                "price_unit": 4.37,
                "tax_ids": [Command.set(self.tax_6.ids)],
            },
            {"display_type": "line_note", "name": "Thank you"},
            {
                "name": "Badge",
                "quantity": 1,
                "price_unit": 1.05,
                "tax_ids": [Command.set((self.tax_sale_a + self.tax_6).ids)],
            },
        ]

    @freeze_time("2026-06-10 10:00:00")
    def test_add_to_balance_draft_invoice_two_tax_rates(self):
        """A draft invoice with lines at 15 % and 6 % becomes one item per product
        line on the customer's balance of its invoice date's period; the
        balance's totals equal the draft's to the cent under both tax rounding
        methods, the draft no longer exists, its reference stays on the items, and
        the invoice later made from the items has the draft's total again."""
        for method, partner in (
            ("round_per_line", self.anna),
            ("round_globally", self.lisa),
        ):
            with self.subTest(method=method):
                self.company.tax_calculation_rounding_method = method
                draft = self._draft(
                    "out_invoice",
                    partner,
                    self._two_rate_lines(),
                    invoice_date="2026-07-08",
                    ref=f"Workshop {method}",
                )
                untaxed = draft.amount_untaxed
                tax = draft.amount_tax
                total = draft.amount_total

                draft.action_add_to_balance()

                self.assertFalse(draft.exists())
                balance = self._open_balances(partner)
                self.assertEqual(len(balance), 1)
                self.assertEqual(str(balance.period_start), "2026-07-01")
                items = balance.line_ids
                self.assertEqual(len(items), 4)
                self.assertEqual(set(items.mapped("origin")), {"manual"})
                self.assertEqual(
                    set(items.mapped("origin_ref")), {f"Workshop {method}"}
                )
                self.assertEqual(
                    {str(day) for day in items.mapped("service_date")}, {"2026-07-08"}
                )
                self.assertEqual(
                    sorted(items.mapped("name")),
                    ["Badge", "Catering", "Desk day", "Handbooks"],
                )
                handbooks = items.filtered(lambda item: item.name == "Handbooks")
                self.assertEqual(handbooks.discount, 10.0)
                self.assertEqual(handbooks.tax_ids, self.tax_6)
                self._assert_amount(balance.amount_untaxed, untaxed)
                self._assert_amount(balance.amount_tax, tax)
                self._assert_amount(balance.amount_total, total)
                self.assertIn(f"Workshop {method}", self._chatter(balance))

                action = items.action_invoice_now()
                invoice = self._invoices(action)
                self._assert_amount(invoice.amount_untaxed, untaxed)
                self._assert_amount(invoice.amount_tax, tax)
                self._assert_amount(invoice.amount_total, total)

    @freeze_time("2026-06-10 10:00:00")
    def test_add_to_balance_draft_credit_note(self):
        """A draft credit note's lines become credits: negative items whose total
        is the credit note's total, deducted from the charges already waiting."""
        balance = self._balance(self.anna)
        self._item(balance, 200.0)
        refund = self._draft(
            "out_refund",
            self.anna,
            [
                {
                    "name": "Goodwill",
                    "quantity": 1,
                    "price_unit": 40.0,
                    "tax_ids": [Command.set(self.tax_sale_a.ids)],
                },
                {
                    "name": "Books returned",
                    "quantity": 3,
                    "price_unit": 9.99,
                    "tax_ids": [Command.set(self.tax_6.ids)],
                },
            ],
            ref="Complaint 42",
        )
        refund_total = refund.amount_total
        self._assert_amount(refund_total, 46.0 + 31.77)

        refund.action_add_to_balance()

        self.assertFalse(refund.exists())
        credits = balance.line_ids.filtered(lambda line: line.origin_ref)
        self.assertEqual(len(credits), 2)
        self.assertEqual(set(credits.mapped("origin_ref")), {"Complaint 42"})
        for credit in credits:
            self.assertLess(credit.price_unit, 0.0)
            self.assertLess(credit.price_total, 0.0)
        self._assert_amount(sum(credits.mapped("price_total")), -refund_total)
        self._assert_amount(balance.amount_total, 230.0 - refund_total)

    def test_add_to_balance_refuses_posted_invoice(self):
        """A posted invoice is not turned into items: it stays as it is."""
        invoice = self._draft(
            "out_invoice",
            self.anna,
            [{"name": "Desk", "quantity": 1, "price_unit": 10.0}],
            invoice_date="2026-06-08",
        )
        invoice.action_post()
        with self.assertRaisesRegex(UserError, "Only draft customer invoices"):
            invoice.action_add_to_balance()
        self.assertTrue(invoice.exists())
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(
            self.env["customer.balance.line"].search(
                [("partner_id", "=", self.anna.id)]
            )
        )

    # === CANCEL === #

    def test_cancel_balance_wizard(self):
        """The cancel wizard cancels the balance and its pending items, keeps the
        invoiced ones, and writes the reason in the chatter; a new item of the
        same period then goes to a new open balance."""
        balance = self._balance(self.anna)
        billed = self._item(balance, 10.0)
        billed.action_invoice_now()
        pending = self._item(balance, 20.0) + self._item(balance, 30.0)

        action = balance.action_cancel()
        with Form(
            self.env[action["res_model"]].with_context(**action["context"])
        ) as form:
            form.reason = "Member left the space in May"
        form.record.action_cancel()

        self.assertEqual(balance.state, "cancel")
        self.assertEqual(set(pending.mapped("state")), {"cancel"})
        self.assertEqual(billed.state, "invoiced")
        self.assertTrue(billed.invoice_line_id)
        self.assertEqual(balance.item_count, 0)
        self._assert_amount(balance.amount_total, 0.0)
        self.assertIn(
            "Balance cancelled: Member left the space in May", self._chatter(balance)
        )

        later = self.env["customer.balance.line"].create(
            {
                "partner_id": self.anna.id,
                "name": "Desk day",
                "price_unit": 15.0,
                "service_date": "2026-06-20",
            }
        )
        self.assertNotEqual(later.balance_id, balance)
        self.assertEqual(later.balance_id.state, "open")
        self.assertEqual(str(later.balance_id.period_start), "2026-06-01")

    def test_cancel_refused_for_invoiced_balance(self):
        """A balance that is not open cannot be cancelled and keeps its state."""
        balance = self._balance(self.anna)
        self._item(balance, 10.0)
        balance.action_consolidate()
        wizard = self.env["customer.balance.cancel"].create(
            {"balance_ids": [Command.set(balance.ids)], "reason": "Oops"}
        )
        with self.assertRaisesRegex(UserError, "Only open balances"):
            wizard.action_cancel()
        self.assertEqual(balance.state, "invoiced")
