# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    """Who receives a consolidated invoice: decided where Odoo decides who receives
    any invoice, so that the bill run's sending and the *Send* button agree."""

    _inherit = "account.move.send"

    @api.model
    def _get_default_mail_partner_ids(self, move, mail_template, mail_lang):
        partners = super()._get_default_mail_partner_ids(move, mail_template, mail_lang)
        if move.balance_id and not partners.filtered("email"):
            return partners | self._get_balance_mail_partners(move)
        return partners

    @api.model
    def _get_balance_mail_partners(self, move, partner=None, balance=None):
        """The recipients of the consolidated invoice ``move`` (or, before it
        exists, of the invoice to ``partner`` for ``balance``): the invoice address
        when it has an e-mail, else the first contact of the billed company that
        has one, invoice addresses first."""
        invoice_partner = partner or move.partner_id
        balance = balance or move.balance_id
        if invoice_partner.email:
            return invoice_partner
        company = balance.partner_id.commercial_partner_id
        contacts = self.env["res.partner"].search(
            [
                ("id", "child_of", company.id),
                ("id", "!=", company.id),
                ("email", "!=", False),
                ("id", "!=", invoice_partner.id),
            ],
            order="id",
        )
        return contacts.sorted(lambda contact: contact.type != "invoice")[:1]
