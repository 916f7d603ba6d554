# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging contacts keeps their customer balances whole: the merged contacts'
    open balances of a grouping key and period the surviving contact (or another
    merged contact) also has open are merged into one, instead of breaking the
    rule of one open balance per grouping key and period (a database error) or
    losing a balance silently."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        self._merge_customer_balances(src_partners, dst_partner)
        # Odoo rewrites ``partner_id`` in SQL, which would leave the stored
        # grouping key behind (refused by its constraint): the balances move
        # through the ORM first, their key with them.
        balances = (
            self.env["customer.balance"]
            .sudo()
            .search([("partner_id", "in", src_partners.ids)])
        )
        balances._as_transition().write({"partner_id": dst_partner.id})
        balances.flush_recordset()
        return super()._update_foreign_keys(src_partners, dst_partner)

    def _merge_customer_balances(self, src_partners, dst_partner):
        """Move the pending items of the merged contacts' open balances onto the
        balance of the same grouping key, once merged, and period that survives
        (the destination's when it has one), then remove the emptied balances,
        saying so on the survivor. The other balances simply follow the partner
        (Odoo's merge rewrites their ``partner_id``)."""
        Balance = self.env["customer.balance"].sudo()
        balances = Balance.search(
            [
                ("partner_id", "in", (src_partners | dst_partner).ids),
                ("state", "=", "open"),
            ],
            order="id",
        )
        by_key = defaultdict(lambda: Balance)
        for balance in balances:
            merged_key = {
                **balance._get_balance_grouping_key(),
                "partner_id": dst_partner,
            }
            frozen = Balance._freeze_grouping_key(merged_key)
            by_key[frozen, balance.period_start] |= balance
        for same_key in by_key.values():
            if len(same_key) < 2:
                continue
            survivor = (
                same_key.filtered(lambda balance: balance.partner_id == dst_partner)[:1]
                or same_key[:1]
            )
            for merged in same_key - survivor:
                self._merge_customer_balance_into(merged, survivor, dst_partner)

    def _merge_customer_balance_into(self, merged, survivor, dst_partner):
        """Move the pending items of ``merged`` onto ``survivor``; delete
        ``merged`` when nothing is left on it, else (items invoiced on their own
        stay where they were billed) cancel it."""
        pending = merged.line_ids.filtered(lambda line: line.state == "pending")
        if pending:
            pending._move_to_balance(survivor)
        name = merged.name
        reason = self.env._(
            "contact %(contact)s merged into %(partner)s, items moved to %(balance)s",
            contact=merged.partner_id.display_name,
            partner=dst_partner.display_name,
            balance=survivor.name,
        )
        if merged.line_ids:
            merged._cancel(reason)
            merged_ref = merged._get_html_link()
        else:
            merged.unlink()
            merged_ref = name
        # One string per number (Odoo has no plural forms in Python).
        if len(pending) == 1:
            body = self.env._(
                "Balance %(balance)s merged into this one (%(reason)s): 1 item moved.",
                balance=merged_ref,
                reason=reason,
            )
        else:
            body = self.env._(
                "Balance %(balance)s merged into this one (%(reason)s): "
                "%(count)s items moved.",
                balance=merged_ref,
                reason=reason,
                count=len(pending),
            )
        survivor.message_post(body=body, subtype_xmlid="mail.mt_note")
