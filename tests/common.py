# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user
from odoo.tools import date_utils, html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


def no_commit(self, processed=0, remaining=None, deactivate=False):
    """``ir.cron._commit_progress`` without the commit, for a TransactionCase.
    Prefer ``CustomerBalanceCommon._bill_run``, which runs the scheduled action."""
    return float("inf")


class WorkerKilled(Exception):
    """The worker running the bill run dies (killed, out of memory, restarted)."""


class CustomerBalanceTestMixin:
    """Helpers of the addon's tests that need none of ``CustomerBalanceCommon``'s
    data, for test classes of another base (``HttpCase``), and the fixtures the
    portal, shop and tour tests share (of the addon and of its bridges)."""

    # === FIXTURES === #

    @classmethod
    def _setup_balance_company(cls, **values):
        """The main company (the one ``HttpCase``'s users work in) bills on
        customer balances, with ``values`` on top. Sets and returns
        ``cls.company``."""
        cls.company = cls.env.ref("base.main_company")
        cls.company.write({"balance_enabled": True, **values})
        return cls.company

    @classmethod
    def _setup_portal_company(cls, **values):
        """The main company bills on a balance per customer company and shows
        the balances in the portal (``values`` on top)."""
        return cls._setup_balance_company(
            balance_grouping="company", balance_portal_visible=True, **values
        )

    @classmethod
    def _setup_portal_customers(cls, login_prefix):
        """Figma and Acme, two customer companies (their employees are each
        test's); Zoe of Acme logs in to the portal as ``<login_prefix>.zoe``."""
        Partner = cls.env["res.partner"]
        cls.figma = Partner.create({"name": "Figma", "is_company": True})
        cls.acme = Partner.create({"name": "Acme", "is_company": True})
        cls.zoe = Partner.create({"name": "Zoe", "parent_id": cls.acme.id})
        cls._portal_user(cls.zoe, f"{login_prefix}.zoe")

    @classmethod
    def _setup_shop_company(cls, **values):
        """The main company offers monthly balances to every customer (no
        category, no order limit, not reserved to administrators): what the
        shop's checkout offers (``values`` on top)."""
        return cls._setup_balance_company(
            balance_period="month",
            balance_partner_category_ids=[Command.clear()],
            balance_max_order_amount=0.0,
            balance_admin_only=False,
            **values,
        )

    @classmethod
    def _enable_balance_provider(cls):
        """The "customer balance" payment provider, enabled and published."""
        provider = cls.env.ref("customer_balance.payment_provider_customer_balance")
        provider.write({"state": "enabled", "is_published": True})
        return provider

    @classmethod
    def _portal_user(cls, partner, login, **values):
        """A portal user of ``partner`` with ``login`` as login and password."""
        return new_test_user(
            cls.env,
            login=login,
            password=login,
            groups="base.group_portal",
            partner_id=partner.id,
            **values,
        )

    @classmethod
    def _billing_clerk(cls, login):
        """An internal user who invoices and sells (invoicing, own sales), no
        administrator of either: whom the write guards and rights are for."""
        return new_test_user(
            cls.env,
            login=login,
            groups="account.group_account_invoice,sales_team.group_sale_salesman",
        )

    @classmethod
    def _shop_member(cls, email, login, name="Shop Member"):
        """A member with a Berlin address (the shop's checkout asks for one),
        who logs in to the portal as ``login``."""
        member = cls.env["res.partner"].create(
            {
                "name": name,
                "email": email,
                "phone": "+49 30 1234567",
                "street": "Spreeweg 1",
                "city": "Berlin",
                "zip": "10557",
                "country_id": cls.env.ref("base.de").id,
            }
        )
        cls._portal_user(member, login)
        return member

    @classmethod
    def _untaxed_item(cls, partner, name, price, day=None, **vals):
        """An untaxed item ``name`` of ``price`` for ``partner`` on ``day`` (today
        in the company's time zone), created without a balance: it finds its
        own."""
        return cls.env["customer.balance.line"].create(
            {
                "partner_id": partner.id,
                "name": name,
                "price_unit": price,
                "service_date": day or cls.company._balance_today(),
                "tax_ids": [Command.clear()],
                **vals,
            }
        )

    @classmethod
    def _due_balance(cls, name, email):
        """The balance of a new member ``name`` with two untaxed desk days of last
        month (100.00 and 30.00): due today."""
        member = cls.env["res.partner"].create({"name": name, "email": email})
        today = cls.company._balance_today()
        last_month = date_utils.start_of(today - relativedelta(months=1), "month")
        for day, price in ((2, 100.0), (9, 30.0)):
            cls._untaxed_item(
                member, "Desk day", price, day=last_month + relativedelta(days=day)
            )
        return cls.env["customer.balance"].search([("partner_id", "=", member.id)])

    # === HELPERS === #

    def _get(self, url, login=None):
        """GET ``url`` without following redirects, as ``login`` when given
        (else in the current session)."""
        if login:
            self.authenticate(login, login)
        return self.url_open(url, allow_redirects=False)

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

    def _run_until_the_worker_dies(self, run, dies_when):
        """Call ``run()`` as a scheduled action whose worker dies (``WorkerKilled``)
        at the first commit of its progress where ``dies_when(calls)`` holds
        (``calls``: the progress counts it committed, this one last). What it
        committed before is kept (each commit a savepoint of the test's), the
        rest of its transaction is lost, as when the process is killed. Returns
        ``calls``."""
        cr = self.env.cr
        calls = []

        def dying_commit(cron, processed=0, remaining=None, deactivate=False):
            calls.append(processed)
            if dies_when(calls):
                raise WorkerKilled
            cron.env.flush_all()
            cr.execute('RELEASE SAVEPOINT "worker_commit"')
            cr.execute('SAVEPOINT "worker_commit"')
            return float("inf")

        cr.execute('SAVEPOINT "worker_commit"')
        # Not assertRaises: Odoo's rolls back to its own savepoint, before ours.
        killed = False
        try:
            with patch.object(
                type(self.env["ir.cron"]), "_commit_progress", dying_commit
            ):
                run()
        except WorkerKilled:
            killed = True
        self.assertTrue(killed, "the worker did not die")
        cr.execute('ROLLBACK TO SAVEPOINT "worker_commit"')
        cr.execute('RELEASE SAVEPOINT "worker_commit"')
        cr.clear()
        return calls

    def _assert_pending_sums_are_the_items(self, balances=None, msg=None):
        """The pending sums ``balances`` (all of them by default) hold, as their
        items' additions left them, are those of their pending items read
        again (``_recount_pending_sums``, rolled back): none drifted."""
        Balance = self.env["customer.balance"]
        balances = Balance.search([]) if balances is None else balances
        kept = balances._read_pending_sums()
        cr = self.env.cr
        cr.execute('SAVEPOINT "pending_sums"')
        try:
            balances._recount_pending_sums()
            recounted = balances._read_pending_sums()
        finally:
            cr.execute('ROLLBACK TO SAVEPOINT "pending_sums"')
            cr.execute('RELEASE SAVEPOINT "pending_sums"')
        for balance in balances:
            self.assertEqual(
                kept.get(balance.id),
                recounted.get(balance.id),
                f"{msg or ''} {balance.display_name}: pending sums drifted",
            )

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
        cls.Balance = cls.env["customer.balance"]
        cls.Item = cls.env["customer.balance.line"]
        cls.Move = cls.env["account.move"]
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

    @classmethod
    def _sell_desk_days(cls):
        """The test user takes bookings (sales manager) and a desk day is
        invoiced as ordered, as a booking is: confirmed orders of desk days go on
        balances."""
        cls.env.user.group_ids += cls.env.ref("sales_team.group_sale_manager")
        cls.desk.invoice_policy = "order"

    # === HELPERS === #

    def _billed_order(self):
        """Anna's order of two desk days, billed with her June balance."""
        with freeze_time("2026-06-10 09:00:00"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.anna.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.desk.id, "product_uom_qty": 2}
                        )
                    ],
                }
            )
            order.action_confirm()
        charge = order.order_line.balance_line_ids
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.invoice_id.state, "posted")
        return order, charge

    def _new_item_vals(
        self, partner, price_unit=100.0, service_date="2026-06-15", **vals
    ):
        """Values of a desk day of ``partner`` (sale tax) without a balance."""
        return {
            "partner_id": partner.id,
            "product_id": self.desk.id,
            "name": "Desk day",
            "quantity": 1.0,
            "price_unit": price_unit,
            "tax_ids": [Command.set(self.tax_sale_a.ids)],
            "service_date": service_date,
            **vals,
        }

    def _new_item(self, partner, price_unit=100.0, service_date="2026-06-15", **vals):
        """A desk day of ``partner`` (sale tax) created without a balance: it
        finds its own."""
        return self.env["customer.balance.line"].create(
            self._new_item_vals(partner, price_unit, service_date, **vals)
        )

    @classmethod
    def _balance(cls, partner, month=6, **vals):
        """An open monthly balance of ``partner`` for ``month`` of 2026 (June by
        default), billed on its last day."""
        start = date(2026, month, 1)
        end = date_utils.end_of(start, "month")
        return cls.env["customer.balance"].create(
            {
                "partner_id": partner.id,
                "period_type": "month",
                "period_start": start,
                "period_end": end,
                "billing_date": end,
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

    @classmethod
    def _balances_with_items(cls, partners, prices=(100.0, 20.0)):
        """An open June balance per partner with a desk day at each of
        ``prices``; returns the balances."""
        balances = cls.env["customer.balance"]
        for partner in partners:
            balance = cls._balance(partner)
            for price in prices:
                cls._item(balance, price)
            balances |= balance
        return balances
