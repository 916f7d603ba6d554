# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.customer_balance.tests.common import (
    CustomerBalanceCommon,
    CustomerBalanceTestMixin,
)


@tagged("post_install", "-at_install")
class TestSubscription(CustomerBalanceCommon):
    """Members pay a monthly membership through an OCA contract; with *Include
    subscription invoices* the membership goes on their balance with their desk
    days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.balance_include_subscriptions = True
        cls.Contract = cls.env["contract.contract"]
        cls.membership = cls._create_product(
            name="Membership",
            type="service",
            lst_price=50.0,
            taxes_id=cls.tax_sale_a,
        )

    # === HELPERS === #

    def _contract(self, partner, start="2026-06-01", invoicing="pre-paid", end=False):
        """A monthly membership of 50.00 (+ 15 %) for ``partner`` from ``start``
        (to ``end``), ``invoicing`` pre-paid (billed when its month starts) or
        post-paid (billed when its month is over)."""
        return self.Contract.create(
            {
                "name": f"Membership {partner.name}",
                "partner_id": partner.id,
                "line_recurrence": True,
                "contract_line_ids": [
                    Command.create(
                        {
                            "product_id": self.membership.id,
                            "name": "Membership #START# - #END#",
                            "quantity": 1.0,
                            "price_unit": 50.0,
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                            "recurring_invoicing_type": invoicing,
                            "date_start": start,
                            "date_end": end,
                        }
                    )
                ],
            }
        )

    def _contract_run(self):
        """The contract module's own daily job."""
        self.Contract.cron_recurring_create_invoice()

    def _invoices_of(self, partner):
        return self.Move.search(
            [
                ("partner_id", "=", partner.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )

    def _subscription_items(self, partner):
        return self.Item.search(
            [("partner_id", "=", partner.id), ("origin", "=", "subscription")],
            order="service_date, id",
        )

    # === TESTS === #

    def test_monthly_charge_billed_with_bookings(self):
        """Seed 003 (Spacebring): Anna's pre-paid membership starts on 1 June.
        The contract's job of 1 June bills June: no invoice of its own, but a
        subscription item of 50.00 for June, dated 1 June, on the balance billed
        that day (May's, the first period of a new contract: June is paid up
        front); the contract moves on to July and says where the charge went.
        On 1 July one invoice bills June's two desk days and July's membership:
        2 x 100.00 + 50.00 + 15 % = 287.50."""
        contract = self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            self._contract_run()
        self.assertFalse(self._invoices_of(self.anna))
        self.assertEqual(contract.recurring_next_date, date(2026, 7, 1))
        self.assertEqual(
            contract.contract_line_ids.last_date_invoiced, date(2026, 6, 30)
        )
        june_charge = self._subscription_items(self.anna)
        self.assertEqual(len(june_charge), 1)
        self.assertEqual(june_charge.service_date, date(2026, 6, 1))
        self.assertEqual(june_charge.balance_id.period_start, date(2026, 5, 1))
        self.assertEqual(june_charge.origin_ref, contract.name)
        self.assertEqual(june_charge.product_id, self.membership)
        self.assertEqual(june_charge.price_unit, 50.0)
        self.assertEqual(june_charge.tax_ids, self.tax_sale_a)
        self.assertIn("06/01/2026 - 06/30/2026", june_charge.name)
        self.assertIn("paid with the consolidated invoice", self._chatter(contract))
        self.assertIn(june_charge.balance_id.name, self._chatter(contract))
        self.assertIn("subscription items added", self._chatter(june_charge.balance_id))
        with freeze_time("2026-06-01 09:00:00"):
            self._bill_run()
        self.assertEqual(june_charge.state, "invoiced")
        self.assertAlmostEqual(june_charge.invoice_id.amount_total, 57.5)

        with freeze_time("2026-06-10 08:00:00"):
            bookings = self._new_item(self.anna, 100.0, "2026-06-03", origin="booking")
            bookings |= self._new_item(self.anna, 100.0, "2026-06-17", origin="booking")
        balance = bookings.balance_id
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()

        july_charge = self._subscription_items(self.anna) - june_charge
        invoice = balance.invoice_id
        self.assertEqual(july_charge.invoice_id, invoice)
        self.assertEqual(july_charge.service_date, date(2026, 7, 1))
        self.assertIn("07/01/2026 - 07/31/2026", july_charge.name)
        self.assertEqual(invoice.amount_total, 287.5)
        self.assertEqual(
            invoice.invoice_line_ids.filtered("product_id").product_id,
            self.desk | self.membership,
        )
        self.assertEqual(self._invoices_of(self.anna), june_charge.invoice_id | invoice)
        self.assertEqual(contract.recurring_next_date, date(2026, 8, 1))

    def test_contract_invoiced_by_hand(self):
        """The accountant clicks *Create invoices* on Anna's contract: the charge
        goes on her balance all the same, and the contract logs no invoice."""
        contract = self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            invoices = contract.recurring_create_invoice()

        self.assertFalse(invoices)
        self.assertFalse(self._invoices_of(self.anna))
        self.assertEqual(len(self._subscription_items(self.anna)), 1)
        self.assertEqual(contract.recurring_next_date, date(2026, 7, 1))
        self.assertNotIn("manually invoiced", self._chatter(contract))

    def test_setting_off_contract_invoices_as_before(self):
        """Without *Include subscription invoices* the contract makes its own
        invoice for Anna's membership, as it always did; her June balance holds
        only her desk day and is billed without the membership."""
        self.company.balance_include_subscriptions = False
        contract = self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            booking = self._new_item(self.anna, 100.0, "2026-06-03", origin="booking")
            self._contract_run()

        invoice = self._invoices_of(self.anna)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.invoice_origin, contract.name)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.membership)
        self.assertEqual(invoice.amount_total, 57.5)
        self.assertFalse(invoice.balance_id)
        self.assertEqual(contract._get_related_invoices(), invoice)
        self.assertEqual(contract.recurring_next_date, date(2026, 7, 1))
        self.assertFalse(self._subscription_items(self.anna))

        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        self.assertEqual(booking.invoice_id.amount_total, 115.0)
        self.assertEqual(self._invoices_of(self.anna), invoice | booking.invoice_id)

    def test_customer_not_on_balances_invoiced_as_before(self):
        """Only members use balances: Lisa, who is not one, still gets her own
        invoice from her contract, while Anna's membership goes on her balance."""
        self.company.balance_partner_category_ids = self.community
        self._contract(self.anna)
        lisa_contract = self._contract(self.lisa)
        with freeze_time("2026-06-01 08:00:00"):
            self._contract_run()

        self.assertFalse(self._invoices_of(self.anna))
        self.assertEqual(len(self._subscription_items(self.anna)), 1)
        lisa_invoice = self._invoices_of(self.lisa)
        self.assertEqual(len(lisa_invoice), 1)
        self.assertEqual(lisa_invoice.invoice_origin, lisa_contract.name)
        self.assertFalse(self._subscription_items(self.lisa))

    def test_contract_run_invoices_only_other_customers(self):
        """One contract run for Anna (a member) and Lisa (not one): the run hands
        back Lisa's invoice only, no invoice of Anna's ever exists, and both
        contracts move on to July."""
        self.company.balance_partner_category_ids = self.community
        contracts = self._contract(self.anna) | self._contract(self.lisa)
        moves_before = self.Move.search_count([])
        with freeze_time("2026-06-01 08:00:00"):
            invoices = contracts._recurring_create_invoice()

        self.assertEqual(invoices.partner_id, self.lisa)
        self.assertEqual(self.Move.search_count([]), moves_before + 1)
        self.assertEqual(len(self._subscription_items(self.anna)), 1)
        self.assertEqual(
            contracts.mapped("recurring_next_date"), [date(2026, 7, 1)] * 2
        )

    def test_invoice_with_contract_lines_stays_an_invoice(self):
        """An invoice created with lines pointing at Anna's contract (by hand or
        by another module) is what ``create`` returns: it stays an invoice, only
        the contract's own run puts charges on balances."""
        contract = self._contract(self.anna)
        line = contract.contract_line_ids
        invoice = self.Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.anna.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.membership.id,
                            "price_unit": 50.0,
                            "contract_line_id": line.id,
                        }
                    )
                ],
            }
        )

        self.assertTrue(invoice.exists())
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(self._subscription_items(self.anna))

    def _run_jobs(self, contract_first, times=2):
        """The contract's job and the bill run on the same day, ``times`` times,
        in the given order."""
        for _run in range(times):
            if contract_first:
                self._contract_run()
                self._bill_run()
            else:
                self._bill_run()
                self._contract_run()

    def _check_same_day(self, contract_first):
        """June's pre-paid membership was billed on 1 June; on 1 July the
        contract's job and the bill run both run (twice, in the given order):
        June's invoice holds June's desk day and July's membership once, no
        other invoice exists, the contract's dates advanced once."""
        contract = self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            self._run_jobs(contract_first, times=1)
            desk = self._new_item(self.anna, 100.0, "2026-06-10", origin="booking")
        june_charge = self._subscription_items(self.anna)

        with freeze_time("2026-07-01 08:00:00"):
            self._run_jobs(contract_first)

        charges = self._subscription_items(self.anna)
        self.assertEqual(
            charges.mapped("service_date"), [date(2026, 6, 1), date(2026, 7, 1)]
        )
        july_charge = charges - june_charge
        june = desk.balance_id
        self.assertEqual(june.state, "invoiced")
        self.assertEqual(july_charge.invoice_id, june.invoice_id)
        self.assertEqual(june.invoice_id.amount_total, 172.5)
        self.assertEqual(
            self._invoices_of(self.anna), june_charge.invoice_id | june.invoice_id
        )
        self.assertEqual(contract.recurring_next_date, date(2026, 8, 1))
        self.assertEqual(
            contract.contract_line_ids.last_date_invoiced, date(2026, 7, 31)
        )

    def test_same_day_contract_job_first(self):
        """The contract's job, then the bill run, on 1 July: nothing billed twice."""
        self._check_same_day(contract_first=True)

    def test_same_day_bill_run_first(self):
        """The bill run, then the contract's job, on 1 July: nothing billed twice."""
        self._check_same_day(contract_first=False)

    def _check_post_paid(self, contract_first):
        """Anna's post-paid membership from 1 June is billed when June is over:
        on 1 July (both jobs, twice, in the given order) June's membership is on
        her June balance and billed with June's desk day, once."""
        contract = self._contract(self.anna, invoicing="post-paid")
        self.assertEqual(contract.recurring_next_date, date(2026, 7, 1))
        with freeze_time("2026-06-01 08:00:00"):
            self._run_jobs(contract_first, times=1)
            desk = self._new_item(self.anna, 100.0, "2026-06-10", origin="booking")
        self.assertFalse(self._subscription_items(self.anna))

        with freeze_time("2026-07-01 08:00:00"):
            self._run_jobs(contract_first)

        charge = self._subscription_items(self.anna)
        self.assertEqual(len(charge), 1)
        self.assertEqual(charge.service_date, date(2026, 6, 1))
        self.assertIn("06/01/2026 - 06/30/2026", charge.name)
        self.assertEqual(charge.invoice_id, desk.invoice_id)
        self.assertEqual(desk.balance_id.period_start, date(2026, 6, 1))
        self.assertEqual(self._invoices_of(self.anna), desk.invoice_id)
        self.assertEqual(desk.invoice_id.amount_total, 172.5)
        self.assertEqual(contract.recurring_next_date, date(2026, 8, 1))

    def test_post_paid_contract_job_first(self):
        """Post-paid, the contract's job first: June's membership on June's
        invoice, once."""
        self._check_post_paid(contract_first=True)

    def test_post_paid_bill_run_first(self):
        """Post-paid, the bill run first: June's membership on June's invoice,
        once."""
        self._check_post_paid(contract_first=False)

    def test_first_period_of_new_contract_bill_run_first(self):
        """Anna signs a pre-paid membership starting 1 July; only the bill run
        runs on 1 July: it collects July's membership onto the balance billed
        that day (June's, with her June desk day) before billing it; the
        contract's job afterwards bills nothing."""
        contract = self._contract(self.anna, start="2026-07-01")
        with freeze_time("2026-06-10 08:00:00"):
            desk = self._new_item(self.anna, 100.0, "2026-06-10", origin="booking")
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
            self._contract_run()
        charge = self._subscription_items(self.anna)
        self.assertEqual(charge.service_date, date(2026, 7, 1))
        self.assertEqual(charge.invoice_id, desk.invoice_id)
        self.assertEqual(self._invoices_of(self.anna), desk.invoice_id)
        self.assertEqual(contract.recurring_next_date, date(2026, 8, 1))

    def test_contract_that_ends(self):
        """Anna's pre-paid membership ends on 31 July: July's is billed on
        1 July with June; on 1 August nothing more is charged and July's
        invoice holds only her July desk day. Her post-paid locker rent ends on
        30 June: June's rent is billed on 1 July, nothing after."""
        membership = self._contract(self.anna, end="2026-07-31")
        locker = self._contract(self.anna, invoicing="post-paid", end="2026-06-30")
        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
            july_desk = self._new_item(self.anna, 100.0, "2026-07-10", origin="booking")
        with freeze_time("2026-08-01 08:00:00"):
            self._bill_run()
            self._contract_run()
        charges = self._subscription_items(self.anna)
        self.assertEqual(
            charges.mapped("service_date"),
            [date(2026, 6, 1), date(2026, 6, 1), date(2026, 7, 1)],
        )
        self.assertEqual(set(charges.mapped("state")), {"invoiced"})
        self.assertEqual(july_desk.invoice_id.amount_total, 115.0)
        self.assertFalse(membership.recurring_next_date)
        self.assertFalse(locker.recurring_next_date)

    def test_customer_stops_using_balances(self):
        """Anna's pre-paid membership was on her balances; from July she no
        longer uses balances: the bill run of 1 July does not collect July's
        membership (her June balance is billed with her desk day only) and the
        contract's job invoices it on its own, as without balances."""
        contract = self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            self._bill_run()
            desk = self._new_item(self.anna, 100.0, "2026-06-10", origin="booking")
        self.anna.balance_use = "never"
        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
            self.assertEqual(contract.recurring_next_date, date(2026, 7, 1))
            self._contract_run()
        self.assertEqual(len(self._subscription_items(self.anna)), 1)
        self.assertEqual(desk.invoice_id.amount_total, 115.0)
        own = self._invoices_of(self.anna).filtered(lambda move: not move.balance_id)
        self.assertEqual(own.invoice_line_ids.product_id, self.membership)
        self.assertEqual(own.invoice_origin, contract.name)
        self.assertEqual(contract.recurring_next_date, date(2026, 8, 1))

    def test_current_period_upcoming_future_bookings_scheduled(self):
        """Seed rule: with a membership starting on 15 June and *Include
        subscription invoices*, on 15 June Anna's membership and her June desk
        day are on the upcoming invoice (the current, June balance), while her
        desk day on 13 August waits as a scheduled item on the August balance.
        The bill run of 1 July bills June only."""
        self._contract(self.anna, start="2026-06-15")
        with freeze_time("2026-06-15 08:00:00"):
            self._contract_run()
            current = self._new_item(self.anna, 100.0, "2026-06-20", origin="booking")
            future = self._new_item(self.anna, 100.0, "2026-08-13", origin="booking")
            charge = self._subscription_items(self.anna)
            # A membership starting mid-June: the day before is in June too.
            self.assertEqual(charge.balance_id, current.balance_id)
            self.assertFalse(current.balance_id.is_scheduled)
            self.assertEqual(future.balance_id.period_start, date(2026, 8, 1))
            self.assertTrue(future.balance_id.is_scheduled)

        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()
        self.assertEqual(current.balance_id.state, "invoiced")
        self.assertEqual(charge.invoice_id, current.invoice_id)
        self.assertEqual(future.state, "pending")
        self.assertEqual(future.balance_id.state, "open")

    def test_manual_period_waits_for_the_accountant(self):
        """Seed rule: with the *manual* period, Anna's membership and desk day wait
        on her one open balance; bill runs in July and August bill nothing (they
        collect July's and August's memberships onto it), until the accountant
        creates the invoice: 100.00 + 3 x 50.00 + 15 %."""
        self.company.balance_period = "manual"
        self._contract(self.anna)
        with freeze_time("2026-06-01 08:00:00"):
            self._contract_run()
            booking = self._new_item(self.anna, 100.0, "2026-06-20", origin="booking")
        charge = self._subscription_items(self.anna)
        balance = booking.balance_id
        self.assertEqual(charge.balance_id, balance)
        self.assertFalse(balance.period_start)
        self.assertFalse(balance.invoice_creation_date)

        for day in ("2026-07-01 08:00:00", "2026-08-01 08:00:00"):
            with freeze_time(day):
                self._bill_run()
        self.assertEqual(balance.state, "open")
        charges = self._subscription_items(self.anna)
        self.assertEqual(len(charges), 3)
        self.assertEqual(charges.balance_id, balance)
        self.assertEqual(set((charges | booking).mapped("state")), {"pending"})

        with freeze_time("2026-08-10 08:00:00"):
            balance.action_consolidate()
        self.assertEqual(balance.invoice_id.amount_total, 287.5)
        self.assertEqual(charges.invoice_id, balance.invoice_id)


