# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


def no_commit(self, processed=0, remaining=None, deactivate=False):
    """``ir.cron._commit_progress`` without the commit, for a TransactionCase.
    Prefer ``CustomerBalanceCommon._bill_run``, which runs the scheduled action."""
    return float("inf")


class CustomerBalanceTestMixin:
    """Helpers of the addon's tests that need none of ``CustomerBalanceCommon``'s
    data, for test classes of another base (``HttpCase``)."""

    # === HELPERS === #

    def _bill_run(self, batch_size=None):
        """Run the bill run as the scheduler runs it, the way Odoo's own tests run
        crons: the scheduled action in a transaction of its own (each of its
        commits a savepoint of the test's), called again while it reports
        progress. ``batch_size``: the balances billed per call. Returns the run
        record."""
        cron = self.env.ref("customer_balance.ir_cron_consolidate_due")
        if batch_size:
            cron.code = f"model._cron_bill_run(batch_size={int(batch_size)})"
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        return self.env["customer.balance.run"].search([], limit=1)

    def _chatter(self, record):
        """The plain text of the messages of ``record``, newest first, one
        message a line."""
        record.invalidate_recordset(["message_ids"])
        bodies = record.message_ids.mapped("body")
        return "\n".join(html2plaintext(body) for body in bodies if body)

    def _messages(self, record):
        """The HTML bodies of the messages of ``record``, newest first, one
        message a line: for assertions on links."""
        record.invalidate_recordset(["message_ids"])
        return "\n".join(body for body in record.message_ids.mapped("body") if body)


class CustomerBalanceCommon(CustomerBalanceTestMixin, AccountTestInvoicingCommon):
    """A coworking space in Berlin billing its members monthly.

    *Figma* is a member company with two employees booking desks; *Lisa* books
    on her own.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.tz = "Europe/Berlin"
        cls.company.write(
            {
                "balance_enabled": True,
                "balance_period": "month",
                "balance_billing_delay": 0,
                "balance_grouping": "person",
            }
        )
        cls.currency = cls.company.currency_id
        cls.community = cls.env["res.partner.category"].create({"name": "Members"})
        cls.figma = cls.env["res.partner"].create(
            {
                "name": "Figma",
                "is_company": True,
                "email": "accounting@figma.com",
                "category_id": [Command.link(cls.community.id)],
            }
        )
        cls.anna, cls.ben = cls.env["res.partner"].create(
            [
                {
                    "name": "Anna Figma",
                    "parent_id": cls.figma.id,
                    "email": "anna@figma.com",
                },
                {
                    "name": "Ben Figma",
                    "parent_id": cls.figma.id,
                    "email": "ben@figma.com",
                },
            ]
        )
        cls.lisa = cls.env["res.partner"].create(
            {"name": "Lisa Solo", "email": "lisa@example.org"}
        )
        cls.desk = cls._create_product(
            name="Desk day",
            type="service",
            lst_price=100.0,
            taxes_id=cls.tax_sale_a,
        )

    # === HELPERS === #

    def _new_item(self, partner, price_unit=100.0, service_date="2026-06-15", **vals):
        """A desk day of ``partner`` (sale tax) created without a balance: it
        finds its own."""
        return self.env["customer.balance.line"].create(
            {
                "partner_id": partner.id,
                "product_id": self.desk.id,
                "name": "Desk day",
                "quantity": 1.0,
                "price_unit": price_unit,
                "tax_ids": [Command.set(self.tax_sale_a.ids)],
                "service_date": service_date,
                **vals,
            }
        )

    @classmethod
    def _balance(cls, partner, **vals):
        """An open monthly balance of ``partner``, for June 2026 by default."""
        return cls.env["customer.balance"].create(
            {
                "partner_id": partner.id,
                "period_type": "month",
                "period_start": "2026-06-01",
                "period_end": "2026-06-30",
                "billing_date": "2026-06-30",
                **vals,
            }
        )

    @classmethod
    def _item(cls, balance, price_unit, partner=None, **vals):
        """A pending item of ``price_unit`` (a desk day, sale tax) on ``balance``."""
        return cls.env["customer.balance.line"].create(
            {
                "balance_id": balance.id,
                "partner_id": (partner or balance.partner_id).id,
                "company_id": balance.company_id.id,
                "currency_id": balance.currency_id.id,
                "product_id": cls.desk.id,
                "name": "Desk day",
                "quantity": 1.0,
                "price_unit": price_unit,
                "tax_ids": [Command.set(cls.tax_sale_a.ids)],
                "service_date": balance.period_start or "2026-06-15",
                **vals,
            }
        )
