# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from dateutil.relativedelta import relativedelta
from psycopg2 import errors

from odoo import _, api, fields, models
from odoo.exceptions import ConcurrencyError
from odoo.fields import Domain
from odoo.tools import SQL

from .customer_balance import _to_write_value


class CustomerBalance(models.Model):
    """Which balance an item goes on: eligibility, the grouping key, the period,
    and the balances created for it."""

    _inherit = "customer.balance"

    grouping_key = fields.Char(
        compute="_compute_grouping_key",
        store=True,
        readonly=True,
        precompute=True,
        index=True,
        copy=False,
        help="What the balance's items share with it (customer, company, currency "
        "and what other modules add), as one value: one open balance per key and "
        "period.",
    )

    # Reopening a balance and merging contacts ask for the balance of a key and a
    # period: the index answers them and refuses a second one.
    _one_open_balance_per_period = models.UniqueIndex(
        "(grouping_key, COALESCE(period_start, '0001-01-01'::date))"
        " WHERE state = 'open'",
        "A customer can only have one open balance per company, currency and period.",
    )
    # The key holds at least the balance's own customer, company and currency:
    # the index above keeps them to one open balance per period, in the database.
    _grouping_key_holds_partner = models.Constraint(
        "CHECK (grouping_key IS NOT NULL AND grouping_key::jsonb @> jsonb_build_object("
        "'partner_id', partner_id, 'company_id', company_id,"
        " 'currency_id', currency_id))",
        "The grouping key of a customer balance must hold its customer, company and "
        "currency.",
    )

    # === COMPUTE METHODS === #

    @api.depends(lambda self: self._get_grouping_fields())
    def _compute_grouping_key(self):
        for balance in self:
            balance.grouping_key = self._freeze_grouping_key(
                balance._get_balance_grouping_key()
            )

    # === BUSINESS METHODS === #

    @api.model
    def _get_ineligibility_reason(self, partner, company, order=None, from_portal=None):
        """Why charges of ``partner`` (of ``order``, when given) cannot go on a
        customer balance of ``company``, or ``False``. The one rule the item, the
        order, the checkout and the portal ask.

        ``from_portal``: the customer acts herself (portal, shop, checkout); by
        default, when the current user is not an internal user.
        """
        if from_portal is None:
            from_portal = not self.env.user._is_internal()
        if not company.balance_enabled:
            return _("Customer balances are not enabled for %s.", company.name)
        commercial = partner.commercial_partner_id
        override = (
            partner.balance_use
            if partner.balance_use != "default"
            else commercial.balance_use
        )
        if override == "never":
            return _("%s does not use customer balances.", partner.display_name)
        communities = company.balance_partner_category_ids
        if (
            override != "always"
            and communities
            and not ((partner.category_id | commercial.category_id) & communities)
        ):
            return _(
                "%(partner)s is not in a community allowed to use customer balances "
                "(%(communities)s).",
                partner=partner.display_name,
                communities=", ".join(communities.mapped("name")),
            )
        if company.balance_admin_only and from_portal:
            return _("Only items added by your staff go on customer balances.")
        if order:
            if order._balance_above_maximum():
                return _(
                    "Order %(order)s is above the maximum amount for customer "
                    "balances (%(maximum)s).",
                    order=order.name,
                    maximum=company.balance_max_order_amount,
                )
            if order._balance_paid_online():
                return _("The order was paid online.")
        return False

    @api.model
    def _get_grouping_fields(self):
        """The fields of ``customer.balance`` that its items share with it (besides
        the period). Extend it together with ``_get_grouping_key`` (and
        ``customer.balance.line._get_assignment_fields``): the stored
        ``grouping_key`` and the unique index follow. A module adding a field
        to an installed database recomputes ``grouping_key`` in its
        ``post_init_hook``."""
        return ["partner_id", "company_id", "currency_id"]

    @api.model
    def _get_grouping_key(self, item, billed_partner):
        """The balance ``item`` goes on, as ``{field: value}`` for the fields of
        ``_get_grouping_fields``: its ``billed_partner`` (the contact, or its
        company when balances are kept per company: ``res.partner.
        _balance_billed_partner``), company and currency.

        The hook for modules that keep balances apart by more (a project, a
        contract): add the field to ``customer.balance``, its name to
        ``_get_grouping_fields`` and its value here; items with different keys
        never share a balance, and each key gets its own balance per period.
        """
        return {
            "partner_id": billed_partner,
            "company_id": item.company_id,
            "currency_id": item.currency_id,
        }

    @api.model
    def _freeze_grouping_key(self, key):
        """A grouping key (``{field: value}``) as the stored ``grouping_key``:
        ``{"company_id":1,"currency_id":2,"partner_id":7}``, field names sorted,
        records as ids, an empty value as ``false``."""
        return json.dumps(
            {field: _to_write_value(value) or False for field, value in key.items()},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def _get_balance_grouping_key(self):
        """This balance's own grouping key."""
        self.ensure_one()
        return {field: self[field] for field in self._get_grouping_fields()}

    @api.model
    def _get_or_create_for(self, items, day=None):
        """The open balance each of ``items`` goes on, as ``{item: balance}``: the
        balance of its grouping key (``_get_grouping_key``) for the period of its
        company-local date (``day``, else the item's own), created when missing.

        A fixed number of queries for the whole set: one search for the balances
        that may take them, one create.
        """
        key_of = {}
        keys = {}
        billed_partners = {}  # one look-up per contact and company, not per item
        for item in items:
            contact = (item.partner_id, item.company_id)
            if contact not in billed_partners:
                billed_partners[contact] = item.partner_id._balance_billed_partner(
                    item.company_id
                )
            key = self._get_grouping_key(item, billed_partners[contact])
            frozen = self._freeze_grouping_key(key)
            key_of[item] = frozen
            keys[frozen] = key
        day_of = {item: day or item._balance_date() for item in items}
        requests = {(key_of[item], day_of[item]) for item in items}
        targets = self._get_or_create_by_key(keys, requests)
        return {item: targets[key_of[item], day_of[item]] for item in items}

    @api.model
    def _get_or_create_by_key(self, keys, requests):
        """``{(frozen key, day): balance}`` for the ``requests`` (frozen key,
        company-local day), ``keys`` giving each frozen key's values."""
        if not requests:
            return {}
        candidates = self.search(
            self._get_candidate_balances_domain(
                list(keys.values()), [day for _key, day in requests]
            )
        )
        by_key = candidates.grouped("grouping_key")
        found = {}  # request -> existing balance
        to_create = {}  # (frozen key, period start) -> values of the balance
        created_for = {}  # request -> (frozen key, period start)
        for frozen, day in requests:
            key = keys[frozen]
            company = key["company_id"]
            balance_candidates = by_key.get(frozen, self.browse())
            balance = self._find_open_balance(balance_candidates, company, day)
            if balance:
                found[frozen, day] = balance
                continue
            period = self._prepare_period_values(balance_candidates, company, day)
            create_key = (frozen, period["period_start"])
            if create_key not in to_create:
                to_create[create_key] = {
                    **{field: _to_write_value(value) for field, value in key.items()},
                    **period,
                }
            created_for[frozen, day] = create_key
        if to_create:
            created = self._create_for_assignment(list(to_create.values()))
            created_by_key = dict(zip(to_create, created, strict=True))
            for request, create_key in created_for.items():
                found[request] = created_by_key[create_key]
        return found

    @api.model
    def _get_candidate_balances_domain(self, keys, days):
        """Balances of the grouping ``keys`` that may hold, or border, the periods
        of the company-local ``days``."""
        companies = self.env["res.company"].union(*(key["company_id"] for key in keys))
        todays = [company._balance_today() for company in companies]
        first = min(list(days) + todays)
        last = max(list(days) + todays)
        # The widest period (a year) around the dates covers every natural period,
        # but for weeks, which straddle the new year by up to six days.
        first = first.replace(month=1, day=1) - relativedelta(days=6)
        last = last.replace(month=12, day=31) + relativedelta(days=6)
        return (
            Domain("grouping_key", "in", [self._freeze_grouping_key(k) for k in keys])
            & Domain("state", "!=", "cancel")
            & (
                Domain("period_start", "=", False)
                | (
                    Domain("period_start", "<=", last)
                    & Domain("period_end", ">=", first)
                )
            )
        )

    @api.model
    def _find_open_balance(self, candidates, company, day):
        """The open balance among ``candidates`` (balances of one grouping key)
        that takes an item of the company-local ``day``, or an empty recordset."""
        periodic = candidates.filtered("period_start")

        def covering(day):
            return periodic.filtered(
                lambda balance: balance.period_start <= day <= balance.period_end
            )

        # Open balances keep the period they were opened with, whatever the setting.
        open_balance = covering(day).filtered(lambda balance: balance.state == "open")
        if open_balance:
            return open_balance[:1]
        if company.balance_period == "manual":
            return candidates.filtered(
                lambda balance: not balance.period_start and balance.state == "open"
            )[:1]
        billed = covering(day).sorted("period_end")[-1:]
        today = company._balance_today()
        if billed and billed.period_end < today:
            # A late item of a period already billed goes with today's items.
            return covering(today).filtered(lambda b: b.state == "open")[:1]
        return self.browse()

    @api.model
    def _prepare_period_values(self, candidates, company, day):
        """Period values of the balance to open for an item of the company-local
        ``day`` when ``_find_open_balance`` found none among ``candidates``."""
        if company.balance_period == "manual":
            return {
                "period_type": "manual",
                "period_start": False,
                "period_end": False,
                "billing_date": False,
            }
        periodic = candidates.filtered("period_start")
        billed = periodic.filtered(
            lambda balance: balance.period_start <= day <= balance.period_end
        ).sorted("period_end")[-1:]
        today = company._balance_today()
        if billed and billed.period_end >= today:
            # Billed early (threshold, bill now): a new balance, same period.
            return {
                "period_type": billed.period_type,
                "period_start": billed.period_start,
                "period_end": billed.period_end,
                "billing_date": billed.billing_date,
            }
        if billed:
            day = today
        start, end = company._balance_period_bounds(day)
        # Never overlap balances opened under another period setting: the new period
        # starts after the previous one ends and ends before the next one starts.
        for balance in periodic:
            if start <= balance.period_end < day:
                start = balance.period_end + relativedelta(days=1)
            if day < balance.period_start <= end:
                end = balance.period_start - relativedelta(days=1)
        return {
            "period_type": company.balance_period,
            "period_start": start,
            "period_end": end,
            "billing_date": company._balance_billing_date(end),
        }

    @api.model
    def _create_for_assignment(self, vals_list):
        """Create the balances items were assigned to. Another transaction may have
        created the same balance meanwhile: the unique index refuses the duplicate
        and the transaction is retried as a concurrency conflict, after which the
        other balance is found."""
        try:
            with self.env.cr.savepoint():
                balances = self.create(vals_list)
                balances.flush_recordset()
        except errors.UniqueViolation as error:
            if "one_open_balance_per_period" not in str(error):
                raise
            # Odoo's request retry handles ConcurrencyError; a hand-made
            # psycopg2 error has no pgcode and would end in an error page.
            raise ConcurrencyError(
                "customer balance created concurrently, retrying"
            ) from error
        return balances

    def _get_balance_for_date(self, day):
        """The open balance of this balance's partner, company and currency for the
        company-local date ``day`` (created when missing)."""
        self.ensure_one()
        key = self._get_balance_grouping_key()
        frozen = self._freeze_grouping_key(key)
        return self._get_or_create_by_key({frozen: key}, {(frozen, day)})[frozen, day]

    def _touch_for_items(self):
        """Update these balances' rows in the transaction that changes their items.

        Under PostgreSQL's repeatable read, a bill run billing one of them at the
        same time then fails on one side with a serialization error (the request
        is retried, the bill run skips the balance) instead of committing an item
        pending on a balance that is billed. Needed even when no stored total
        changes (an item of 0.00, a move between two balances)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE customer_balance SET write_date = write_date"
                    " WHERE id = ANY(%s)",
                    self.ids,
                )
            )
