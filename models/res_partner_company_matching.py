# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import unicodedata

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
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


# What a contact's company is recognised by: changing one of them matches it again.
MATCH_FIELDS = frozenset({"name", "company_name", "email"})


class ResPartner(models.Model):
    """Company matching (DESIGN §5.4): a contact without a company is linked to it,
    or proposed for it, from the company name or e-mail domain she gave."""

    _inherit = "res.partner"

    balance_company_proposal_id = fields.Many2one(
        comodel_name="res.partner",
        string="Proposed Company",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        domain=[("is_company", "=", True)],
        groups="customer_balance.group_customer_balance_user",
        help="The company this contact seems to belong to, found from what the "
        "customer typed herself (portal, shop, signup). It is not linked until a "
        "user of Customer Balances confirms it; until then her items go on her own "
        "balance.",
    )
    balance_company_rejected_ids = fields.Many2many(
        comodel_name="res.partner",
        relation="res_partner_balance_rejected_company_rel",
        column1="partner_id",
        column2="company_id",
        string="Rejected Companies",
        readonly=True,
        copy=False,
        groups="customer_balance.group_customer_balance_user",
        help="Company proposals rejected for this contact: they are not proposed "
        "again.",
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        to_match = partners.browse(
            [
                partner.id
                for partner, vals in zip(partners, vals_list, strict=True)
                if MATCH_FIELDS.intersection(vals) and not vals.get("parent_id")
            ]
        )
        if to_match:
            to_match._balance_match_company()
        return partners

    def write(self, vals):
        res = super().write(vals)
        if MATCH_FIELDS.intersection(vals):
            self._balance_match_company()
        return res

    # === ACTION METHODS === #

    def action_balance_confirm_company(self):
        """Confirm the proposed company: the contact is linked to it (its next
        items are billed to it and it reaches the company's portal documents)."""
        self._check_balance_company_proposal_rights()
        for partner in self.sudo():
            company = partner.balance_company_proposal_id
            if not company:
                raise UserError(
                    _("%s has no company proposal to confirm.", partner.display_name)
                )
            if partner.parent_id:
                raise UserError(
                    _(
                        "%(contact)s already belongs to %(company)s.",
                        contact=partner.display_name,
                        company=partner.parent_id.display_name,
                    )
                )
            partner._balance_link_company(company)
        return True

    def action_balance_reject_company(self):
        """Reject the proposed company: nothing is linked, and the same company is
        not proposed again for this contact."""
        self._check_balance_company_proposal_rights()
        for partner in self.sudo():
            company = partner.balance_company_proposal_id
            if not company:
                raise UserError(
                    _("%s has no company proposal to reject.", partner.display_name)
                )
            partner.write(
                {
                    "balance_company_proposal_id": False,
                    "balance_company_rejected_ids": [Command.link(company.id)],
                }
            )
            partner.message_post(
                body=_(
                    "Company proposal %s rejected for customer balances: it will not "
                    "be proposed again.",
                    company._get_html_link(),
                ),
                subtype_xmlid="mail.mt_note",
            )
            company.message_post(
                body=_(
                    "%s does not belong to this company (proposal rejected).",
                    partner._get_html_link(),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    # === BUSINESS METHODS === #

    def _check_balance_company_proposal_rights(self):
        """Only users of Customer Balances decide on company proposals."""
        if not self.env.user.has_group("customer_balance.group_customer_balance_user"):
            raise AccessError(
                _("Only users of Customer Balances can confirm or reject companies.")
            )

    def _balance_matching_enabled(self):
        """Whether contacts are matched to companies: only when the contact's
        company (else the current one) keeps balances per company."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return company.balance_enabled and company.balance_grouping == "company"

    def _balance_match_company(self):
        """Match contacts without a company to their company, found by the company
        name they typed or, for a non-generic mail domain, by their e-mail domain.

        What an internal user entered is trusted: the contact is linked at once
        (``parent_id``) and the link is logged on both partners. What a customer
        typed herself (portal, shop, signup: the current user is not internal) only
        records a proposal (``balance_company_proposal_id``) that a user of
        Customer Balances confirms or rejects. Two candidate companies link or
        propose nothing and say why; a company rejected for the contact is never
        matched again; a contact that already has a company is never changed.
        Returns the companies linked or proposed.
        """
        trusted = self.env.user._is_internal()
        matched = self.env["res.partner"]
        for partner in self.sudo():
            if (
                partner.parent_id
                or partner.is_company
                or not partner._balance_matching_enabled()
            ):
                continue
            # A rejected company stays rejected, whoever edits the contact later.
            candidates = (
                partner._balance_company_candidates()
                - partner.balance_company_rejected_ids
            )
            if len(candidates) > 1:
                partner.message_post(
                    body=_(
                        "Not linked to a company for customer balances: several "
                        "companies match (%s).",
                        ", ".join(candidates.mapped("display_name")),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
            elif candidates and trusted:
                partner._balance_link_company(candidates)
                matched |= candidates
            elif candidates:
                if partner.balance_company_proposal_id != candidates:
                    partner._balance_propose_company(candidates)
                matched |= candidates
        return matched.with_env(self.env)

    def _balance_link_company(self, company):
        """Make ``company`` this contact's company, logged on both chatters."""
        self.ensure_one()
        self.write({"parent_id": company.id, "balance_company_proposal_id": False})
        self.message_post(
            body=_(
                "Linked to company %s for customer balances.",
                company._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        company.message_post(
            body=_(
                "%s was linked to this company for customer balances.",
                self._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _balance_propose_company(self, company):
        """Record ``company`` as this contact's proposed company, for a user of
        Customer Balances to confirm: what a customer typed herself never links
        her to a company (nor to its balances and documents) by itself."""
        self.ensure_one()
        self.balance_company_proposal_id = company
        self.message_post(
            body=_(
                "Company proposal for customer balances: %s, from the company name "
                "or e-mail this contact entered. Confirm or reject it on the contact; "
                "until then her items go on her own balance.",
                company._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        company.message_post(
            body=_(
                "%s may belong to this company (company name or e-mail she "
                "entered): waiting for confirmation for customer balances.",
                self._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _balance_company_candidates(self):
        """Companies this contact belongs to, by company name, else by domain."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_context(active_test=True)
        # Companies shared by all companies, or of the contact's own company.
        visible = Domain("company_id", "in", [False, self.company_id.id]) | Domain(
            "company_id", "=", self.env.company.id
        )
        company_domain = (
            Domain("is_company", "=", True) & Domain("id", "!=", self.id) & visible
        )
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
            & visible
        )
        # The company itself, or the company of a colleague, has that domain.
        return same_domain.commercial_partner_id.filtered("is_company")
