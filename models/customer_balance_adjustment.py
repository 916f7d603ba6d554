# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import format_amount

TOTAL_FIELDS = ("amount_untaxed", "amount_tax", "amount_total")


class CustomerBalance(models.Model):
    """What the consolidated invoice bills when the accountant changed it before
    posting it (reviewed first): the balance's totals follow the invoice, and the
    differences to what the items charged show as *adjustments on the invoice*,
    line by line, on every screen and document of the balance."""

    _inherit = "customer.balance"

    invoice_adjustment_untaxed = fields.Monetary(
        string="Adjusted on the Invoice",
        compute="_compute_invoice_adjustment",
        help="What the consolidated invoice bills more (or less, negative) than "
        "its items charged, untaxed: changes made on the invoice before it was "
        "posted.",
    )
    invoice_adjustment_total = fields.Monetary(
        string="Adjusted on the Invoice (Taxes Included)",
        compute="_compute_invoice_adjustment",
    )

    # === COMPUTE METHODS === #

    @api.depends("state", "invoice_id", "amount_total")
    def _compute_invoice_adjustment(self):
        for balance in self:
            adjustments = balance._get_invoice_adjustments()
            balance.invoice_adjustment_untaxed = sum(
                adjustment["price_subtotal"] for adjustment in adjustments
            )
            balance.invoice_adjustment_total = sum(
                adjustment["price_total"] for adjustment in adjustments
            )

    # === BUSINESS METHODS === #

    def _refresh_invoice_totals(self):
        """Read the totals of these invoiced balances again from their
        consolidated invoices, which an accountant may have changed before
        posting. Called by the invoice (``account.move``) when it is posted or
        its lines change, rather than by a dependency of the stored totals on the
        invoice's amounts: that one would cost queries for every invoice line the
        bill run creates. Balances whose totals already are the invoice's are
        left alone (no write during the bill run)."""
        stale = self.filtered(
            lambda balance: (
                balance.state == "invoiced"
                and balance.invoice_id
                and any(
                    not balance.currency_id.is_zero(
                        balance[field] - balance._get_invoice_signed_amount(field)
                    )
                    for field in TOTAL_FIELDS
                )
            )
        )
        for field in TOTAL_FIELDS:
            self.env.add_to_compute(self._fields[field], stale)
        return stale

    def _get_invoice_signed_amount(self, field):
        """``field`` of the consolidated invoice, signed as the items are (a
        credit note's amounts are negative)."""
        self.ensure_one()
        invoice = self.invoice_id
        sign = -1 if invoice.move_type == "out_refund" else 1
        return sign * invoice[field]

    def _get_invoice_adjustments(self, items=None):
        """The lines of the consolidated invoice that bill another amount than
        the item they were made from charged, or that no item charged (added on
        the invoice): one dict per line with ``item`` (or an empty recordset),
        ``name``, ``invoice_line`` and the differences ``price_subtotal`` and
        ``price_total``, signed as the items are. With ``items``, only the lines
        of these items (a member's part). Empty while the balance is open."""
        self.ensure_one()
        invoice = self.invoice_id
        if self.state != "invoiced" or not invoice:
            return []
        Item = self.env["customer.balance.line"]
        sign = -1 if invoice.move_type == "out_refund" else 1
        billed_items = self._get_document_lines()
        item_by_line = {item.invoice_line_id: item for item in billed_items}
        adjustments = []
        for line in invoice.invoice_line_ids:
            if line.display_type != "product":
                continue
            item = item_by_line.get(line, Item)
            if items is not None and (not item or item not in items):
                continue
            subtotal = sign * line.price_subtotal - item.price_subtotal
            total = sign * line.price_total - item.price_total
            if self.currency_id.is_zero(subtotal) and self.currency_id.is_zero(total):
                continue
            adjustments.append(
                {
                    "item": item,
                    "invoice_line": line,
                    "name": line.name or item.name or line.product_id.display_name,
                    "price_subtotal": subtotal,
                    "price_total": total,
                }
            )
        return adjustments

    def _get_part_totals(self, items):
        """Tax totals of ``items`` (a member's part of this balance): once billed,
        of the invoice lines they became (with what the accountant changed
        there), else of the items, both as the invoice computes them. Returns
        Odoo's tax totals summary, signed as the items are."""
        self.ensure_one()
        invoice = self.invoice_id
        if self.state != "invoiced" or not invoice:
            return self._get_tax_totals(items)
        AccountTax = self.env["account.tax"]
        base_lines = [
            invoice._prepare_product_base_line_for_taxes_computation(line)
            for line in items.invoice_line_id
        ]
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        totals = AccountTax._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id,
            company=self.company_id,
        )
        sign = -1 if invoice.move_type == "out_refund" else 1
        return {
            **totals,
            "base_amount_currency": sign * totals["base_amount_currency"],
            "tax_amount_currency": sign * totals["tax_amount_currency"],
            "total_amount_currency": sign * totals["total_amount_currency"],
        }

    def _message_invoice_posted(self, invoice):
        """Say on the balance that its consolidated ``invoice`` was posted, what
        it bills, and what was changed on it before (the adjustments)."""
        self.ensure_one()
        env = self.env
        adjustments = self._get_invoice_adjustments()
        body = env._(
            "Consolidated %(document)s %(link)s posted: %(amount)s billed.",
            document=invoice.type_name,
            link=invoice._get_html_link(),
            amount=format_amount(env, invoice.amount_total, invoice.currency_id),
        )
        if adjustments:
            body = env._(
                "%(posted)s Adjusted on the invoice before posting: %(changes)s",
                posted=body,
                changes=", ".join(
                    "%s (%s)"
                    % (
                        adjustment["name"],
                        format_amount(
                            env, adjustment["price_subtotal"], self.currency_id
                        ),
                    )
                    for adjustment in adjustments
                ),
            )
        self.message_post(body=body)
