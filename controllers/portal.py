# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, http
from odoo.exceptions import AccessError, MissingError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers import portal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class CustomerBalancePortal(portal.CustomerPortal):
    """Members follow their balances under My Account: their open balances, the
    period, the items and the date of the coming invoice, and past consolidated
    invoices. Company contacts see their company's balances."""

    _items_per_page = 20

    def _get_balances_domain(self):
        """Balances members may see: of companies showing balances in the portal;
        record rules restrict them to the member's own and its company's."""
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

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "balance_count" in counters:
            Balance = request.env["customer.balance"]
            values["balance_count"] = (
                Balance.search_count(self._get_balances_domain())
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
        domain = self._get_balances_domain()
        sortings = self._get_balance_searchbar_sortings()
        sortby = sortby if sortby in sortings else "date"
        count = Balance.search_count(domain)
        pager = portal_pager(
            url="/my/balances",
            url_args={"sortby": sortby},
            total=count,
            page=page,
            step=self._items_per_page,
        )
        balances = Balance.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_balances_history"] = balances.ids[:100]
        # Found through the record rules: shown with the company's own rights.
        balances = balances.sudo()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "balances": balances,
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

    @http.route(
        ["/my/balances/<int:balance_id>"], type="http", auth="public", website=True
    )
    def portal_my_balance(self, balance_id, access_token=None, **kw):
        try:
            balance_sudo = self._document_check_access(
                "customer.balance", balance_id, access_token
            )
        except (AccessError, MissingError):
            raise request.not_found() from None
        company = balance_sudo.company_id
        if not (company.balance_enabled and company.balance_portal_visible):
            raise request.not_found()
        values = self._get_page_view_values(
            balance_sudo,
            access_token,
            {
                "balance": balance_sudo,
                "page_name": "balance",
                "items": balance_sudo.line_ids.filtered(
                    lambda item: item.state != "cancel"
                ).sorted(lambda item: (item.service_date, item.id)),
                "invoice_url": self._balance_invoice_url(balance_sudo),
            },
            "my_balances_history",
            False,
            **kw,
        )
        return request.render("customer_balance.portal_my_balance", values)

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
        return invoice.get_portal_url()
