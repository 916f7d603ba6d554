# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import CustomerBalanceCommon


@tagged("post_install", "-at_install")
class TestInvoiceSending(CustomerBalanceCommon):
    """Who receives a consolidated invoice is decided where Odoo decides it for any
    invoice (``account.move.send``): the bill run and the *Send* button agree."""

    @freeze_time("2026-06-20 10:00:00")
    def test_send_button_proposes_fallback_contact(self):
        """Figma's invoice address has no e-mail: sending the posted consolidated
        invoice by hand proposes Anna, the first contact with an e-mail, as the bill
        run does; an ordinary invoice to the same address proposes nobody extra."""
        self.company.balance_grouping = "company"
        self.figma.email = False
        address = self.env["res.partner"].create(
            {"name": "Figma Invoices", "type": "invoice", "parent_id": self.figma.id}
        )
        balance = self._item(
            self._balance(self.figma), 80.0, partner=self.ben
        ).balance_id
        invoice = balance._consolidate()
        invoice.action_post()
        self.assertEqual(invoice.partner_id, address)

        Send = self.env["account.move.send"]
        template = invoice._get_mail_template()
        proposed = Send._get_default_mail_partner_ids(invoice, template, "en_US")
        self.assertIn(self.anna, proposed)
        self.assertEqual(Send._get_balance_mail_partners(invoice), self.anna)

        plain = self.init_invoice(
            "out_invoice", partner=address, amounts=[50.0], post=True
        )
        proposed = Send._get_default_mail_partner_ids(plain, template, "en_US")
        self.assertNotIn(self.anna, proposed)
