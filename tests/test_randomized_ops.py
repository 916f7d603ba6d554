# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import random
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestRandomizedOperations(CustomerBalanceCommon):
    OPERATIONS = 240

    @freeze_time("2026-06-15 10:00:00")
    def test_no_item_lost_or_billed_twice(self):
        """A seeded random mix of 240 creations, edits (price, date, partner),
        moves, Invoice Now, deletions and entries over four members and five
        months: afterwards every item is pending on exactly one open balance,
        invoiced on its own invoice line, or cancelled; nothing is lost; each open
        balance's total is the sum of its pending items."""
        rng = random.Random(20260615)
        Line = self.env["customer.balance.line"]
        partners = self.anna + self.ben + self.lisa + self.figma
        created = deleted = 0
        first_day = date(2026, 4, 1)

        def some_day():
            return first_day + relativedelta(days=rng.randrange(150))

        def pending():
            return Line.search([("state", "=", "pending")])

        for _step in range(self.OPERATIONS):
            operation = rng.choice(
                ["create", "create", "edit", "move", "invoice", "delete", "entry"]
            )
            items = pending()
            if operation == "create" or not items:
                Line.create(
                    {
                        "partner_id": rng.choice(partners).id,
                        "name": "Desk day",
                        "product_id": self.desk.id,
                        "quantity": rng.randint(1, 3),
                        "price_unit": rng.choice([9.99, 25.0, 33.33, -5.0]),
                        "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        "service_date": some_day(),
                    }
                )
                created += 1
            elif operation == "edit":
                item = rng.choice(items)
                field = rng.choice(["price_unit", "service_date", "partner_id"])
                value = {
                    "price_unit": rng.choice([1.0, 12.5, 99.99]),
                    "service_date": some_day(),
                    "partner_id": rng.choice(partners).id,
                }[field]
                item.write({field: value})
            elif operation == "move":
                item = rng.choice(items)
                targets = self.env["customer.balance"].search(
                    [("state", "=", "open"), ("id", "!=", item.balance_id.id)]
                )
                if targets:
                    self.env["customer.balance.line.move"].create(
                        {
                            "line_ids": [Command.set(item.ids)],
                            "balance_id": rng.choice(targets).id,
                        }
                    ).action_move()
            elif operation == "invoice":
                sample = items.browse(rng.sample(items.ids, min(len(items), 3)))
                sample.action_invoice_now()
            elif operation == "delete":
                rng.choice(items).unlink()
                deleted += 1
            else:
                wizard = self.env["customer.balance.entry"].create(
                    {
                        "partner_id": rng.choice(partners).id,
                        "entry_type": rng.choice(["charge", "credit"]),
                        "name": "Entry",
                        "amount": rng.choice([5.0, 17.5]),
                        "service_date": some_day(),
                    }
                )
                wizard.action_add()
                created += 1

        items = Line.search([])
        self.assertEqual(len(items), created - deleted, "an item was lost")
        self.assertGreater(len(items.filtered(lambda i: i.state == "invoiced")), 10)
        for item in items:
            if item.state == "pending":
                self.assertEqual(item.balance_id.state, "open")
                self.assertEqual(item.balance_id.company_id, item.company_id)
                self.assertFalse(item.invoice_line_id)
            elif item.state == "invoiced":
                self.assertTrue(item.invoice_line_id.exists())
                self.assertEqual(item.invoice_id, item.invoice_line_id.move_id)
        invoiced = items.filtered(lambda i: i.state == "invoiced")
        self.assertEqual(len(invoiced.invoice_line_id), len(invoiced))
        for balance in self.env["customer.balance"].search([("state", "=", "open")]):
            lines = balance.line_ids.filtered(lambda i: i.state == "pending")
            expected = balance._compute_totals(lines)
            self.assertFalse(
                balance.currency_id.compare_amounts(
                    balance.amount_total, expected["total_amount_currency"]
                )
            )
            self.assertFalse(
                balance.currency_id.compare_amounts(
                    balance.amount_untaxed, sum(lines.mapped("price_subtotal"))
                )
            )
