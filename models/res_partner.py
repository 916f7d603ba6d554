# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL


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
        compute="_compute_balance_company_open_amount",
        currency_field="balance_currency_id",
        groups="customer_balance.group_customer_balance_user",
        help="Total of the open customer balances of this partner and, for a "
        "company, of its contacts, in the company's currency.",
    )
    balance_amount_due = fields.Monetary(
        string="Amount Due",
        related="commercial_partner_id.credit",
        currency_field="balance_currency_id",
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Odoo's total receivable of the partner's company (posted, unpaid "
        "invoices): billed balances end up here.",
    )
    balance_open_count = fields.Integer(
        string="Open Balances Count",
        compute="_compute_balance_item_counts",
        groups="customer_balance.group_customer_balance_user",
    )
    balance_upcoming_count = fields.Integer(
        string="Upcoming Items",
        compute="_compute_balance_item_counts",
        groups="customer_balance.group_customer_balance_user",
        help="Pending items of the current period: they are on the next "
        "consolidated invoice.",
    )
    balance_scheduled_count = fields.Integer(
        string="Scheduled Items",
        compute="_compute_balance_item_counts",
        groups="customer_balance.group_customer_balance_user",
        help="Pending items whose service lies in a future period.",
    )
    balance_billing_contact = fields.Boolean(
        copy=False,
        tracking=True,
        groups="customer_balance.group_customer_balance_user",
        help="With balances per company, a billing contact sees the company's whole "
        "balance in the portal (all its contacts' items). The company's invoice "
        "addresses are billing contacts anyway; other contacts see only their own "
        "items.",
    )
    balance_billing_company_id = fields.Many2one(
        comodel_name="res.partner",
        string="Billing Contact Of",
        compute="_compute_balance_billing_company_id",
        store=True,
        index="btree_not_null",
        help="The company whose balances this contact sees in full: set for its "
        "invoice addresses and the contacts marked as billing contacts.",
    )
    balance_billing_contact_ids = fields.One2many(
        comodel_name="res.partner",
        inverse_name="balance_billing_company_id",
        string="Balance Billing Contacts",
        readonly=True,
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
    def _compute_balance_company_open_amount(self):
        company = self.env.company
        balances = self.env["customer.balance"].search(
            Domain(self._origin._get_balance_family_domain())
            & Domain("state", "=", "open")
            & Domain("company_id", "=", company.id)
            & Domain("currency_id", "=", company.currency_id.id)
        )
        for partner in self:
            partner.balance_company_open_amount = sum(
                balances.filtered(
                    lambda balance, partner=partner: partner._balance_family_contains(
                        balance.partner_id
                    )
                ).mapped("amount_total")
            )

    @api.depends_context("company")
    def _compute_balance_item_counts(self):
        """Open balances, and pending items of the current period (the upcoming
        invoice) and of future periods (scheduled), of the partner and, for a
        company, of its contacts; the smart buttons open them."""
        Balance = self.env["customer.balance"]
        Line = self.env["customer.balance.line"]
        partners = self._origin
        open_counts = Balance._read_group(
            Domain(partners._get_balance_family_domain())
            & Domain("state", "=", "open"),
            ["partner_id"],
            ["__count"],
        )
        item_counts = Line._read_group(
            self._get_balance_items_domain(partners.ids)
            & Domain("company_id", "=", self.env.company.id),
            ["partner_id", "balance_id"],
            ["__count"],
        )
        scheduled = Balance.search(
            Domain("id", "in", list({balance.id for _p, balance, _c in item_counts}))
            & Domain("is_scheduled", "=", True)
        )
        for partner in self:
            partner.balance_open_count = sum(
                count
                for billed, count in open_counts
                if partner._balance_family_contains(billed)
            )
            upcoming = scheduled_count = 0
            for contact, balance, count in item_counts:
                if not (
                    partner._balance_family_contains(contact)
                    or partner._balance_family_contains(balance.partner_id)
                ):
                    continue
                if balance in scheduled:
                    scheduled_count += count
                else:
                    upcoming += count
            partner.balance_upcoming_count = upcoming
            partner.balance_scheduled_count = scheduled_count

    @api.depends(
        "type", "balance_billing_contact", "commercial_partner_id", "is_company"
    )
    def _compute_balance_billing_company_id(self):
        for partner in self:
            commercial = partner.commercial_partner_id
            is_billing = partner.type == "invoice" or partner.balance_billing_contact
            partner.balance_billing_company_id = (
                commercial
                if is_billing and commercial and commercial != partner
                else False
            )

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

    def _get_balance_items_domain(self, partner_ids):
        """Pending items incurred by these partners or billed to them (with their
        contacts' for companies)."""
        return Domain("state", "=", "pending") & (
            Domain("partner_id", "child_of", partner_ids)
            | Domain("balance_id.partner_id", "child_of", partner_ids)
        )

    def _balance_items_action(self, name, domain):
        """The pending items of the partner (and its contacts) within ``domain``."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_line"
        )
        action["name"] = name
        action["domain"] = list(
            self._get_balance_items_domain(self.ids)
            & Domain("company_id", "=", self.env.company.id)
            & domain
        )
        action["context"] = {}
        return action

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
        when it can (the rule is ``customer.balance._get_ineligibility_reason``)."""
        self.ensure_one()
        return self.env["customer.balance"]._get_ineligibility_reason(
            self, company, from_portal=False
        )

    def _balance_billed_partner(self, company):
        """The partner a balance of this contact is billed to: the contact itself,
        or its company (the commercial partner) when balances are kept per company.
        Reads only: a contact is linked to its company by ``_balance_match_company``
        when it is created or edited, never while an item is assigned."""
        self.ensure_one()
        if company.balance_grouping != "company":
            return self
        return self.commercial_partner_id

    # === ACTION METHODS === #

    def action_view_balances(self):
        """The balances of the partner and, for a company, of its contacts."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance"
        )
        action["domain"] = self._get_balance_family_domain()
        # Flat, newest first: a company's contacts are told apart by a column.
        action["context"] = {"default_partner_id": self.id}
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

    def action_view_open_balances(self):
        """The open balances of the partner and, for a company, of its contacts."""
        action = self.action_view_balances()
        action["domain"] = list(
            Domain(self._get_balance_family_domain()) & Domain("state", "=", "open")
        )
        return action

    def action_view_balance_history(self):
        """The billed and cancelled balances of the partner (and, for a company,
        of its contacts), newest first, with their consolidated invoices."""
        action = self.action_view_balances()
        action["name"] = _("Past Balances")
        action["domain"] = list(
            Domain(self._get_balance_family_domain())
            & Domain("state", "in", ("invoiced", "cancel"))
        )
        return action

    def action_view_upcoming_items(self):
        """Pending items of the current period: the next consolidated invoice."""
        return self._balance_items_action(
            _("Upcoming Invoice"), Domain("balance_id.is_scheduled", "=", False)
        )

    def action_view_scheduled_items(self):
        """Pending items whose service lies in a future period."""
        return self._balance_items_action(
            _("Scheduled Items"), Domain("balance_id.is_scheduled", "=", True)
        )

    def action_view_balance_ledger(self):
        """The full ledger of the partner's balances, newest first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_ledger"
        )
        action["domain"] = self._get_balance_family_domain()
        # Flat, newest first: a company's contacts are told apart by a column.
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_balance_add_entry(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_balance.action_customer_balance_entry"
        )
        action["context"] = {"default_partner_id": self.id}
        return action
