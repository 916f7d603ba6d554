# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CustomerBalanceLineMove(models.TransientModel):
    """Move pending items to another open balance of the same customer, company and
    currency; to another customer's balance only as an explicit, confirmed choice
    (``to_other_customer``), logged on both balances and on the items' bookings."""

    _name = "customer.balance.line.move"
    _description = "Move Customer Balance Items"

    line_ids = fields.Many2many(
        comodel_name="customer.balance.line", string="Items", required=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company", compute="_compute_company_currency"
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency", compute="_compute_company_currency"
    )
    source_balance_ids = fields.Many2many(
        comodel_name="customer.balance",
        string="From",
        compute="_compute_company_currency",
        help="The balances the items are on now.",
    )
    source_partner_ids = fields.Many2many(
        comodel_name="res.partner",
        string="Customer",
        compute="_compute_company_currency",
        help="The customers billed for the items now.",
    )
    to_other_customer = fields.Boolean(
        string="To Another Customer",
        help="Bill the items to another customer: they leave their customer's "
        "balance for the chosen customer's one. Only offered on purpose, and "
        "logged on both balances.",
    )
    balance_id = fields.Many2one(
        comodel_name="customer.balance",
        string="Move To",
        required=True,
        domain="[('state', '=', 'open'), ('company_id', '=', company_id),"
        " ('currency_id', '=', currency_id), ('id', 'not in', source_balance_ids),"
        " ('partner_id', 'not in' if to_other_customer else 'in',"
        " source_partner_ids)]",
        help="Another open balance of the same customer, company and currency (of "
        "another customer with To Another Customer).",
    )
    other_customer_warning = fields.Char(
        compute="_compute_other_customer_warning",
    )

    # === COMPUTE METHODS === #

    @api.depends("line_ids")
    def _compute_company_currency(self):
        for wizard in self:
            wizard.company_id = wizard.line_ids.company_id[:1]
            wizard.currency_id = wizard.line_ids.currency_id[:1]
            wizard.source_balance_ids = wizard.line_ids.balance_id
            wizard.source_partner_ids = wizard.line_ids.balance_id.partner_id

    @api.depends("balance_id", "line_ids", "to_other_customer")
    def _compute_other_customer_warning(self):
        for wizard in self:
            # Compared as saved records: in the form they are new ones.
            target = wizard.balance_id._origin
            sources = wizard.source_partner_ids._origin
            wizard.other_customer_warning = (
                _(
                    "These items are billed to %(sources)s: moved, they are billed "
                    "to %(target)s instead.",
                    sources=", ".join(sources.mapped("display_name")),
                    target=target.partner_id.display_name,
                )
                if target and sources and target.partner_id not in sources
                else False
            )

    # === ONCHANGE METHODS === #

    @api.onchange("to_other_customer")
    def _onchange_to_other_customer(self):
        # The chosen balance no longer fits the list offered.
        if self.balance_id and self._is_other_customer() != self.to_other_customer:
            self.balance_id = False

    # === ACTION METHODS === #

    def action_move(self):
        """Move the items with ``customer.balance.line._move_to_balance``. A balance
        of another customer is refused unless *To Another Customer* is ticked
        (whoever calls this, the form or an RPC call); such a move is logged on
        both balances and on the bookings of the items."""
        self.ensure_one()
        lines = self.line_ids
        other_customer = self._is_other_customer()
        # A balance that takes no item at all (closed, another company) is refused
        # for that reason first, by the move itself.
        if (
            other_customer
            and not self.to_other_customer
            and self.balance_id.state == "open"
        ):
            raise UserError(
                _(
                    "%(balance)s belongs to another customer (%(target)s) than the "
                    "items (%(sources)s). To bill them to that customer, tick To "
                    "Another Customer and confirm.",
                    balance=self.balance_id.name,
                    target=self.balance_id.partner_id.display_name,
                    sources=", ".join(self.source_partner_ids.mapped("display_name")),
                )
            )
        source_of = {line: line.balance_id for line in lines}
        moved = lines._move_to_balance(self.balance_id)
        if other_customer:
            self._log_other_customer_move(moved, source_of)
        return {"type": "ir.actions.act_window_close"}

    # === BUSINESS METHODS === #

    def _is_other_customer(self):
        """Whether the chosen balance bills another customer than some items'."""
        self.ensure_one()
        target = self.balance_id._origin
        return bool(
            target
            and any(
                balance.partner_id != target.partner_id
                for balance in self.line_ids._origin.balance_id
            )
        )

    def _log_other_customer_move(self, lines, source_of):
        """Say on both sides, and on the items' bookings, that ``lines`` are now
        billed to another customer, and who decided it. ``source_of``: the balance
        each item came from."""
        target = self.balance_id
        sources = self.env["customer.balance"].union(*(source_of[line] for line in lines))
        for source in sources:
            items = lines.filtered(lambda line, s=source: source_of[line] == s)
            source.message_post(
                body=_(
                    "%(user)s moved items to another customer, %(customer)s "
                    "(%(balance)s): %(items)s. They are no longer billed to "
                    "%(source_customer)s.",
                    user=self.env.user.name,
                    customer=target.partner_id.display_name,
                    balance=target._get_html_link(),
                    items=", ".join(items.mapped("name")),
                    source_customer=source.partner_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        target.message_post(
            body=_(
                "%(user)s moved items of another customer, %(customer)s (%(balances)s), "
                "to this balance: %(items)s.",
                user=self.env.user.name,
                customer=", ".join(sources.partner_id.mapped("display_name")),
                balances=Markup(", ").join(
                    balance._get_html_link() for balance in sources
                ),
                items=", ".join(lines.mapped("name")),
            ),
            subtype_xmlid="mail.mt_note",
        )
        # Items have no chatter of their own: their booking's says where they went.
        for order, items in lines.filtered("sale_line_id").grouped(
            lambda line: line.sale_line_id.order_id
        ).items():
            order.sudo().message_post(
                body=_(
                    "Items of this booking are now billed to %(customer)s on "
                    "%(balance)s (moved by %(user)s): %(items)s.",
                    customer=target.partner_id.display_name,
                    balance=target._get_html_link(),
                    user=self.env.user.name,
                    items=", ".join(items.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
