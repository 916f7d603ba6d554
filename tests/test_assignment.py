# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
from contextlib import contextmanager
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged, warmup

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestAssignment(CustomerBalanceCommon):
    """Which balance an item goes on: grouping, company matching, eligibility,
    companies, currencies, re-assignment and its cost in queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]

    # === HELPERS === #

    def _per_company(self):
        self.company.balance_grouping = "company"

    def _assert_link_logged(self, contact, company):
        """The chatters of ``contact`` and ``company`` both log the link, each
        with a link to the other."""
        self.assertRegex(
            self._messages(contact),
            rf'Linked to company <a [^>]*data-oe-id="{company.id}"[^>]*>'
            rf"{re.escape(company.name)}</a> for customer balances",
        )
        self.assertRegex(
            self._messages(company),
            rf'<a [^>]*data-oe-id="{contact.id}"[^>]*>'
            rf"{re.escape(contact.display_name)}</a>"
            r" was linked to this company for customer balances",
        )

    @contextmanager
    def _assert_refused(self, reason):
        """The block raises a ValidationError whose message matches ``reason``;
        what it wrote is rolled back, as the user's transaction would be."""
        with self.assertRaises(ValidationError) as caught:
            yield
        self.assertRegex(str(caught.exception), reason)

    def _count_queries(self, func):
        """Number of queries ``func`` runs, everything flushed."""
        self.env.flush_all()
        self.env.cr.flush()
        start = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        self.env.cr.flush()
        return self.env.cr.sql_log_count - start

    # === GROUPING === #

    @freeze_time("2026-06-10 10:00:00")
    def test_per_person_one_balance_per_contact(self):
        """Per person: Anna and Ben, both of Figma, each have their own balance,
        billed to themselves; two items of Anna share hers."""
        anna_1 = self._new_item(self.anna, 100.0)
        anna_2 = self._new_item(self.anna, 50.0, service_date="2026-06-20")
        ben = self._new_item(self.ben, 40.0)

        self.assertEqual(anna_1.balance_id, anna_2.balance_id)
        self.assertNotEqual(anna_1.balance_id, ben.balance_id)
        self.assertEqual(anna_1.balance_id.partner_id, self.anna)
        self.assertEqual(ben.balance_id.partner_id, self.ben)
        self.assertAlmostEqual(anna_1.balance_id.amount_untaxed, 150.0)
        self.assertAlmostEqual(ben.balance_id.amount_untaxed, 40.0)
        self.assertFalse(self.Balance.search([("partner_id", "=", self.figma.id)]))

    @freeze_time("2026-06-10 10:00:00")
    def test_per_company_one_balance_for_the_company(self):
        """Per company: the desk days of Anna and Ben go on one Figma balance,
        billed to Figma; each item keeps the contact who incurred it."""
        self._per_company()
        anna = self._new_item(self.anna, 100.0)
        ben = self._new_item(self.ben, 40.0, service_date="2026-06-25")

        balance = anna.balance_id
        self.assertEqual(ben.balance_id, balance)
        self.assertEqual(balance.partner_id, self.figma)
        self.assertEqual((anna.partner_id, ben.partner_id), (self.anna, self.ben))
        self.assertEqual(balance.item_count, 2)
        self.assertAlmostEqual(balance.amount_untaxed, 140.0)
        self.assertFalse(
            self.Balance.search([("partner_id", "in", (self.anna + self.ben).ids)])
        )

    # === COMPANY MATCHING === #

    @freeze_time("2026-06-10 10:00:00")
    def test_match_company_by_name_ignoring_case_and_accents(self):
        """Per company: contacts without a company who typed 'FIGMA' or ' Fígma '
        as their company are linked to Figma, billed on Figma's balance, and the
        link is logged on the contact and on Figma."""
        self._per_company()
        for index, typed in enumerate(("FIGMA", " Fígma ")):
            with self.subTest(typed=typed):
                contact = self.Partner.create(
                    {"name": f"Newcomer {index}", "company_name": typed}
                )
                item = self._new_item(contact)

                self.assertEqual(contact.parent_id, self.figma)
                self.assertEqual(item.balance_id.partner_id, self.figma)
                self.assertEqual(item.partner_id, contact)
                self._assert_link_logged(contact, self.figma)

    @freeze_time("2026-06-10 10:00:00")
    def test_match_company_by_name_with_accents_on_the_company(self):
        """The company is called 'Café Müller'; a contact who typed 'cafe muller'
        belongs to it all the same."""
        self._per_company()
        cafe = self.Partner.create({"name": "Café Müller", "is_company": True})
        self.Partner.create({"name": "Cafe Mullerson", "is_company": True})
        contact = self.Partner.create({"name": "Mia", "company_name": "cafe muller"})
        item = self._new_item(contact)
        self.assertEqual(contact.parent_id, cafe)
        self.assertEqual(item.balance_id.partner_id, cafe)
        self._assert_link_logged(contact, cafe)

    @freeze_time("2026-06-10 10:00:00")
    def test_match_company_by_email_domain(self):
        """A contact with an e-mail at figma.com and no company name is linked to
        Figma (accounting@figma.com) and billed on Figma's balance; both chatters
        say so."""
        self._per_company()
        contact = self.Partner.create({"name": "Xavier", "email": "x@figma.com"})
        item = self._new_item(contact)

        self.assertEqual(contact.parent_id, self.figma)
        self.assertEqual(contact.commercial_partner_id, self.figma)
        self.assertEqual(item.balance_id.partner_id, self.figma)
        self._assert_link_logged(contact, self.figma)

    @freeze_time("2026-06-10 10:00:00")
    def test_no_match_by_generic_email_domain(self):
        """gmail.com says nothing about a company: even with a company whose e-mail
        is at gmail.com, a gmail contact stays on its own and is billed itself."""
        self._per_company()
        self.Partner.create(
            {"name": "Gmail Lovers", "is_company": True, "email": "team@gmail.com"}
        )
        contact = self.Partner.create({"name": "Gina", "email": "gina@gmail.com"})
        item = self._new_item(contact)

        self.assertFalse(contact.parent_id)
        self.assertEqual(item.balance_id.partner_id, contact)
        self.assertNotIn("Linked to company", self._messages(contact))

    @freeze_time("2026-06-10 10:00:00")
    def test_ambiguous_match_links_nothing_and_says_why(self):
        """Two companies are called 'Acme': a contact who typed 'Acme' is linked to
        neither, billed itself, and its chatter names both candidates. Two
        companies with the contact's domain are as ambiguous."""
        self._per_company()
        acme_1, acme_2 = self.Partner.create(
            [
                {"name": "Acme", "is_company": True, "city": "Berlin"},
                {"name": "ACME", "is_company": True, "city": "Hamburg"},
            ]
        )
        by_name = self.Partner.create({"name": "Wile", "company_name": "Acme"})
        self.Partner.create(
            [
                {"name": "Stark Berlin", "is_company": True, "email": "b@stark.io"},
                {"name": "Stark Hamburg", "is_company": True, "email": "h@stark.io"},
            ]
        )
        by_domain = self.Partner.create({"name": "Pepper", "email": "p@stark.io"})

        item_name = self._new_item(by_name)
        item_domain = self._new_item(by_domain)

        self.assertFalse(by_name.parent_id)
        self.assertEqual(item_name.balance_id.partner_id, by_name)
        message = self._messages(by_name)
        self.assertIn("several companies match", message)
        self.assertIn(acme_1.display_name, message)
        self.assertIn(acme_2.display_name, message)
        self.assertNotIn("linked", self._messages(acme_1))
        self.assertFalse(by_domain.parent_id)
        self.assertEqual(item_domain.balance_id.partner_id, by_domain)
        self.assertIn("Stark Berlin", self._messages(by_domain))
        self.assertIn("Stark Hamburg", self._messages(by_domain))

    @freeze_time("2026-06-10 10:00:00")
    def test_existing_company_never_replaced(self):
        """Lisa works for Canva; even with company name 'Figma' and an e-mail at
        figma.com she stays at Canva and is billed on Canva's balance, nothing is
        logged."""
        self._per_company()
        canva = self.Partner.create({"name": "Canva", "is_company": True})
        self.lisa.write(
            {
                "parent_id": canva.id,
                "company_name": "Figma",
                "email": "lisa@figma.com",
            }
        )
        before = len(self.lisa.message_ids)
        item = self._new_item(self.lisa)

        self.assertEqual(self.lisa.parent_id, canva)
        self.assertEqual(item.balance_id.partner_id, canva)
        self.assertEqual(len(self.lisa.message_ids), before)
        self.assertNotIn("linked", self._messages(self.figma))
        self.assertFalse(self.lisa._balance_match_company())

    @freeze_time("2026-06-10 10:00:00")
    def test_matched_company_brings_its_community(self):
        """Only the 'Members' community uses balances and Figma is a member: a new
        contact with an e-mail at figma.com, not tagged herself, is linked to Figma
        and billed on Figma's balance rather than refused."""
        self._per_company()
        self.company.balance_partner_category_ids = self.community
        contact = self.Partner.create({"name": "Yara", "email": "yara@figma.com"})
        item = self._new_item(contact)
        self.assertEqual(contact.parent_id, self.figma)
        self.assertEqual(item.balance_id.partner_id, self.figma)
        self._assert_link_logged(contact, self.figma)

    @freeze_time("2026-06-10 10:00:00")
    def test_no_matching_per_person(self):
        """Per person, nobody is linked: the contact who typed 'Figma' is billed
        itself."""
        contact = self.Partner.create(
            {"name": "Solo", "company_name": "Figma", "email": "solo@figma.com"}
        )
        item = self._new_item(contact)
        self.assertFalse(contact.parent_id)
        self.assertEqual(item.balance_id.partner_id, contact)

    # === ELIGIBILITY === #

    @freeze_time("2026-06-10 10:00:00")
    def test_feature_disabled_refused(self):
        """With customer balances off, an item is refused and the user reads why."""
        self.company.balance_enabled = False
        with self._assert_refused("not enabled"):
            self._new_item(self.lisa)
        self.assertFalse(self.Item.search([("partner_id", "=", self.lisa.id)]))

    @freeze_time("2026-06-10 10:00:00")
    def test_communities(self):
        """Only the 'Members' community uses balances: Anna is in through Figma,
        Lisa (untagged) is refused with a message naming the community, and once
        tagged herself she is in."""
        self.company.balance_partner_category_ids = self.community
        anna = self._new_item(self.anna)
        self.assertEqual(anna.balance_id.partner_id, self.anna)

        with self.assertRaises(ValidationError) as caught:
            self._new_item(self.lisa)
        message = str(caught.exception)
        self.assertIn("Lisa Solo", message)
        self.assertIn("Members", message)
        self.assertFalse(self.Balance.search([("partner_id", "=", self.lisa.id)]))

        self.lisa.category_id = self.community
        lisa = self._new_item(self.lisa)
        self.assertEqual(lisa.balance_id.partner_id, self.lisa)
        self.assertEqual(lisa.balance_id.state, "open")

    @freeze_time("2026-06-10 10:00:00")
    def test_partner_override_always_and_never(self):
        """The partner's own setting beats the communities: Lisa (untagged) with
        'always' is in; Anna (tagged through Figma) with 'never' is out; Ben
        'default' follows Figma's 'never', unless he says 'always' himself."""
        self.company.balance_partner_category_ids = self.community
        self.lisa.balance_use = "always"
        self.assertEqual(self._new_item(self.lisa).balance_id.partner_id, self.lisa)

        self.anna.balance_use = "never"
        with self._assert_refused("does not use customer balances"):
            self._new_item(self.anna)

        self.figma.balance_use = "never"
        with self._assert_refused("does not use customer balances"):
            self._new_item(self.ben)
        self.ben.balance_use = "always"
        self.assertEqual(self._new_item(self.ben).balance_id.partner_id, self.ben)
        self.assertFalse(self.Balance.search([("partner_id", "=", self.anna.id)]))

    @freeze_time("2026-06-10 10:00:00")
    def test_admin_only(self):
        """Staff only: an item created in the name of a portal user (the shop,
        the portal) is refused; one created by an internal user goes on the
        balance. Without the option, the portal's item is accepted."""
        portal = new_test_user(
            self.env,
            login="lisa.portal",
            groups="base.group_portal",
            partner_id=self.lisa.id,
        )
        self.company.balance_admin_only = True
        with self._assert_refused("Only items added by your staff"):
            self.Item.with_user(portal).sudo().create(self._new_item_vals(self.lisa))

        staff = self._new_item(self.lisa)
        self.assertEqual(staff.balance_id.partner_id, self.lisa)

        self.company.balance_admin_only = False
        shop = self.Item.with_user(portal).sudo().create(self._new_item_vals(self.lisa))
        self.assertEqual(shop.balance_id, staff.balance_id)
        self.assertEqual(staff.balance_id.item_count, 2)

    @freeze_time("2026-06-10 10:00:00")
    def test_maximum_order_amount(self):
        """Maximum 500.00: an item of an order of 10 desk days (1150.00 with tax)
        is refused, confirmed or not, naming the order; one of an order of 2 desk
        days (230.00) goes on the balance."""
        self.company.balance_max_order_amount = 500.0
        self.env.user.group_ids |= self.env.ref("sales_team.group_sale_salesman")

        def order(quantity):
            return self.env["sale.order"].create(
                {
                    "partner_id": self.anna.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.desk.id,
                                "product_uom_qty": quantity,
                                "price_unit": 100.0,
                                "tax_ids": [Command.set(self.tax_sale_a.ids)],
                            }
                        )
                    ],
                }
            )

        big = order(10.0)
        self.assertAlmostEqual(big.amount_total, 1150.0)
        with self._assert_refused("above the maximum amount"):
            self._new_item(self.anna, quantity=10.0, sale_line_id=big.order_line.id)
        big.action_confirm()
        with self._assert_refused(big.name):
            self._new_item(self.anna, quantity=10.0, sale_line_id=big.order_line.id)

        self.assertFalse(self.Item.search([("sale_line_id", "=", big.order_line.id)]))

        small = order(2.0)
        self.assertAlmostEqual(small.amount_total, 230.0)
        item = self._new_item(self.anna, quantity=2.0, sale_line_id=small.order_line.id)
        self.assertEqual(item.balance_id.partner_id, self.anna)
        self.assertAlmostEqual(item.balance_id.amount_total, 230.0)
        self.assertEqual(item.balance_id.line_ids, item)

    # === COMPANIES AND CURRENCIES === #

    @freeze_time("2026-06-10 10:00:00")
    def test_companies_kept_apart(self):
        """Anna books desks at the Berlin space and at Musterstadt Hall, another
        company of the group: each company's items go on a balance of that company,
        never mixed, with that company's settings (weekly in Musterstadt). An item
        moved to Musterstadt moves to Musterstadt's balance."""
        other = self.setup_other_company(
            name="Musterstadt Hall", currency_id=self.currency.id
        )["company"]
        self.env.user.company_ids |= other
        other.partner_id.tz = "Europe/Berlin"
        other.write({"balance_enabled": True, "balance_period": "week"})
        Item = self.Item.with_context(allowed_company_ids=(self.company + other).ids)

        here = Item.create(self._new_item_vals(self.anna))
        there = Item.create(
            self._new_item_vals(
                self.anna, 60.0, company_id=other.id, tax_ids=[Command.clear()]
            )
        )
        there_2 = Item.create(
            self._new_item_vals(
                self.anna, 40.0, company_id=other.id, tax_ids=[Command.clear()]
            )
        )

        self.assertNotEqual(here.balance_id, there.balance_id)
        self.assertEqual(there_2.balance_id, there.balance_id)
        self.assertEqual(here.balance_id.company_id, self.company)
        self.assertEqual(there.balance_id.company_id, other)
        self.assertEqual(
            (there.balance_id.period_start, there.balance_id.period_end),
            (date(2026, 6, 15), date(2026, 6, 21)),
        )
        self.assertAlmostEqual(here.balance_id.amount_untaxed, 100.0)
        self.assertAlmostEqual(there.balance_id.amount_untaxed, 100.0)
        self.assertEqual(here.balance_id.line_ids, here)

        moved = Item.create(self._new_item_vals(self.anna, 25.0, tax_ids=[]))
        self.assertEqual(moved.balance_id, here.balance_id)
        moved.company_id = other
        self.assertEqual(moved.balance_id, there.balance_id)
        self.assertEqual(here.balance_id.line_ids, here)
        self.assertAlmostEqual(there.balance_id.amount_untaxed, 125.0)

    @freeze_time("2026-06-10 10:00:00")
    def test_currencies_kept_apart(self):
        """An item in Swiss francs goes on a separate balance in francs, the items
        in the company currency stay on theirs."""
        chf = self.setup_other_currency("CHF")
        self.assertNotEqual(chf, self.currency)
        home = self._new_item(self.lisa, 100.0)
        franc = self._new_item(self.lisa, 80.0, currency_id=chf.id)
        franc_2 = self._new_item(self.lisa, 20.0, currency_id=chf.id)

        self.assertNotEqual(home.balance_id, franc.balance_id)
        self.assertEqual(franc_2.balance_id, franc.balance_id)
        self.assertEqual(home.balance_id.currency_id, self.currency)
        self.assertEqual(franc.balance_id.currency_id, chf)
        self.assertEqual(home.balance_id.period_start, franc.balance_id.period_start)
        self.assertAlmostEqual(home.balance_id.amount_untaxed, 100.0)
        self.assertAlmostEqual(franc.balance_id.amount_untaxed, 100.0)

    # === RE-ASSIGNMENT === #

    @freeze_time("2026-06-10 10:00:00")
    def test_reassign_on_partner_change(self):
        """A desk day entered for Anna by mistake is given to Lisa: it moves to
        Lisa's balance; Anna's total drops, Lisa's rises."""
        anna_keep = self._new_item(self.anna, 30.0)
        item = self._new_item(self.anna, 100.0)
        lisa_item = self._new_item(self.lisa, 10.0)
        anna_balance = item.balance_id
        lisa_balance = lisa_item.balance_id

        item.partner_id = self.lisa

        self.assertEqual(item.balance_id, lisa_balance)
        self.assertEqual(anna_balance.line_ids, anna_keep)
        self.assertAlmostEqual(anna_balance.amount_untaxed, 30.0)
        self.assertAlmostEqual(lisa_balance.amount_untaxed, 110.0)
        self.assertEqual(lisa_balance.item_count, 2)

    @freeze_time("2026-06-10 10:00:00")
    def test_reassign_on_service_date_change(self):
        """A June booking postponed to July moves to the July balance (created for
        it); a change within June keeps it where it is."""
        item = self._new_item(self.anna, 100.0)
        other = self._new_item(self.anna, 20.0, service_date="2026-06-02")
        june = item.balance_id

        item.service_date = "2026-06-28"
        self.assertEqual(item.balance_id, june)

        item.service_date = "2026-07-03"

        july = item.balance_id
        self.assertNotEqual(july, june)
        self.assertEqual(
            (july.period_start, july.period_end), (date(2026, 7, 1), date(2026, 7, 31))
        )
        self.assertEqual(june.line_ids, other)
        self.assertAlmostEqual(june.amount_untaxed, 20.0)
        self.assertAlmostEqual(july.amount_untaxed, 100.0)

    @freeze_time("2026-06-10 10:00:00")
    def test_reassign_on_currency_change(self):
        """An item entered in the company currency but charged in Swiss francs
        moves to the franc balance; both totals follow."""
        chf = self.setup_other_currency("CHF")
        item = self._new_item(self.lisa, 100.0)
        home_keep = self._new_item(self.lisa, 10.0)
        franc_keep = self._new_item(self.lisa, 5.0, currency_id=chf.id)
        home = item.balance_id
        franc = franc_keep.balance_id

        item.currency_id = chf

        self.assertEqual(item.balance_id, franc)
        self.assertEqual(home.line_ids, home_keep)
        self.assertAlmostEqual(home.amount_untaxed, 10.0)
        self.assertAlmostEqual(franc.amount_untaxed, 105.0)

    @freeze_time("2026-06-10 10:00:00")
    def test_reassign_to_ineligible_partner_refused(self):
        """Giving an item to a partner who does not use balances is refused; the
        item stays where it was."""
        item = self._new_item(self.anna, 100.0)
        balance = item.balance_id
        self.lisa.balance_use = "never"
        with self._assert_refused("does not use customer balances"):
            with self.env.cr.savepoint():
                item.partner_id = self.lisa
        item.invalidate_recordset()
        self.assertEqual(item.partner_id, self.anna)
        self.assertEqual(item.balance_id, balance)

    # === QUERY COUNT === #

    @freeze_time("2026-06-10 10:00:00")
    @warmup
    def test_query_count_one_item_on_existing_balance(self):
        """Adding a desk day to an existing balance costs a fixed, small number of
        queries: insert the item and its taxes, find the balance, link the item,
        update the balance totals and touch its row (so that a bill run billing it
        at the same time cannot miss the item), plus reading what the cache
        lacks."""
        balance = self._balance(self.anna)
        self._item(balance, 10.0)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(22):
            item = self._new_item(self.anna, 100.0)
        self.assertEqual(item.balance_id, balance)
        self.assertAlmostEqual(balance.amount_untaxed, 110.0)

    @freeze_time("2026-06-10 10:00:00")
    def test_query_count_does_not_grow_with_items(self):
        """Twenty items in one create call cost no more queries than one item, plus
        a small constant: on an existing balance, and when they open the balances
        of three new periods (a few queries per new balance, none per item)."""
        for partner in (self.anna, self.ben, self.lisa):
            self._new_item(partner, 10.0)  # June balances exist, caches are warm

        def create(partner, count, days):
            self.env.invalidate_all()
            return self._count_queries(
                lambda: self.Item.create(
                    [
                        self._new_item_vals(
                            partner, 10.0, service_date=days[i % len(days)]
                        )
                        for i in range(count)
                    ]
                )
            )

        june = ["2026-06-15"]
        one = create(self.anna, 1, june)
        twenty = create(self.ben, 20, june)
        self.assertLessEqual(twenty, one + 2)
        self.assertEqual(self.ben.balance_ids.item_count, 21)

        months = ["2026-07-15", "2026-08-15", "2026-09-15"]
        one_new = create(self.lisa, 1, months[:1])
        twenty_new = create(self.anna, 20, months)
        # Two more balances than for the single item: a few queries each.
        self.assertLessEqual(twenty_new, one_new + 2 * 3)
        self.assertLess(twenty_new, 2 * one_new)
        self.assertEqual(len(self.anna.balance_ids), 4)
        self.assertEqual(
            sorted(self.anna.balance_ids.mapped("item_count")), [2, 6, 7, 7]
        )
