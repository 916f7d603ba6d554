# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import _, http
from odoo.exceptions import AccessError, LockError, MissingError, UserError
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

    def _get_balance_amounts(self, balance_sudo, part_items=None):
        """What the member is shown as the untaxed amount, the taxes and the
        total: the balance's own, signed as its items are (a credit note's are
        negative), which are what its consolidated invoice bills or billed; for
        her part only, those of her items computed as the invoice computes
        them (once billed, of the invoice lines they became: what was changed
        on the invoice included)."""
        if part_items is None:
            return {
                "untaxed": balance_sudo.amount_untaxed,
                "tax": balance_sudo.amount_tax,
                "total": balance_sudo.amount_total,
            }
        totals = balance_sudo._get_part_totals(part_items)
        return {
            "untaxed": totals["base_amount_currency"],
            "tax": totals["tax_amount_currency"],
            "total": totals["total_amount_currency"],
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
            balance.id: self._get_balance_amounts(
                balance,
                self._get_member_items(balance, partner)
                if balance in partial
                else None,
            )["total"]
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
            return self._show_balance_statement(
                balance_sudo, partner, report_type=report_type, download=download
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
                # What the invoice bills other than the items charged: changed
                # on the draft before it was posted.
                "adjustments": balance_sudo._get_invoice_adjustments(
                    items if partner else None
                ),
                "balance_amounts": self._get_balance_amounts(
                    balance_sudo, items if partner else None
                ),
                "invoice_url": not partner and self._balance_invoice_url(balance_sudo),
                "statement_url": self._balance_statement_url(
                    balance_sudo, access_token
                ),
                **self._get_pay_now_values(balance_sudo, partner, access_token, kw),
            },
            # Not Odoo's records pager: it adds each neighbour's access token.
            None,
            False,
            **kw,
        )
        values.update(self._get_balance_pager_values(balance_sudo))
        return request.render("customer_balance.portal_my_balance", values)

    def _get_pay_now_values(self, balance_sudo, partner, access_token, kw):
        """What the page shows of Pay now: the button when the visitor may pay
        the balance and there is something to pay; otherwise, after a refused
        payment (``?pay_error``), the reason."""
        if partner or not balance_sudo._is_pay_now_enabled():
            return {}
        blocker = balance_sudo._get_pay_now_blocker()
        message = False
        if kw.get("pay_error") == "busy":
            message = _(
                "This balance is being billed right now: please try again in a moment."
            )
        elif kw.get("pay_error"):
            message = blocker or _("The payment could not be started.")
        return {
            "pay_now_url": not blocker and f"/my/balances/{balance_sudo.id}/pay",
            "pay_now_token": access_token,
            "pay_now_message": message,
            "balance_paid": balance_sudo.state == "invoiced"
            and balance_sudo.invoice_id.payment_state in ("paid", "in_payment"),
        }

    @http.route(
        ["/my/balances/<int:balance_id>/pay"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_my_balance_pay(self, balance_id, access_token=None, **kw):
        """Pay now: bill the balance at once (as *Bill now* does), post its
        invoice and send the visitor to Odoo's own payment page for it. For its
        member, a billing contact of its company or a share link's visitor only;
        anyone else, or a company without Pay now, gets a 404 and nothing is
        billed. A balance already billed and not paid goes to the same page."""
        balance_sudo, partner = self._get_balance_access(balance_id, access_token)
        if partner or not balance_sudo._is_pay_now_enabled():
            raise request.not_found()
        page_url = self._balance_page_url(balance_sudo, access_token)
        try:
            # A failure leaves nothing billed, not half an invoice.
            with request.env.cr.savepoint():
                invoice = balance_sudo._pay_now()
        except LockError:
            return request.redirect(self._with_query(page_url, "pay_error=busy"))
        except UserError as error:
            balance_sudo._log_pay_now_failure(error)
            return request.redirect(self._with_query(page_url, "pay_error=1"))
        if not invoice:
            return request.redirect(self._with_query(page_url, "pay_error=1"))
        # Odoo's own Pay Now of the invoice list: its page with the payment form
        # open. Its token is for the visitor who may read the whole balance.
        return request.redirect(
            invoice.get_portal_url(anchor="portal_pay", query_string="&payment=True")
        )

    @staticmethod
    def _with_query(url, query):
        return f"{url}{'&' if '?' in url else '?'}{query}"

    def _balance_page_url(self, balance_sudo, access_token=None):
        """The balance's page, with the visitor's own token when she came with
        one (a share link)."""
        if access_token:
            return f"{balance_sudo.access_url}?access_token={access_token}"
        return balance_sudo.access_url

    @http.route(
        ["/my/balances/<int:balance_id>/statement"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_balance_statement(
        self, balance_id, access_token=None, download=False, **kw
    ):
        """The balance statement as PDF: the whole balance for its customer, a
        billing contact of its company or a valid share link; for another
        employee of the company, her own items and their total only."""
        balance_sudo, partner = self._get_balance_access(balance_id, access_token)
        return self._show_balance_statement(balance_sudo, partner, download=download)

    def _show_balance_statement(
        self, balance_sudo, partner, report_type="pdf", download=False
    ):
        """Render the statement of ``balance_sudo``; with ``partner``, her part
        of it only (the report lists her items and their total, never the
        company's)."""
        if not partner:
            return self._show_report(
                model=balance_sudo,
                report_type=report_type,
                report_ref=STATEMENT_REPORT,
                download=download,
            )
        report = (
            request.env["ir.actions.report"]
            .sudo()
            .with_company(balance_sudo.company_id)
        )
        content = getattr(report, f"_render_qweb_{report_type}")(
            STATEMENT_REPORT,
            balance_sudo.ids,
            data={"report_type": report_type, "balance_part_partner_id": partner.id},
        )[0]
        headers = self._get_http_headers(balance_sudo, report_type, content, download)
        return request.make_response(content, headers=list(headers.items()))

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
