# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import UserError


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_balance_item(self):
        """A line of a (draft) invoice that bills a customer balance item cannot
        be removed on its own: the item would be invoiced on no line. A whole
        invoice deleted or cancelled puts its items back on their balance
        first (``account.move._balance_release_items``)."""
        lines = self.filtered(
            lambda line: (
                line.display_type == "product"
                and line.move_id.move_type in ("out_invoice", "out_refund")
            )
        )
        if not lines:
            return
        item = (
            self.env["customer.balance.line"]
            .sudo()
            .search(
                [("invoice_line_id", "in", lines.ids), ("state", "=", "invoiced")],
                limit=1,
            )
        )
        if item:
            raise UserError(
                self.env._(
                    "The line “%(line)s” bills the customer balance item "
                    "“%(item)s”: it cannot be removed from the invoice. Change its "
                    "quantity or price instead (the balance shows the change as "
                    "adjusted on the invoice), or cancel the invoice to put its "
                    "items back on their balance.",
                    line=item.invoice_line_id.name or item.name,
                    item=item.name,
                )
            )