@tagged("post_install", "-at_install")
class TestSubscriptionPortal(CustomerBalanceTestMixin, HttpCase):
    """What a member reads about a subscription charge on her balance."""

    def test_member_sees_charge_paid_with_consolidated_invoice(self):
        """Lisa's membership waits on her balance next to a desk day: her balance
        page says the membership is paid with the consolidated invoice, and
        when; the desk day does not say so."""
        company = self._setup_balance_company(balance_portal_visible=True)
        lisa = self.env["res.partner"].create({"name": "Lisa Solo"})
        self._portal_user(lisa, "portal.lisa")
        Item = self.env["customer.balance.line"].with_company(company)
        values = {
            "partner_id": lisa.id,
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "quantity": 1.0,
            "tax_ids": [Command.clear()],
        }
        charge = Item.create(
            {
                **values,
                "name": "Membership",
                "price_unit": 50.0,
                "origin": "subscription",
            }
        )
        Item.create({**values, "name": "Desk day", "price_unit": 100.0})
        balance = charge.balance_id
        self.assertEqual(balance.item_count, 2)

        self.authenticate("portal.lisa", "portal.lisa")
        response = self.url_open(f"/my/balances/{balance.id}")

        self.assertEqual(response.status_code, 200)
        page = html2plaintext(response.text)
        self.assertIn("Membership", page)
        self.assertEqual(page.count("Subscription: paid with the consolidated"), 1)
