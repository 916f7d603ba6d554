# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CustomerBalanceCommon, CustomerBalanceTestMixin


class BackendUxCommon(CustomerBalanceCommon):
    """What a new accountant sees on the balance screens of the coworking space
    (issue 20)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref("sales_team.group_sale_manager")
        cls.studio = cls.env["res.partner"].create(
            {"name": "Studio Nord", "email": "hello@studio-nord.example"}
        )

    # === HELPERS === #

    def _move_form(self, lines):
        """The move wizard as opened from the items' *Move* action."""
        action = lines.action_move_to_balance()
        return Form(self.env[action["res_model"]].with_context(**action["context"]))

    def _offered_balances(self, wizard):
        """The balances the wizard's *Move To* field offers, by its own domain."""
        domain = safe_eval(
            self.env["customer.balance.line.move"]._fields["balance_id"].domain,
            {
                "company_id": wizard.company_id.id,
                "currency_id": wizard.currency_id.id,
                "source_balance_ids": wizard.source_balance_ids.ids,
                "source_partner_ids": wizard.source_partner_ids.ids,
                "to_other_customer": wizard.to_other_customer,
            },
        )
        return self.Balance.search(domain)


@tagged("post_install", "-at_install")
class TestMoveItems(BackendUxCommon):
    """Move Items keeps items with their customer unless told otherwise (point 3)."""

    def test_move_offers_the_same_customers_open_balances(self):
        """Studio Nord's June item may move to Studio Nord's July balance; Figma's
        and Lisa's balances are not offered, nor Studio Nord's cancelled one."""
        june = self._balance(self.studio)
        july = self._balance(self.studio, month=7)
        closed = self._balance(self.studio, month=8)
        closed._cancel("Closed")
        figma = self._balance(self.figma)
        lisa = self._balance(self.lisa)
        item = self._item(june, 10.0, name="Desk A1")

        form = self._move_form(item)
        offered = self._offered_balances(form)
        self.assertIn(july, offered)
        self.assertNotIn(figma, offered)
        self.assertNotIn(lisa, offered)
        self.assertNotIn(closed, offered)
        self.assertNotIn(june, offered)

        form.to_other_customer = True
        offered = self._offered_balances(form)
        self.assertIn(figma, offered)
        self.assertIn(lisa, offered)
        self.assertNotIn(july, offered)

        form.to_other_customer = False
        form.balance_id = july
        self.assertFalse(form.other_customer_warning)
        form.save().action_move()
        self.assertEqual(item.balance_id, july)
        self.assertNotIn("another customer", self._chatter(july))

    def test_move_to_another_customer_needs_the_explicit_choice(self):
        """An RPC call creating the wizard with Figma's balance for Studio Nord's
        item, without *To Another Customer*, is refused: nothing moves, no
        chatter claims a move."""
        june = self._balance(self.studio)
        figma = self._balance(self.figma)
        item = self._item(june, 10.0, name="Desk A1")
        wizard = self.env["customer.balance.line.move"].create(
            {"line_ids": [Command.set(item.ids)], "balance_id": figma.id}
        )
        with self.assertRaisesRegex(UserError, "another customer.*Figma"):
            wizard.action_move()
        self.assertEqual(item.balance_id, june)
        self.assertNotIn("moved", self._chatter(june))
        self.assertNotIn("moved", self._chatter(figma))

    def test_move_to_another_customer_is_logged_everywhere(self):
        """Ticked and confirmed, Studio Nord's booking item moves to Figma's
        balance: the form warns first, then both balances and the booking say
        who moved what from which customer to which."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.studio.id,
                "order_line": [
                    Command.create({"product_id": self.desk.id, "product_uom_qty": 1})
                ],
            }
        )
        order.action_confirm()
        item = order.order_line.balance_line_ids
        self.assertTrue(item, "the booking is on Studio Nord's balance")
        source = item.balance_id
        figma = self._balance(
            self.figma,
            period_start=source.period_start,
            period_end=source.period_end,
            billing_date=source.billing_date,
        )

        form = self._move_form(item)
        form.to_other_customer = True
        form.balance_id = figma
        self.assertIn("Studio Nord", form.other_customer_warning)
        self.assertIn("Figma", form.other_customer_warning)
        form.save().action_move()

        self.assertEqual(item.balance_id, figma)
        source_chatter = self._chatter(source)
        self.assertIn("moved items to another customer, Figma", source_chatter)
        self.assertIn(self.env.user.name, source_chatter)
        self.assertIn(
            "moved items of another customer, Studio Nord", self._chatter(figma)
        )
        self.assertIn("now billed to Figma", self._chatter(order))


@tagged("post_install", "-at_install")
class TestBalanceStatus(BackendUxCommon):
    """A balance says where it stands: carried over and where to (point 5), due
    since when, overdue and why it is not billed (point 6)."""

    @freeze_time("2026-07-02 10:00:00")
    def test_carried_over_balance_links_to_where_it_went(self):
        """Lisa's June balance of 10.00 is below the 50.00 minimum: the bill run
        carries it into July. June shows *Carried Over* (its state stays
        ``cancel``) with a link to July's balance; July shows where it came
        from."""
        self.company.balance_min_amount = 50.0
        june = self._balance(self.lisa)
        self._item(june, 10.0, name="Coffee")
        self._bill_run()

        self.assertEqual(june.state, "cancel")
        july = june.carried_to_id
        self.assertTrue(july, "June knows the balance it went into")
        self.assertEqual(july.period_start, date(2026, 7, 1))
        self.assertEqual(july.carried_from_id, june)
        form = Form(june)
        self.assertEqual(form.display_state, "carried")
        self.assertEqual(form.carried_to_id, july)
        self.assertFalse(form._get_modifier("carried_to_id", "invisible"))
        self.assertEqual(
            dict(
                self.Balance._fields["display_state"]._description_selection(self.env)
            )[june.display_state],
            "Carried Over",
        )
        july_form = Form(july)
        self.assertEqual(july_form.carried_from_id, june)
        self.assertEqual(july_form.display_state, "open")
        # A balance cancelled by hand is still just cancelled.
        other = self._balance(self.anna)
        other._cancel("Closed")
        self.assertEqual(other.display_state, "cancel")
        self.assertFalse(other.carried_to_id)

    @freeze_time("2026-12-07 10:00:00")
    def test_overdue_balance_says_since_when_and_why(self):
        """Café Lumen's October balance was due on 3 November and its billing
        failed. On 7 December its form no longer claims "Invoice Created On: 3
        Nov": it is overdue, due since 3 November, and says it waits for a retry
        because of the stored error."""
        lumen = self.env["res.partner"].create({"name": "Café Lumen"})
        balance = self._balance(
            lumen,
            period_start="2026-10-01",
            period_end="2026-10-31",
            billing_date="2026-11-03",
        )
        self._item(balance, 40.0)
        balance.billing_error = "The customer has no invoice address."

        form = Form(balance)
        self.assertTrue(form._get_modifier("invoice_creation_date", "invisible"))
        self.assertFalse(form._get_modifier("due_since", "invisible"))
        self.assertEqual(form.due_since, "2026-11-03")
        self.assertEqual(form.display_state, "overdue")
        self.assertIn("no invoice address", form.unbilled_reason)
        self.assertIn("Retry Billing", form.unbilled_reason)

        balance.billing_error = False
        self.env.ref("customer_balance.ir_cron_consolidate_due").active = False
        balance.invalidate_recordset()
        self.assertIn("switched off", balance.unbilled_reason)

    @freeze_time("2026-06-20 10:00:00")
    def test_open_balance_still_says_when_its_invoice_is_made(self):
        """Lisa's June balance is not due yet: it says when the invoice will be
        created, and nothing about being overdue."""
        balance = self._balance(self.lisa)
        self._item(balance, 40.0)
        form = Form(balance)
        self.assertFalse(form._get_modifier("invoice_creation_date", "invisible"))
        self.assertTrue(form._get_modifier("due_since", "invisible"))
        self.assertEqual(form.display_state, "open")
        self.assertFalse(balance.unbilled_reason)

    @freeze_time("2026-07-01 10:00:00")
    def test_due_today_waits_for_the_next_run(self):
        """Due today, nothing wrong: *Due*, not overdue, waiting for the next bill
        run."""
        balance = self._balance(self.lisa)
        self._item(balance, 40.0)
        self.assertEqual(balance.display_state, "due")
        self.assertFalse(balance.is_overdue)
        self.assertIn("next bill run", balance.unbilled_reason)


@tagged("post_install", "-at_install")
class TestLabels(BackendUxCommon):
    """The words of the balance screens (point 9)."""

    def test_balance_list_has_no_bill_run_beside_bill_runs(self):
        """The balance list's header offers *Bill Runs* and no *Bill Run* (the
        technical scheduled action) beside it."""
        arch = self.Balance.get_view(
            self.env.ref("customer_balance.customer_balance_view_list").id, "list"
        )["arch"]
        self.assertIn('string="Bill Runs"', arch)
        self.assertNotIn('string="Bill Run"', arch)

    def test_period_kind_in_german(self):
        """*Monthly* reads *Monatlich* on a German balance form."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["customer_balance"], ["de_DE"], overwrite=True
        )
        env_de = self.env(context=dict(self.env.context, lang="de_DE"))
        labels = dict(
            env_de["customer.balance"]
            ._fields["period_type"]
            ._description_selection(env_de)
        )
        self.assertEqual(labels["month"], "Monatlich")

    def test_empty_past_balances_do_not_ask_to_remove_filters(self):
        """Lisa has no past balance while others do: her *Past Balances* list
        says she has none yet, not to remove search filters nobody set."""
        other = self._balance(self.anna)
        self._item(other, 10.0)
        other.action_consolidate()
        self._balance(self.lisa)
        action = self.lisa.action_view_balance_history()
        self.assertIn("no past balance yet", action["help"])
        self.assertNotIn("remove", action["help"])
        # Anna has one: a filter leaving none out is what the help speaks of.
        action = self.anna.action_view_balance_history()
        self.assertIn("matches this search", action["help"])

    def test_add_entry_returns_to_the_balance_it_was_opened_from(self):
        """*Add Entry* from a balance goes back to that balance (the dialog
        closes), instead of opening the balance a second time in the
        breadcrumb."""
        balance = self._balance(self.lisa)
        action = balance.action_add_entry()
        form = Form(
            self.env["customer.balance.entry"].with_context(**action["context"])
        )
        form.name = "Coffee"
        form.amount = 12.0
        result = form.save().action_add()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(balance.line_ids.name, "Coffee")
        # From the partner's form, it opens the balance it went on.
        action = self.lisa.action_balance_add_entry()
        form = Form(
            self.env["customer.balance.entry"].with_context(**action["context"])
        )
        form.name = "Tea"
        form.amount = 3.0
        result = form.save().action_add()
        self.assertEqual(result["res_model"], "customer.balance")
        self.assertTrue(result["res_id"])


@tagged("post_install", "-at_install")
class TestLabelsTour(CustomerBalanceTestMixin, HttpCase):
    """The labels as the accountant sees them in the browser (point 9)."""

    def test_labels_tour(self):
        """The list has no *Bill Run* beside *Bill Runs*; after *Add Entry* on a
        balance, the breadcrumb shows the balance once."""
        company = self.env.ref("base.main_company")
        company.balance_enabled = True
        member = self.env["res.partner"].create({"name": "Label Member"})
        self.env["customer.balance.line"].create(
            {
                "partner_id": member.id,
                "name": "Desk day",
                "price_unit": 100.0,
                "tax_ids": [Command.clear()],
            }
        )
        balance = self.env["customer.balance"].search([("partner_id", "=", member.id)])
        self.assertTrue(balance)
        self.start_tour("/odoo", "customer_balance_labels_tour", login="admin")
        self.assertEqual(len(balance.line_ids), 2)
