# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CustomerBalanceCommon


class BackendUxCommon(CustomerBalanceCommon):
    """What a new accountant sees on the balance screens of the coworking space
    (issue 20)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += cls.env.ref("sales_team.group_sale_manager")
        cls.Balance = cls.env["customer.balance"]
        cls.Item = cls.env["customer.balance.line"]
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
        july = self._balance(
            self.studio,
            period_start="2026-07-01",
            period_end="2026-07-31",
            billing_date="2026-07-31",
        )
        closed = self._balance(
            self.studio,
            period_start="2026-08-01",
            period_end="2026-08-31",
            billing_date="2026-08-31",
        )
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
