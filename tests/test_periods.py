# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import CustomerBalanceCommon

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


@tagged("post_install", "-at_install")
class TestPeriods(CustomerBalanceCommon):
    """Billing periods: calendar periods in the company's time zone, billing dates,
    settings changed mid-cycle, late and scheduled items."""

    # === HELPERS === #

    def _partner_items(self, partner, kind):
        """The items the partner form's Upcoming / Scheduled button lists."""
        method = {
            "upcoming": partner.action_view_upcoming_items,
            "scheduled": partner.action_view_scheduled_items,
        }[kind]
        return self.Item.search(method()["domain"])

    def _new_member(self, name):
        return self.env["res.partner"].create({"name": name})

    def _set_company(self, tz=BERLIN, **settings):
        self.company.partner_id.tz = tz
        if settings:
            self.company.write(settings)

    def _local(self, utc):
        """The company-local date of the naive UTC datetime ``utc`` (a string)."""
        return self.company._balance_local_date(datetime.fromisoformat(utc))

    def _period(self, balance):
        return (balance.period_start, balance.period_end)

    def _open_balances(self, partner):
        return self.Balance.search(
            [("partner_id", "=", partner.id), ("state", "=", "open")],
            order="period_start",
        )

    def _assert_chain(self, balances):
        """``balances`` (by start) follow each other without overlap or gap."""
        balances = balances.sorted("period_start")
        for previous, following in zip(balances, balances[1:], strict=False):
            self.assertEqual(
                (following.period_start - previous.period_end).days,
                1,
                f"{following.name} starts the day after {previous.name} ends",
            )

    # === PERIOD BOUNDS === #

    def test_period_bounds_of_every_kind(self):
        """Calendar periods of a company-local date: weeks run Monday to Sunday (also
        across the new year), months, quarters and years follow the calendar, manual
        balances have no period."""
        cases = {
            # A Sunday: the last day of its week.
            date(2026, 3, 29): {
                "week": (date(2026, 3, 23), date(2026, 3, 29)),
                "month": (date(2026, 3, 1), date(2026, 3, 31)),
                "quarter": (date(2026, 1, 1), date(2026, 3, 31)),
                "year": (date(2026, 1, 1), date(2026, 12, 31)),
            },
            # A Monday: the first day of its week.
            date(2026, 3, 30): {
                "week": (date(2026, 3, 30), date(2026, 4, 5)),
                "month": (date(2026, 3, 1), date(2026, 3, 31)),
                "quarter": (date(2026, 1, 1), date(2026, 3, 31)),
                "year": (date(2026, 1, 1), date(2026, 12, 31)),
            },
            date(2026, 12, 31): {
                "week": (date(2026, 12, 28), date(2027, 1, 3)),
                "month": (date(2026, 12, 1), date(2026, 12, 31)),
                "quarter": (date(2026, 10, 1), date(2026, 12, 31)),
                "year": (date(2026, 1, 1), date(2026, 12, 31)),
            },
            date(2027, 1, 1): {
                "week": (date(2026, 12, 28), date(2027, 1, 3)),
                "month": (date(2027, 1, 1), date(2027, 1, 31)),
                "quarter": (date(2027, 1, 1), date(2027, 3, 31)),
                "year": (date(2027, 1, 1), date(2027, 12, 31)),
            },
            # A leap day.
            date(2028, 2, 29): {
                "week": (date(2028, 2, 28), date(2028, 3, 5)),
                "month": (date(2028, 2, 1), date(2028, 2, 29)),
                "quarter": (date(2028, 1, 1), date(2028, 3, 31)),
                "year": (date(2028, 1, 1), date(2028, 12, 31)),
            },
        }
        for day, expected in cases.items():
            for kind, bounds in expected.items():
                with self.subTest(day=day, kind=kind):
                    self.assertEqual(
                        self.company._balance_period_bounds(day, kind), bounds
                    )
            with self.subTest(day=day, kind="manual"):
                self.assertEqual(
                    self.company._balance_period_bounds(day, "manual"), (False, False)
                )
        self.company.balance_period = "quarter"
        self.assertEqual(
            self.company._balance_period_bounds(date(2026, 5, 20)),
            (date(2026, 4, 1), date(2026, 6, 30)),
            "without a kind, the company's setting decides",
        )

    def test_local_date_follows_time_zone_and_dst(self):
        """The same UTC instant is another local day in Berlin and New York, with
        the offset of the day (summer time included); without a time zone UTC
        decides."""
        cases = [
            # Berlin switches to summer time on Sunday 29 March 2026: 22:30 UTC is
            # already Monday (00:30 CEST), while at winter time it was 23:30.
            (BERLIN, "2026-03-29 21:59:00", date(2026, 3, 29)),
            (BERLIN, "2026-03-29 22:30:00", date(2026, 3, 30)),
            (BERLIN, "2026-03-28 22:30:00", date(2026, 3, 28)),
            # Back to winter time on 25 October: 22:30 UTC is still Sunday.
            (BERLIN, "2026-10-25 22:30:00", date(2026, 10, 25)),
            (BERLIN, "2026-10-25 23:00:00", date(2026, 10, 26)),
            # New York switches on Sunday 8 March 2026: 04:30 UTC on the 9th is
            # Monday 00:30 EDT (it would be Sunday 23:30 at winter time).
            (NEW_YORK, "2026-03-09 03:59:00", date(2026, 3, 8)),
            (NEW_YORK, "2026-03-09 04:30:00", date(2026, 3, 9)),
            # Back on 1 November: 04:30 UTC on the 2nd is still Sunday 23:30 EST.
            (NEW_YORK, "2026-11-02 04:30:00", date(2026, 11, 1)),
            (NEW_YORK, "2026-11-02 05:00:00", date(2026, 11, 2)),
            # New year.
            (BERLIN, "2026-12-31 23:30:00", date(2027, 1, 1)),
            (NEW_YORK, "2026-12-31 23:30:00", date(2026, 12, 31)),
            (NEW_YORK, "2027-01-01 04:30:00", date(2026, 12, 31)),
            (NEW_YORK, "2027-01-01 05:00:00", date(2027, 1, 1)),
            (False, "2026-12-31 23:30:00", date(2026, 12, 31)),
        ]
        for tz, utc, local in cases:
            with self.subTest(tz=tz, utc=utc):
                self._set_company(tz)
                self.assertEqual(self._local(utc), local)
        self._set_company(BERLIN)
        self.assertEqual(
            self.company._balance_local_date(date(2026, 6, 1)),
            date(2026, 6, 1),
            "a date is already local",
        )
        self.assertFalse(self.company._balance_local_date(False))
        with freeze_time("2026-06-30 22:30:00"):
            self.assertEqual(self.company._balance_today(), date(2026, 7, 1))
            self._set_company(NEW_YORK)
            self.assertEqual(self.company._balance_today(), date(2026, 6, 30))

    @freeze_time("2026-03-01 10:00:00")
    def test_weekly_balances_across_dst_change(self):
        """Weekly periods around the change to summer time: a booking starting at
        22:30 UTC on the Sunday of the change belongs to the next week in Berlin
        (Monday 00:30 CEST), one at 21:30 UTC to the week of the change; in New
        York 04:30 UTC on Monday 9 March is that Monday, 03:30 UTC still Sunday."""
        cases = [
            (
                BERLIN,
                "2026-03-29 21:30:00",
                "2026-03-29 22:30:00",
                (date(2026, 3, 23), date(2026, 3, 29)),
                (date(2026, 3, 30), date(2026, 4, 5)),
            ),
            (
                NEW_YORK,
                "2026-03-09 03:30:00",
                "2026-03-09 04:30:00",
                (date(2026, 3, 2), date(2026, 3, 8)),
                (date(2026, 3, 9), date(2026, 3, 15)),
            ),
        ]
        for tz, before, after, week_before, week_after in cases:
            with self.subTest(tz=tz):
                self._set_company(tz, balance_period="week")
                member = self._new_member(f"Member in {tz}")
                sunday = self._new_item(member, service_date=self._local(before))
                monday = self._new_item(member, service_date=self._local(after))
                self.assertEqual(self._period(sunday.balance_id), week_before)
                self.assertEqual(self._period(monday.balance_id), week_after)
                self.assertEqual(sunday.balance_id.period_type, "week")
                self.assertEqual(
                    self._open_balances(member), sunday.balance_id | monday.balance_id
                )
                self._assert_chain(self._open_balances(member))

    @freeze_time("2026-12-15 10:00:00")
    def test_new_year_in_berlin_and_new_york(self):
        """At 23:30 UTC on 31 December it is already 2027 in Berlin but still 2026
        in New York: the item lands in the January / Q1 2027 / 2027 period in
        Berlin and in December / Q4 / 2026 in New York; the week (28 December to
        3 January) is the same on both sides of the new year."""
        utc = "2026-12-31 23:30:00"
        expected = {
            BERLIN: {
                "week": (date(2026, 12, 28), date(2027, 1, 3)),
                "month": (date(2027, 1, 1), date(2027, 1, 31)),
                "quarter": (date(2027, 1, 1), date(2027, 3, 31)),
                "year": (date(2027, 1, 1), date(2027, 12, 31)),
                "manual": (False, False),
            },
            NEW_YORK: {
                "week": (date(2026, 12, 28), date(2027, 1, 3)),
                "month": (date(2026, 12, 1), date(2026, 12, 31)),
                "quarter": (date(2026, 10, 1), date(2026, 12, 31)),
                "year": (date(2026, 1, 1), date(2026, 12, 31)),
                "manual": (False, False),
            },
        }
        for tz, by_kind in expected.items():
            for kind, bounds in by_kind.items():
                with self.subTest(tz=tz, kind=kind):
                    self._set_company(tz, balance_period=kind)
                    member = self._new_member(f"{kind} member in {tz}")
                    item = self._new_item(member, service_date=self._local(utc))
                    balance = item.balance_id
                    self.assertEqual(self._period(balance), bounds)
                    self.assertEqual(balance.period_type, kind)
                    self.assertEqual(balance.partner_id, member)
                    self.assertEqual(balance.state, "open")

    @freeze_time("2026-05-20 10:00:00")
    def test_service_start_at_month_end_in_berlin_and_new_york(self):
        """A service starting at 22:30 UTC on 31 May 2026 starts on 1 June in Berlin
        (00:30 CEST) and on 31 May in New York (18:30 EDT): the item lands in June
        for the Berlin company and in May for the New York one."""
        start = "2026-05-31 22:30:00"
        self._set_company(BERLIN)
        berlin_day = self._local(start)
        berlin_item = self._new_item(self.anna, service_date=berlin_day)
        self._set_company(NEW_YORK)
        new_york_day = self._local(start)
        new_york_item = self._new_item(self.ben, service_date=new_york_day)

        self.assertEqual(berlin_day, date(2026, 6, 1))
        self.assertEqual(new_york_day, date(2026, 5, 31))
        self.assertEqual(
            self._period(berlin_item.balance_id),
            (date(2026, 6, 1), date(2026, 6, 30)),
        )
        self.assertEqual(
            self._period(new_york_item.balance_id),
            (date(2026, 5, 1), date(2026, 5, 31)),
        )
        self.assertTrue(berlin_item.balance_id.is_scheduled)
        self.assertFalse(new_york_item.balance_id.is_scheduled)

    def test_manual_period_one_open_balance(self):
        """Manual periods: one open balance per customer with neither period nor
        billing date, whatever the service dates; never scheduled."""
        self._set_company(balance_period="manual", balance_billing_delay=3)
        first = self._new_item(self.anna, service_date="2026-06-15")
        later = self._new_item(self.anna, service_date="2027-02-01")
        balance = first.balance_id
        self.assertEqual(later.balance_id, balance)
        self.assertEqual(balance.period_type, "manual")
        self.assertFalse(balance.period_start)
        self.assertFalse(balance.period_end)
        self.assertFalse(balance.billing_date)
        self.assertFalse(balance.is_scheduled)
        self.assertEqual(balance.item_count, 2)
        self.assertAlmostEqual(balance.amount_untaxed, 200.0)
        self.assertEqual(self._open_balances(self.anna), balance)

    # === BILLING DATE === #

    @freeze_time("2026-06-01 10:00:00")
    def test_billing_date_is_period_end_plus_delay(self):
        """The billing date is the end of the period plus the billing delay, for
        every period kind (Saturday 13 June 2026, delay 3 days)."""
        expected = {
            "week": (date(2026, 6, 8), date(2026, 6, 14), date(2026, 6, 17)),
            "month": (date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 3)),
            "quarter": (date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 3)),
            "year": (date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 3)),
            "manual": (False, False, False),
        }
        for kind, (start, end, billing) in expected.items():
            with self.subTest(kind=kind):
                self._set_company(balance_period=kind, balance_billing_delay=3)
                member = self._new_member(f"{kind} member")
                balance = self._new_item(member, service_date="2026-06-13").balance_id
                self.assertEqual(
                    (balance.period_start, balance.period_end, balance.billing_date),
                    (start, end, billing),
                )
        self._set_company(balance_period="month", balance_billing_delay=0)
        balance = self._new_item(
            self._new_member("No delay"), service_date="2026-06-13"
        ).balance_id
        self.assertEqual(balance.billing_date, date(2026, 6, 30))
        self.assertEqual(balance.invoice_creation_date, date(2026, 7, 1))

    @freeze_time("2026-04-15 10:00:00")
    def test_future_period_is_scheduled(self):
        """A booking made in April for 13 June (monthly, delay 2 days) sits on the
        June balance, scheduled until 1 June (Berlin time), on the upcoming invoice
        during June and billed on 2 July; an April booking is not scheduled."""
        self._set_company(balance_billing_delay=2)
        june_item = self._new_item(self.anna, service_date="2026-06-13")
        april_item = self._new_item(self.anna, service_date="2026-04-20")
        june = june_item.balance_id
        april = april_item.balance_id

        self.assertEqual(self._period(june), (date(2026, 6, 1), date(2026, 6, 30)))
        self.assertEqual(june.billing_date, date(2026, 7, 2))
        self.assertEqual(june.invoice_creation_date, date(2026, 7, 2))
        self.assertTrue(june.is_scheduled)
        self.assertFalse(april.is_scheduled)
        self.assertEqual(
            self.Balance.search(
                [("is_scheduled", "=", True), ("partner_id", "=", self.anna.id)]
            ),
            june,
        )
        self.assertEqual(self._partner_items(self.anna, "scheduled"), june_item)
        self.assertEqual(self._partner_items(self.anna, "upcoming"), april_item)

        with freeze_time("2026-05-31 21:59:00"):  # 23:59 in Berlin
            june.invalidate_recordset(["is_scheduled"])
            self.assertTrue(june.is_scheduled)
        with freeze_time("2026-05-31 22:00:00"):  # midnight in Berlin
            june.invalidate_recordset(["is_scheduled"])
            self.anna.invalidate_recordset()
            self.assertFalse(june.is_scheduled)
            self.assertFalse(self._partner_items(self.anna, "scheduled"))
            self.assertEqual(
                self._partner_items(self.anna, "upcoming"), june_item | april_item
            )

    # === SETTINGS CHANGED MID-CYCLE === #

    @freeze_time("2026-06-10 10:00:00")
    def test_month_to_week_mid_cycle(self):
        """Monthly June balance open (delay 0), then the company switches to weekly
        periods with a 2-day delay: June keeps its period and billing date; 30 June
        still goes to June; 1 July opens a week clipped to 1-5 July (the natural
        week starts on Monday 29 June); 6 July opens the full week 6-12 July. No
        overlap, no gap."""
        june = self._new_item(self.anna, service_date="2026-06-15").balance_id
        self.assertEqual(june.billing_date, date(2026, 6, 30))

        self._set_company(balance_period="week", balance_billing_delay=2)
        last_june_day = self._new_item(self.anna, service_date="2026-06-30")
        monday = self._new_item(self.anna, service_date="2026-06-29")
        first_july_day = self._new_item(self.anna, service_date="2026-07-01")
        sunday = self._new_item(self.anna, service_date="2026-07-05")
        next_week = self._new_item(self.anna, service_date="2026-07-06")

        self.assertEqual(last_june_day.balance_id, june)
        self.assertEqual(monday.balance_id, june)
        self.assertEqual(june.period_type, "month")
        self.assertEqual(self._period(june), (date(2026, 6, 1), date(2026, 6, 30)))
        self.assertEqual(june.billing_date, date(2026, 6, 30))
        self.assertEqual(june.item_count, 3)

        short_week = first_july_day.balance_id
        self.assertEqual(sunday.balance_id, short_week)
        self.assertEqual(short_week.period_type, "week")
        self.assertEqual(self._period(short_week), (date(2026, 7, 1), date(2026, 7, 5)))
        self.assertEqual(short_week.billing_date, date(2026, 7, 7))

        week = next_week.balance_id
        self.assertEqual(self._period(week), (date(2026, 7, 6), date(2026, 7, 12)))
        self.assertEqual(week.billing_date, date(2026, 7, 14))

        balances = self._open_balances(self.anna)
        self.assertEqual(balances, june | short_week | week)
        self._assert_chain(balances)

    @freeze_time("2026-06-10 10:00:00")
    def test_week_to_month_mid_cycle(self):
        """Weekly balances of 29 June - 5 July and 13 - 19 July are open when the
        company switches to monthly periods: June is clipped to end on 28 June, the
        July days between the weeks get a balance of their own (6 - 12 July) and the
        rest of July starts on 20 July."""
        self._set_company(balance_period="week")
        week_a = self._new_item(self.anna, service_date="2026-07-01").balance_id
        week_b = self._new_item(self.anna, service_date="2026-07-14").balance_id
        self.assertEqual(self._period(week_a), (date(2026, 6, 29), date(2026, 7, 5)))

        self._set_company(balance_period="month", balance_billing_delay=1)
        june = self._new_item(self.anna, service_date="2026-06-20").balance_id
        between = self._new_item(self.anna, service_date="2026-07-08").balance_id
        end_of_july = self._new_item(self.anna, service_date="2026-07-25").balance_id
        on_week = self._new_item(self.anna, service_date="2026-06-30").balance_id

        self.assertEqual(on_week, week_a)
        self.assertEqual(self._period(june), (date(2026, 6, 1), date(2026, 6, 28)))
        self.assertEqual(june.billing_date, date(2026, 6, 29))
        self.assertEqual(self._period(between), (date(2026, 7, 6), date(2026, 7, 12)))
        self.assertEqual(
            self._period(end_of_july), (date(2026, 7, 20), date(2026, 7, 31))
        )
        self.assertEqual(end_of_july.billing_date, date(2026, 8, 1))
        self.assertEqual(end_of_july.period_type, "month")
        balances = self._open_balances(self.anna)
        self.assertEqual(balances, june | week_a | between | week_b | end_of_july)
        self._assert_chain(balances)

    @freeze_time("2027-01-02 10:00:00")
    def test_year_to_week_across_new_year(self):
        """A yearly 2026 balance is still open on 2 January 2027 when the company
        switches to weekly periods: an item of 2 January opens a week clipped to
        start on 1 January, never overlapping 2026."""
        self._set_company(balance_period="year")
        year = self._new_item(self.anna, service_date="2026-12-30").balance_id
        self.assertEqual(self._period(year), (date(2026, 1, 1), date(2026, 12, 31)))

        self._set_company(balance_period="week")
        week = self._new_item(self.anna, service_date="2027-01-02").balance_id
        same_year = self._new_item(self.anna, service_date="2026-12-29").balance_id

        self.assertEqual(same_year, year)
        self.assertEqual(self._period(week), (date(2027, 1, 1), date(2027, 1, 3)))
        self._assert_chain(self._open_balances(self.anna))

    @freeze_time("2026-12-15 10:00:00")
    def test_week_before_scheduled_month_across_new_year(self):
        """A January 2027 balance is already scheduled when the company switches to
        weekly periods: an item of 30 December opens a week clipped to end on
        31 December."""
        january = self._new_item(self.anna, service_date="2027-01-10").balance_id
        self.assertEqual(self._period(january), (date(2027, 1, 1), date(2027, 1, 31)))
        self.assertTrue(january.is_scheduled)

        self._set_company(balance_period="week")
        week = self._new_item(self.anna, service_date="2026-12-30").balance_id

        self.assertEqual(self._period(week), (date(2026, 12, 28), date(2026, 12, 31)))
        self._assert_chain(self._open_balances(self.anna))

    # === BOUNDARY DAYS === #

    @freeze_time("2026-06-10 10:00:00")
    def test_boundary_days_land_on_one_balance(self):
        """An item dated on the last day of a period or the first day of the next
        lands on exactly one balance: the one whose period contains it."""
        cases = {
            # kind: (days, number of periods they span)
            "month": (["2026-06-30", "2026-07-01", "2026-07-31", "2026-08-01"], 3),
            "week": (["2026-06-14", "2026-06-15", "2026-06-21", "2026-06-22"], 3),
            "quarter": (["2026-06-30", "2026-07-01"], 2),
            "year": (["2026-12-31", "2027-01-01"], 2),
        }
        for kind, (days, periods) in cases.items():
            with self.subTest(kind=kind):
                self._set_company(balance_period=kind)
                member = self._new_member(f"{kind} boundary member")
                items = self.Item
                for day in days:
                    items |= self._new_item(member, service_date=day)
                balances = self._open_balances(member)
                self.assertEqual(len(balances), periods)
                self.assertEqual(items.balance_id, balances)
                for item in items:
                    day = item.service_date
                    covering = balances.filtered(
                        lambda b, day=day: b.period_start <= day <= b.period_end
                    )
                    self.assertEqual(covering, item.balance_id)
                self.assertEqual(sum(balances.mapped("item_count")), len(days))
                self._assert_chain(balances)

    # === LATE AND EARLY BILLED === #

    @freeze_time("2026-07-10 10:00:00")
    def test_late_item_after_invoiced_period_goes_to_today(self):
        """Anna's June balance was billed after June ended; a desk day of 20 June
        entered on 10 July goes to the July balance (today's period), not to a
        second June balance; the June balance is untouched."""
        june = self._balance(self.anna)
        june._consolidate()  # billed (nothing to bill: closed as invoiced)
        july = self._new_item(self.anna, service_date="2026-07-03").balance_id

        late = self._new_item(self.anna, service_date="2026-06-20", price_unit=40.0)

        self.assertEqual(late.balance_id, july)
        self.assertEqual(self._period(july), (date(2026, 7, 1), date(2026, 7, 31)))
        self.assertEqual(july.item_count, 2)
        self.assertAlmostEqual(july.amount_untaxed, 140.0)
        self.assertEqual(late.service_date, date(2026, 6, 20))
        self.assertFalse(june.line_ids)
        self.assertEqual(june.state, "invoiced")
        self.assertEqual(
            self.Balance.search_count(
                [("partner_id", "=", self.anna.id), ("period_start", "=", "2026-06-01")]
            ),
            1,
        )

    @freeze_time("2026-07-10 10:00:00")
    def test_late_item_opens_today_period(self):
        """Without a balance for today's period yet, the late item of an invoiced
        June opens the July balance."""
        june = self._balance(self.lisa)
        june._consolidate()  # billed (nothing to bill: closed as invoiced)
        late = self._new_item(self.lisa, service_date="2026-06-28")
        self.assertNotEqual(late.balance_id, june)
        self.assertEqual(late.balance_id.state, "open")
        self.assertEqual(
            self._period(late.balance_id), (date(2026, 7, 1), date(2026, 7, 31))
        )
        self.assertEqual(late.balance_id.billing_date, date(2026, 7, 31))

    @freeze_time("2026-06-10 10:00:00")
    def test_invoiced_early_gives_new_balance_same_period(self):
        """Anna's June balance was billed early (on 10 June, before the end of
        June): desk days of 5 and 20 June open one new balance for the same June
        period and billing date."""
        june = self._balance(self.anna, billing_date="2026-07-02")
        june._consolidate()  # billed (nothing to bill: closed as invoiced)

        before = self._new_item(self.anna, service_date="2026-06-05")
        after = self._new_item(self.anna, service_date="2026-06-20")

        new = before.balance_id
        self.assertNotEqual(new, june)
        self.assertEqual(after.balance_id, new)
        self.assertEqual(new.state, "open")
        self.assertEqual(new.period_type, "month")
        self.assertEqual(
            (new.period_start, new.period_end, new.billing_date),
            (date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 2)),
        )
        self.assertEqual(new.item_count, 2)
        self.assertFalse(june.line_ids)
