# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import _, http
from odoo.exceptions import AccessError, MissingError
from odoo.fields import Domain
from odoo.http import content_disposition, request

from odoo.addons.portal.controllers import portal
from odoo.addons.portal.controllers.portal import pager as portal_pager

STATEMENT_REPORT = "customer_balance.action_report_balance_statement"


class CustomerBalancePortal(portal.CustomerPortal):
    """Members follow their balances under My Account: their open balances, the
    period, the items and the date of the coming invoice, and past consolidated
    invoices.

    A balance is shown in full to whom the record rules give it (its customer, the
    billing contacts of a company, an internal user) or to a valid share link.
    Other employees of a company whose balance holds some of their items see their
    part of it only: their own items and the total of these, built here from
    their own items, never the company balance's totals.
    """

    _items_per_page = 20

    def _get_balances_domain(self):
        """Balances members may see: of companies showing balances in the portal;
        record rules restrict them to the member's own and, for a billing contact,
        its company's."""
        companies = (
            request.env["res.company"]
            .sudo()
            .search(
                [("balance_enabled", "=", True), ("balance_portal_visible", "=", True)]
            )
        )
        return Domain("company_id", "in", companies.ids) & Domain(
            "state", "!=", "cancel"
        )

    def _get_member_items(self, balance_sudo, partner):
        """The items of ``partner`` among what ``balance_sudo``'s documents list:
        her part of it."""
        return balance_sudo._get_document_lines().filtered(
            lambda item: item.partner_id == partner
        )

    def _get_partial_balances(self):
        """Balances the member does not read in full (a company's balance, and she
        is not one of its billing contacts) but whose documents list some of her
        own items, as superuser."""
        user = request.env.user
        Item = request.env["customer.balance.line"]
        if user._is_public() or not Item.has_access("read"):
            return request.env["customer.balance"].sudo()
        partner = user.partner_id
        # Her own items are hers to read (record rules): only they lead to a balance.
        items = Item.search(
            [
                ("partner_id", "=", partner.id),
                ("state", "!=", "cancel"),
                ("balance_id", "!=", False),
            ]
        )
        balances = items.sudo().balance_id
        readable = request.env["customer.balance"].search([("id", "in", balances.ids)])
        return (balances - readable.sudo()).filtered(
            lambda balance: self._get_member_items(balance, partner)
        )

    def _get_portal_balance_ids(self):
        """Ids of the balances listed to the member: those she reads in full and
        those holding her part."""
        Balance = request.env["customer.balance"]
        domain = self._get_balances_domain()
        full = Balance.search(domain)
        partial = self._get_partial_balances().filtered_domain(domain)
        return full.ids + partial.ids, partial

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "balance_count" in counters:
            Balance = request.env["customer.balance"]
            values["balance_count"] = (
                len(self._get_portal_balance_ids()[0])
                if Balance.has_access("read") and self._portal_balances_visible()
                else 0
            )
        return values

    def _get_balance_searchbar_sortings(self):
        return {
            "date": {"label": _("Period"), "order": "period_start desc, id desc"},
            "total": {"label": _("Total"), "order": "amount_total desc, id desc"},
            "state": {"label": _("Status"), "order": "state, period_start desc"},
        }

    def _get_balance_total(self, balance_sudo, part_items=None):
        """What the member is shown as the balance's total: what its consolidated
        invoice bills (or billed), or, for her part only, the total of her items
        computed as the invoice computes them."""
        if part_items is not None:
            return balance_sudo._compute_totals(part_items)["total_amount_currency"]
        if balance_sudo.state == "invoiced" and balance_sudo.invoice_id:
            invoice = balance_sudo.invoice_id
            sign = -1 if invoice.move_type == "out_refund" else 1
            return sign * invoice.amount_total
        return balance_sudo.amount_total

    @http.route(
        ["/my/balances", "/my/balances/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_balances(self, page=1, sortby=None, **kw):
        Balance = request.env["customer.balance"]
        if not Balance.has_access("read") or not self._portal_balances_visible():
            raise request.not_found()
        balance_ids, partial = self._get_portal_balance_ids()
        domain = Domain("id", "in", balance_ids)
        sortings = self._get_balance_searchbar_sortings()
        sortby = sortby if sortby in sortings else "date"
        pager = portal_pager(
            url="/my/balances",
            url_args={"sortby": sortby},
            total=len(balance_ids),
            page=page,
            step=self._items_per_page,
        )
        # Found through the record rules or her own items: shown as superuser.
        balances = Balance.sudo().search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_balances_history"] = balances.ids[:100]
        partner = request.env.user.partner_id
        totals = {
            balance.id: self._get_balance_total(
                balance,
                self._get_member_items(balance, partner)
                if balance in partial
                else None,
            )
            for balance in balances
        }
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "balances": balances,
                "balance_totals": totals,
                "partial_balance_ids": set(partial.ids),
                "page_name": "balance",
                "pager": pager,
                "default_url": "/my/balances",
                "searchbar_sortings": sortings,
                "sortby": sortby,
            }
        )
        return request.render("customer_balance.portal_my_balances", values)

    def _portal_balances_visible(self):
        """Members see balances when their company shows them in the portal."""
        company = request.env.company
        return company.balance_enabled and company.balance_portal_visible

    def _get_balance_access(self, balance_id, access_token=None):
        """The balance (as superuser) and the member whose part only may be shown,
        or ``False`` when it may be shown in full. Raises a 404 for anyone else,
        and when the company does not show balances in the portal."""
        partner = False
        try:
            balance_sudo = self._document_check_access(
                "customer.balance", balance_id, access_token
            )
        except (AccessError, MissingError):
            balance_sudo = self._get_partial_balances().filtered(
                lambda balance: balance.id == balance_id
            )
            if not balance_sudo:
                raise request.not_found() from None
            partner = request.env.user.partner_id
        company = balance_sudo.company_id
        if not (company.balance_enabled and company.balance_portal_visible):
            raise request.not_found()
        return balance_sudo, partner

    @http.route(
        ["/my/balances/<int:balance_id>"], type="http", auth="public", website=True
    )
    def portal_my_balance(
        self, balance_id, access_token=None, report_type=None, download=False, **kw
    ):
        balance_sudo, partner = self._get_balance_access(balance_id, access_token)
        if report_type in ("html", "pdf", "text"):
            if partner:
                raise request.not_found()
            return self._show_report(
                model=balance_sudo,
                report_type=report_type,
                report_ref=STATEMENT_REPORT,
                download=download,
            )
        items = (
            self._get_member_items(balance_sudo, partner)
            if partner
            else balance_sudo._get_document_lines()
        )
        values = self._get_page_view_values(
            balance_sudo,
            access_token,
            {
                "balance": balance_sudo,
                "page_name": "balance",
                "items": items.sorted(lambda item: (item.service_date, item.id)),
                "balance_partial": bool(partner),
                "balance_total": self._get_balance_total(
                    balance_sudo, items if partner else None
                ),
                "invoice_url": not partner and self._balance_invoice_url(balance_sudo),
                "statement_url": not partner
                and self._balance_statement_url(balance_sudo, access_token),
            },
            # Not Odoo's records pager: it adds each neighbour's access token.
            None,
            False,
            **kw,
        )
        values.update(self._get_balance_pager_values(balance_sudo))
        return request.render("customer_balance.portal_my_balance", values)

    def _get_balance_pager_values(self, balance_sudo):
        """The previous and next balance of the member's list, as plain links:
        her rights decide what each shows. Odoo's records pager adds each
        record's access token, which would open in full a company balance she
        reads only her part of."""
        history = request.session.get("my_balances_history", [])
        if balance_sudo.id not in history:
            return {}
        index = history.index(balance_sudo.id)
        neighbours = {
            "prev_record": history[index - 1] if index else False,
            "next_record": history[index + 1] if index + 1 < len(history) else False,
        }
        return {
            key: balance_id and balance_sudo.browse(balance_id).access_url
            for key, balance_id in neighbours.items()
        }

    @http.route(
        ["/my/balances/<int:balance_id>/statement"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_balance_statement(
        self, balance_id, access_token=None, download=False, **kw
    ):
        """The balance statement as PDF, for whom sees the whole balance: its
        customer, a billing contact of its company, or a valid share link."""
        balance_sudo, partner = self._get_balance_access(balance_id, access_token)
        if partner:
            raise request.not_found()
        return self._show_report(
            model=balance_sudo,
            report_type="pdf",
            report_ref=STATEMENT_REPORT,
            download=download,
        )

    def _get_http_headers(self, model, report_type, report, download):
        if model._name != "customer.balance" or report_type != "pdf":
            return super()._get_http_headers(model, report_type, report, download)
        name = _("Balance Statement %s", model.name)
        return {
            "Content-Type": "application/pdf",
            "Content-Length": len(report),
            "Content-Disposition": content_disposition(
                "%s.pdf" % re.sub(r"\W+", "_", name),
                disposition_type="attachment" if download else "inline",
            ),
        }

    def _balance_statement_url(self, balance_sudo, access_token=None):
        url = f"/my/balances/{balance_sudo.id}/statement?download=true"
        if access_token:
            url += f"&access_token={access_token}"
        return url

    def _balance_invoice_url(self, balance_sudo):
        """The consolidated invoice's own portal page, when it is posted (drafts
        are hidden from the portal by Odoo's own rules) and the visitor may read
        it: a member of the billed company may, someone opening a shared balance
        link without login may not."""
        invoice = balance_sudo.invoice_id
        if not invoice or invoice.state != "posted":
            return False
        if not request.env["account.move"].browse(invoice.id).has_access("read"):
            return False
        # Her rights open it: no token to hand on with the link.
        return invoice.access_url
