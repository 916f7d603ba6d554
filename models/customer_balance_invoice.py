# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, models
from odoo.tools import clean_context, format_date


class CustomerBalance(models.Model):
    """How a balance becomes an invoice: the values of the consolidated invoice
    (``sale.order._prepare_invoice``-style), its sections and lines, its totals,
    posting and sending it, and the balance's life once it is cancelled."""

    _inherit = "customer.balance"

    # === BUSINESS METHODS === #

    def _get_consolidation_date(self):
        """The consolidated invoice's date: the day it is created (today in the
        company's time zone), never back-dated into the billed period (a late bill
        run, a late item of a past period) and never on or before a lock date that
        would refuse to post it (fiscal year, sales, tax, hard lock). The billing
        period itself stays on the invoice (its origin and the sections)."""
        self.ensure_one()
        company = self.company_id
        day = company._balance_today()
        # A customer invoice: the fiscal year, sales, tax and hard lock dates.
        locks = company._get_lock_date_violations(
            day, fiscalyear=True, sale=True, purchase=False, tax=True, hard=True
        )
        if locks:
            day = max(lock_date for lock_date, _field in locks) + relativedelta(days=1)
        return day

    def _get_invoice_partner(self):
        """The address the consolidated invoice goes to: the billed partner's
        invoice address."""
        self.ensure_one()
        return self.env["res.partner"].browse(
            self.partner_id.address_get(["invoice"])["invoice"]
        )

    def _prepare_invoice_values(self, lines, invoice_date):
        """Header values of an invoice for ``lines`` (items of this balance), in the
        way ``sale.order._prepare_invoice`` prepares one."""
        self.ensure_one()
        partner = self._get_invoice_partner()
        fiscal_position = (
            self.env["account.fiscal.position"]
            .with_company(self.company_id)
            ._get_fiscal_position(partner)
        )
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": invoice_date,
            "invoice_origin": self.name,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": self.partner_id.with_company(
                self.company_id
            ).property_payment_term_id.id,
            "invoice_line_ids": [],
        }

    def _get_section_key(self, line):
        """Items are grouped on the invoice by contact and booking."""
        return (line.partner_id, line.sale_line_id.order_id)

    def _prepare_section_name(self, line):
        partner, order = self._get_section_key(line)
        if order:
            return _(
                "%(contact)s — %(order)s (%(date)s)",
                contact=partner.name,
                order=order.name,
                date=format_date(self.env, order.date_order),
            )
        return partner.name

    def _prepare_invoice_lines(self, lines):
        """Invoice line commands for ``lines``: a section per contact and booking,
        then the items. Returns the commands and, per item, its line's sequence."""
        commands = []
        sequences = {}
        sequence = 0
        ordered = lines.sorted(
            lambda line: (
                line.partner_id.name or "",
                line.sale_line_id.order_id.id or 0,
                line.service_date,
                line.id,
            )
        )
        for _key, section_lines in ordered.grouped(self._get_section_key).items():
            sequence += 1
            commands.append(
                Command.create(
                    {
                        "display_type": "line_section",
                        "name": self._prepare_section_name(section_lines[0]),
                        "sequence": sequence,
                    }
                )
            )
            for line in section_lines:
                sequence += 1
                sequences[line] = sequence
                commands.append(
                    Command.create(line._prepare_invoice_line_values(sequence=sequence))
                )
        return commands, sequences

    def _prepare_invoice_from_items(self, lines, invoice_date):
        """Complete values of the invoice for ``lines`` (pending items of this
        balance): a credit note when their net total is negative. Returns the
        values, each item's invoice line sequence, and the tax totals."""
        self.ensure_one()
        totals = self._get_tax_totals(lines)
        values = self._prepare_invoice_values(lines, invoice_date)
        # The customer reads the sections (names, dates) in their own language, not
        # in the bill run user's: as sale.order._create_invoices builds its lines.
        lang = self.env["res.partner"].browse(values["partner_id"]).lang
        in_lang = self.with_context(lang=lang) if lang else self
        commands, sequences = in_lang._prepare_invoice_lines(
            lines.with_env(in_lang.env)
        )
        if self.currency_id.compare_amounts(totals["total_amount_currency"], 0.0) < 0:
            values["move_type"] = "out_refund"
            for command in commands:
                line_values = command[2]
                if line_values.get("display_type") != "product":
                    continue
                if line_values.get("sale_line_ids"):
                    # Odoo counts a credit note's quantity as refunded from the
                    # order line: a booking charged on a credit note keeps its
                    # price and takes a negative quantity, so it still counts as
                    # invoiced on its order.
                    line_values["quantity"] = -line_values["quantity"]
                else:
                    line_values["price_unit"] = -line_values["price_unit"]
        values["invoice_line_ids"] = commands
        return values, sequences, totals

    def _invoice_items(self, lines, invoice_date=None, consolidate=False):
        """Invoice ``lines`` (pending items of this balance) as one customer invoice,
        or credit note when their net total is negative, created in one call; link
        each item to its invoice line and mark it invoiced. Returns the invoice."""
        self.ensure_one()
        lines = lines.filtered(lambda line: line.state == "pending")
        if not lines:
            return self.env["account.move"]
        invoice_date = invoice_date or self._get_consolidation_date()
        values, sequences, _totals = self._prepare_invoice_from_items(
            lines, invoice_date
        )
        if consolidate:
            values["balance_id"] = self.id
            # The unique index only tolerates a cancelled previous invoice once its
            # cancellation is in the database, not just in the cache.
            self.env["account.move"].flush_model(["balance_id", "state"])
        # Callers' default_* keys (a balance's item list, a wizard) are not the
        # invoice's.
        invoice = (
            self.env["account.move"]
            .with_context(clean_context(self.env.context))
            .with_company(self.company_id)
            .create(values)
        )
        invoice_lines = {
            line.sequence: line
            for line in invoice.invoice_line_ids
            if line.display_type == "product"
        }
        # Invoiced on their own (Invoice Now), the items leave the balance.
        lines._mark_invoiced(
            {line: invoice_lines[sequences[line]] for line in lines},
            detach=not consolidate,
        )
        lines._close_checkout_transactions(invoice)
        return invoice

    def _invoice_balances(self):
        """Invoice the pending items of each of these open balances as its
        consolidated invoice (a credit note when their net total is negative), all
        in ONE ``account.move.create`` call: Odoo computes the lines, taxes and
        totals of a batch of moves far cheaper than the same moves one by one
        (the bill run builds its batches with it). Each item is linked to its
        invoice line, each balance becomes *invoiced*, and the invoices are posted
        and sent as each company wants it. Returns ``{balance: invoice}``."""
        vals_list = []
        pending = {}
        for balance in self:
            lines = balance.line_ids.filtered(lambda line: line.state == "pending")
            values, sequences, _totals = balance._prepare_invoice_from_items(
                lines, balance._get_consolidation_date()
            )
            values["balance_id"] = balance.id
            balance._add_invoice_line_amounts(values, lines, sequences)
            vals_list.append(values)
            pending[balance] = (lines, sequences)
        if not vals_list:
            return {}
        Move = self.env["account.move"]
        # The unique index only tolerates a cancelled previous invoice once its
        # cancellation is in the database, not just in the cache.
        Move.flush_model(["balance_id", "state"])
        # Callers' default_* keys (a balance's item list, a wizard) are not the
        # invoices'. Each move takes its company from its values; the batch's
        # companies are allowed, the first one current.
        companies = self.company_id
        invoices = (
            Move.with_context(clean_context(self.env.context))
            .with_company(companies[:1])
            .with_context(
                allowed_company_ids=list(
                    dict.fromkeys(companies.ids + self.env.companies.ids)
                )
            )
            .create(vals_list)
        )
        invoice_by_balance = dict(zip(self, invoices, strict=True))
        invoice_line_by_item = {}
        for balance, invoice in invoice_by_balance.items():
            lines, sequences = pending[balance]
            invoice_lines = {
                line.sequence: line
                for line in invoice.invoice_line_ids
                if line.display_type == "product"
            }
            invoice_line_by_item.update(
                {line: invoice_lines[sequences[line]] for line in lines}
            )
        items = self.env["customer.balance.line"].union(*invoice_line_by_item)
        items._mark_invoiced(invoice_line_by_item)
        for balance, invoice in invoice_by_balance.items():
            pending[balance][0]._close_checkout_transactions(invoice)
            balance._as_transition().write(
                {"invoice_id": invoice.id, "state": "invoiced", "billing_error": False}
            )
        # One insert for the batch's chatter notes, not a message_post each.
        self._message_log_batch(
            bodies={
                balance.id: self._get_consolidated_note(
                    invoice, len(pending[balance][0])
                )
                for balance, invoice in invoice_by_balance.items()
            }
        )
        self._post_and_send_invoices(invoice_by_balance)
        return invoice_by_balance

    @api.model
    def _get_consolidated_note(self, invoice, count):
        """The chatter note of a balance billed on ``invoice`` for ``count``
        items: one string per number (Odoo has no plural forms in Python)."""
        if count == 1:
            return self.env._(
                "Consolidated %(document)s %(link)s created for 1 item.",
                document=invoice.type_name,
                link=invoice._get_html_link(),
            )
        return self.env._(
            "Consolidated %(document)s %(link)s created for %(count)s items.",
            document=invoice.type_name,
            link=invoice._get_html_link(),
            count=count,
        )

    def _add_invoice_line_amounts(self, values, lines, sequences):
        """Give the product lines of the invoice ``values`` (for ``lines``, items
        of this balance) the amounts and tax tags Odoo's tax engine computes for
        them, as the invoice will: ``account.move.create`` then finds nothing to
        write on its product lines (``_sync_tax_lines`` writes each line whose
        amounts differ, one write per line: most of the cost of a large
        invoice). A line computed otherwise by Odoo is still written by it: this
        saves work and changes no amount. Only for invoices in the company's
        currency; a credit note or another currency is left to Odoo."""
        self.ensure_one()
        company = self.company_id
        if values["move_type"] != "out_invoice" or self.currency_id != (
            company.currency_id
        ):
            return
        AccountTax = self.env["account.tax"]
        # An out_invoice's product lines are credits (direction sign -1).
        base_lines = [
            line._prepare_base_line_for_taxes_computation(sign=-1) for line in lines
        ]
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        AccountTax._add_accounting_data_in_base_lines_tax_details(base_lines, company)
        amounts = {}
        for line, base_line in zip(lines, base_lines, strict=True):
            details = base_line["tax_details"]
            amounts[sequences[line]] = {
                "amount_currency": -(
                    details["total_excluded_currency"]
                    + details["delta_total_excluded_currency"]
                ),
                "balance": -(
                    details["total_excluded"] + details["delta_total_excluded"]
                ),
                "tax_tag_ids": [Command.set(base_line["tax_tag_ids"].ids)],
            }
        for command in values["invoice_line_ids"]:
            line_values = command[2]
            if line_values.get("display_type") == "product":
                line_values.update(amounts.get(line_values.get("sequence"), {}))

    def _compute_totals(self, lines):
        """Former name of ``_get_tax_totals`` (it is no compute method)."""
        return self._get_tax_totals(lines)

    def _get_tax_totals(self, lines):
        """Tax totals of ``lines`` (items of this balance) over the whole set, as
        the invoice computes them: Odoo's tax totals summary."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        return AccountTax._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id,
            company=self.company_id,
        )

    def _get_consolidation_preview(self):
        """What ``_consolidate`` would create now, computed without writing."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.state == "pending")
        invoice_date = self._get_consolidation_date()
        values, sequences, totals = self._prepare_invoice_from_items(
            lines, invoice_date
        )
        item_by_sequence = {sequence: item for item, sequence in sequences.items()}
        preview_lines = []
        for command in values["invoice_line_ids"]:
            line_values = command[2]
            item = item_by_sequence.get(line_values.get("sequence"))
            preview_lines.append(
                {
                    "display_type": line_values.get("display_type"),
                    "name": line_values.get("name"),
                    "quantity": line_values.get("quantity", 0.0),
                    "price_unit": item.price_unit if item else 0.0,
                    "price_subtotal": item.price_subtotal if item else 0.0,
                }
            )
        partner = self.env["res.partner"].browse(values["partner_id"])
        return {
            "partner": partner,
            "mail_partners": self.env["account.move.send"]._get_balance_mail_partners(
                self.env["account.move"], partner=partner, balance=self
            ),
            "invoice_date": invoice_date,
            "move_type": values["move_type"],
            "amount_untaxed": totals["base_amount_currency"],
            "amount_tax": totals["tax_amount_currency"],
            "amount_total": totals["total_amount_currency"],
            "lines": preview_lines,
        }

    def _post_and_send(self, invoice):
        """Confirm the consolidated invoice, charge the customer's saved payment
        method and e-mail the invoice, as the company wants it."""
        self.ensure_one()
        self._post_and_send_invoices({self: invoice})

    def _post_and_send_invoices(self, invoice_by_balance):
        """``_post_and_send`` for the consolidated invoices ``{balance: invoice}``
        of these balances: the invoices of companies that post them are posted
        together (one ``action_post``), then each is charged and e-mailed as its
        company wants it."""
        to_post = {
            balance: invoice
            for balance, invoice in invoice_by_balance.items()
            if balance.company_id.balance_auto_post
        }
        if not to_post:
            return
        self.env["account.move"].union(*to_post.values()).action_post()
        to_send = self.env["account.move"]
        for balance, invoice in to_post.items():
            company = balance.company_id
            if company.balance_auto_pay:
                invoice._balance_charge_saved_payment_method()
            if company.balance_auto_send:
                balance._prepare_sending(invoice)
                to_send |= invoice
        if to_send:
            self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _send_invoice(self, invoice):
        """E-mail the posted consolidated ``invoice`` in the background by Odoo's own
        sending job, as batch sending does, to the recipients ``account.move.send``
        proposes for a consolidated invoice."""
        self.ensure_one()
        self._prepare_sending(invoice)
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _prepare_sending(self, invoice):
        """Mark the posted consolidated ``invoice`` for Odoo's sending job (its
        ``sending_data``), to the recipients ``account.move.send`` proposes."""
        self.ensure_one()
        recipients = self.env["account.move.send"]._get_balance_mail_partners(invoice)
        invoice.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
            "mail_partner_ids": recipients.ids,
        }

    def _reopen_after_cancelled_invoice(self, invoice):
        """The consolidated ``invoice`` of these invoiced balances was cancelled or
        deleted: each balance opens again, or, when another open balance of its
        period exists meanwhile, is cancelled (that one takes its items)."""
        for balance in self:
            if balance.state != "invoiced":
                continue
            other = self.search_count(
                [
                    ("grouping_key", "=", balance.grouping_key),
                    ("period_start", "=", balance.period_start),
                    ("state", "=", "open"),
                ],
                limit=1,
            )
            balance._as_transition().write(
                {
                    "state": "cancel" if other else "open",
                    "invoice_id": False,
                    "threshold_notified": False,
                }
            )
            balance.message_post(
                body=_(
                    "Consolidated invoice %s was cancelled: its items wait to be "
                    "billed again.",
                    invoice._get_html_link(),
                )
            )
