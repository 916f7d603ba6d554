# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import unicodedata

from odoo import _, api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, escape_psql

from odoo.addons.iap.tools.iap_tools import mail_prepare_for_domain_search


def _name_contains_unaccented(word):
    """Domain of the partners whose name, without case and accents, contains
    ``word`` (itself without case and accents): the database's own ``ilike`` only
    ignores accents with the optional ``unaccent`` extension."""
    return Domain.custom(
        to_sql=lambda model, alias, query: SQL(
            "lower(regexp_replace(normalize(%s, NFKD), %s, '', 'g')) LIKE %s",
            model._field_to_sql(alias, "name", query),
            "[\u0300-\u036f]",  # combining diacritical marks
            f"%{escape_psql(word)}%",
        )
    )


def _normalized_name(name):
    """``name`` without case and accents, for matching company names."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return " ".join(
        "".join(char for char in decomposed if not unicodedata.combining(char))
        .casefold()
        .split()
    )


# Ledger rows shown on the partner's tab; the ledger button opens them all.
LEDGER_TAB_LIMIT = 80


class ResPartner(models.Model):
    _inherit = "res.partner"

    balance_use = fields.Selection(
        selection=[
            ("default", "Company default"),
            ("always", "Always"),
            ("never", "Never"),
        ],
        string="Use Customer Balance",
        default="default",
        required=True,
        help="Company default: the partner uses balances when it (or its company) "
        "belongs to one of the allowed communities.\\nAlways / Never: an exception for "
        "this partner, whatever its communities.",
    )
    balance_ids = fields.One2many(
        comodel_name="customer.balance",
        inverse_name="partner_id",
        string="Customer Balances",
    )
    balance_count = fields.Integer(
        string="Balances Count",
        compute="_compute_balance_count",
        groups="customer_balance.group_customer_balance_user",
    )
    balance_open_amount = fields.Monetary(
        string="Open Balance",
        compute="_compute_balance_open_amount",
        search="_search_balance_open_amount",
        currency_field="balance_currency_id",
        groups="customer_balance.group_customer_balance_user",
        help="Total of the open customer balances billed to this partner, in the "
        "company's currency.",
    )
    balance_currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_balance_open_amount",
    )
    balance_company_open_amount = fields.Monetary(
        string="Open Balances",
        compute="_compute_balance_open_ids",
        currency_field="balance_currency_id",
        groups="customer_balance.group_customer_balance_user",
        help="Total of the open customer balances of this partner and, for a "
        "company, of its contacts, in the company's currency.",
    )
    balance_open_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="Open Customer Balances",
        compute="_compute_balance_open_ids",
        groups="customer_balance.group_customer_balance_user",
        help="Open balances of this partner and, for a company, of its contacts.",
    )
    balance_history_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="Past Customer Balances",
        compute="_compute_balance_history_ids",
        groups="customer_balance.group_customer_balance_user",
        help="Billed and cancelled balances of this partner and, for a company, of "
        "its contacts, newest first, with their consolidated invoices.",
    )
    balance_ledger_ids = fields.Many2many(
        comodel_name="customer.balance.ledger",
        compute="_compute_balance_ledger_ids",
        groups="customer_balance.group_customer_balance_user",
        help="The latest charges, credits and billings of the balances of this "
        "partner and, for a company, of its contacts.",
    )
    balance_amount_due = fields.Monetary(
        string="Amount Due",
        compute="_compute_balance_amount_due",
        currency_field="balance_currency_id",
        groups="account.group_account_invoice,account.group_account_readonly",
        help="What the customer owes on posted invoices (Odoo's total receivable of "
        "its company): billed balances end up here.",
    )
    balance_upcoming_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        string="Upcoming Invoice",
        compute="_compute_balance_item_lists",
        groups="customer_balance.group_customer_balance_user",
        help="Pending items of the current period: they are on the next consolidated "
        "invoice.",
    )
    balance_scheduled_line_ids = fields.One2many(
        comodel_name="customer.balance.line",
        string="Scheduled Items",
        compute="_compute_balance_item_lists",
        groups="customer_balance.group_customer_balance_user",
        help="Pending items whose service lies in a future period.",
    )

    # === COMPUTE METHODS === #

    @api.depends("balance_ids")
    def _compute_balance_count(self):
        """Balances of the partner and, for a company, of its contacts."""
        counts = self.env["customer.balance"]._read_group(
            self._get_balance_family_domain(), ["partner_id"], ["__count"]
        )
        for partner in self:
            partner.balance_count = sum(
                count
                for billed, count in counts
                if partner._balance_family_contains(billed)
            )

    @api.depends("balance_ids.amount_total", "balance_ids.state")
    @api.depends_context("company")
    def _compute_balance_open_amount(self):
        company = self.env.company
        amounts = dict(
            self.env["customer.balance"]._read_group(
                [
                    ("partner_id", "in", self.ids),
                    ("state", "=", "open"),
                    ("company_id", "=", company.id),
                    ("currency_id", "=", company.currency_id.id),
                ],
                ["partner_id"],
                ["amount_total:sum"],
            )
        )
        for partner in self:
            partner.balance_open_amount = amounts.get(partner._origin, 0.0)
            partner.balance_currency_id = company.currency_id

    @api.depends_context("company")
    def _compute_balance_open_ids(self):
        company = self.env.company
        balances = self.env["customer.balance"].search(
            Domain(self._get_balance_family_domain()) & Domain("state", "=", "open")
        )
        for partner in self:
            own = balances.filtered(
                lambda balance, partner=partner: partner._balance_family_contains(
                    balance.partner_id
                )
            )
            partner.balance_open_ids = own
            partner.balance_company_open_amount = sum(
                own.filtered(
                    lambda balance: (
                        balance.company_id == company
                        and balance.currency_id == company.currency_id
                    )
                ).mapped("amount_total")
            )

    def _compute_balance_history_ids(self):
        balances = self.env["customer.balance"].search(
            Domain(self._get_balance_family_domain())
            & Domain("state", "in", ("invoiced", "cancel")),
            order="period_start desc, id desc",
        )
        for partner in self:
            partner.balance_history_ids = balances.filtered(
                lambda balance, partner=partner: partner._balance_family_contains(
                    balance.partner_id
                )
            )

    def _compute_balance_ledger_ids(self):
        # The tab shows the latest rows; the full ledger opens from the button.
        Ledger = self.env["customer.balance.ledger"]
        for partner in self:
            partner.balance_ledger_ids = Ledger.search(
                partner._get_balance_family_domain(), limit=LEDGER_TAB_LIMIT
            )

    @api.depends_context("company")
    def _compute_balance_amount_due(self):
        for partner in self:
            partner.balance_amount_due = partner.commercial_partner_id.credit

    def _search_balance_open_amount(self, operator, value):
        if operator not in ("<", "<=", ">", ">=", "=", "!="):
            return NotImplemented
        return Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "%s %s %s",
                model._field_to_sql(alias, "balance_open_amount", query),
                SQL(operator),
                value,
            )
        )

    @api.depends_context("company")
    def _compute_balance_item_lists(self):
        Line = self.env["customer.balance.line"]
        pending = Line.search(
            [
                ("state", "=", "pending"),
                ("company_id", "=", self.env.company.id),
                "|",
                ("partner_id", "child_of", self.ids),
                ("balance_id.partner_id", "child_of", self.ids),
            ]
        )
        scheduled = pending.filtered(lambda line: line.balance_id.is_scheduled)
        for partner in self:
            # A company shows the items of its contacts too.
            own = pending.filtered(
                lambda line, partner=partner: (
                    partner._balance_family_contains(line.partner_id)
                    or partner._balance_family_contains(line.balance_id.partner_id)
                )
            )
            partner.balance_scheduled_line_ids = own & scheduled
            partner.balance_upcoming_line_ids = own - scheduled

    def _field_to_sql(self, alias, field_expr, query=None):
        """The open amount is a sum over balances: expose it to SQL so that the
        customer list can sort on it (who owes most) and search on it."""
        if field_expr != "balance_open_amount":
            return super()._field_to_sql(alias, field_expr, query)
        self._check_field_access(self._fields["balance_open_amount"], "read")
        # The ORM does not know this SQL reads balances: write pending totals first.
        self.env["customer.balance"].flush_model(
            ["partner_id", "state", "company_id", "currency_id", "amount_total"]
        )
        company = self.env.company
        return SQL(
            """(SELECT COALESCE(SUM(balance.amount_total), 0)
                  FROM customer_balance balance
                 WHERE balance.partner_id = %s
                   AND balance.state = 'open'
                   AND balance.company_id = %s
                   AND balance.currency_id = %s)""",
            SQL.identifier(alias, "id"),
            company.id,
            company.currency_id.id,
        )

    # === BUSINESS METHODS === #

    def _get_balance_family_domain(self):
        """Balances (or ledger rows) billed to these partners or, for companies, to
        their contacts."""
        return [("partner_id", "child_of", self.ids)]

    def _balance_family_contains(self, billed_partner):
        """Whether ``billed_partner`` is this partner or one of its contacts."""
        self.ensure_one()
        partner = self._origin
        while billed_partner:
            if billed_partner == partner:
                return True
            billed_partner = billed_partner.parent_id
        return False

    def _balance_ineligibility_reason(self, company):
        """Why this partner cannot use customer balances in ``company``, or ``False``
        when it can."""
        self.ensure_one()
        if not company.balance_enabled:
            return _("Customer balances are not enabled for %s.", company.name)
        commercial = self.commercial_partner_id
        override = (
            self.balance_use
            if self.balance_use != "default"
            else commercial.balance_use
        )
        if override == "never":
            return _("%s does not use customer balances.", self.display_name)
        if override == "always":
            return False
        communities = company.balance_partner_category_ids
        if communities and not (
            (self.category_id | commercial.category_id) & communities
        ):
            return _(
                "%(partner)s is not in a community allowed to use customer balances "
                "(%(communities)s).",
                partner=self.display_name,
                communities=", ".join(communities.mapped("name")),
            )
        return False

    def _balance_billed_partner(self, company):
        """The partner a balance of this contact is billed to: the contact itself,
        or its company when balances are kept per company."""
        self.ensure_one()
        if company.balance_grouping != "company":
            return self
        if not self.parent_id and not self.is_company:
            self._balance_match_company()
        return self.commercial_partner_id

    def _balance_match_company(self):
        """Link a contact without a company to its company, found by the company
        name it typed or, for a non-generic mail domain, by its e-mail domain.

        A match is logged on both partners; two candidate companies link nothing and
        say why; a contact that already has a company is never changed.
        """
        self.ensure_one()
        if self.parent_id or self.is_company:
            return self.env["res.partner"]
        candidates = self._balance_company_candidates()
        if len(candidates) > 1:
            self.message_post(
                body=_(
                    "Not linked to a company for customer balances: several companies "
                    "match (%s).",
                    ", ".join(candidates.mapped("display_name")),
                )
            )
            return self.env["res.partner"]
        if candidates:
            self.parent_id = candidates
            self.message_post(
                body=_(
                    "Linked to company %s for customer balances.",
                    candidates._get_html_link(),
                )
            )
            candidates.message_post(
                body=_(
                    "%s was linked to this company for customer balances.",
                    self._get_html_link(),
                )
            )
        return candidates

    def _balance_company_candidates(self):
        """Companies this contact belongs to, by company name, else by domain."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_context(active_test=True)
        company_domain = Domain("is_company", "=", True) & Domain("id", "!=", self.id)
        name = _normalized_name(self.company_name)
        if name:
            first_word = name.split()[0]
            by_name = Partner.search(
                company_domain & _name_contains_unaccented(first_word)
            )
            by_name = by_name.filtered(
                lambda company: _normalized_name(company.name) == name
            )
            if by_name:
                return by_name
        # "@figma.com"; for a generic provider (gmail.com and the like) the whole
        # address, as a domain says nothing about the company then.
        suffix = mail_prepare_for_domain_search(self.email or "")
        if not suffix or not suffix.startswith("@"):
            return self.env["res.partner"]
        same_domain = Partner.search(
            Domain("email_normalized", "=ilike", "%" + suffix)
            & Domain("id", "!=", self.id)
        )
        # The company itself, or the company of a colleague, has that domain.
        return same_domain.commercial_partner_id.filtered("is_company")

    # === ACTION METHODS === #

    def action_view_balances(self):
        """The balances of the partner and, for a company, of its contacts."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance"
        )
        action["domain"] = self._get_balance_family_domain()
        action["context"] = {"default_partner_id": self.id}
        if self.child_ids:
            action["context"]["search_default_group_partner"] = 1
        return action

    def action_view_balance_items(self):
        """Pending items incurred by the partner or billed to it (with its
        contacts' for a company)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_line"
        )
        action["domain"] = [
            "|",
            ("partner_id", "child_of", self.id),
            ("balance_id.partner_id", "child_of", self.id),
        ]
        action["context"] = {"search_default_pending": 1}
        return action

    def action_view_balance_ledger(self):
        """The full ledger of the partner's balances, newest first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_ledger"
        )
        action["domain"] = self._get_balance_family_domain()
        action["context"] = {"default_partner_id": self.id}
        if self.child_ids:
            action["context"]["search_default_group_partner"] = 1
        return action

    def action_balance_add_entry(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_entry"
        )
        action["context"] = {"default_partner_id": self.id}
        return action
