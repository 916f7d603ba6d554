# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import io
import re

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import file_open
from odoo.tools.translate import trans_export

from .common import CustomerBalanceCommon

MSGID = re.compile(r'^msgid "(.*)"$')


def _msgids(text):
    """The msgids of a .po/.pot text (multi-line msgids joined)."""
    ids, current = set(), None
    for line in text.splitlines():
        match = MSGID.match(line)
        if match:
            current = [match.group(1)]
            continue
        if current is not None and line.startswith('"'):
            current.append(line[1:-1])
            continue
        if current is not None:
            ids.add("".join(current))
            current = None
    if current is not None:
        ids.add("".join(current))
    ids.discard("")
    return ids


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def _exported_msgids(self):
        buffer = io.BytesIO()
        trans_export(None, ["customer_balance"], buffer, "po", self.env)
        # The integration addons live in the repository's integrations/ folder,
        # inside the main addon's folder: Odoo's export counts their code strings
        # as the main addon's. They are the integration addons' own strings.
        entries = [
            entry
            for entry in buffer.getvalue().decode().split("\n\n")
            if not all(
                "/integrations/" in line
                for line in entry.splitlines()
                if line.startswith("#: ")
            )
            or "#: " not in entry
        ]
        return _msgids("\n\n".join(entries))

    def test_pot_in_sync_with_code(self):
        """Every user-facing string of the module is in i18n/customer_balance.pot
        (regenerate it with `make pot` when this fails)."""
        with file_open("customer_balance/i18n/customer_balance.pot") as pot:
            committed = _msgids(pot.read())
        exported = self._exported_msgids()
        self.assertGreater(len(exported), 300)
        missing = exported - committed
        self.assertFalse(missing, f"strings missing from the .pot: {sorted(missing)}")

    def test_german_translation_complete(self):
        """The German translation covers every string of the .pot."""
        with file_open("customer_balance/i18n/customer_balance.pot") as pot:
            committed = _msgids(pot.read())
        with file_open("customer_balance/i18n/de.po") as po:
            text = po.read()
        untranslated = re.findall(r'msgid "(.+)"\nmsgstr ""\n\n', text)
        self.assertFalse(untranslated, f"untranslated: {untranslated[:20]}")
        self.assertFalse(committed - _msgids(text), "msgids missing from de.po")

    def test_german_translation_loads(self):
        """Loaded into a database, the German file translates the module's labels,
        selections and messages."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["customer_balance"], ["de_DE"])
        env_de = self.env(context=dict(self.env.context, lang="de_DE"))
        balance_model = self.env["ir.model"]._get("customer.balance")
        self.assertEqual(balance_model.with_env(env_de).name, "Kundenkonto")
        states = dict(
            env_de["customer.balance"]._fields["state"]._description_selection(env_de)
        )
        self.assertEqual(states["invoiced"], "Abgerechnet")
        with self.assertRaisesRegex(UserError, "Vorschau"):
            env_de["customer.balance"].new({"state": "invoiced"}).action_preview()


@tagged("post_install", "-at_install")
class TestInvoiceLanguage(CustomerBalanceCommon):
    """The consolidated invoice speaks the customer's language, as Odoo's
    ``sale.order._create_invoices`` does, whoever runs the bill run."""

    def _booked_item(self, partner):
        """A desk day of ``partner`` booked on an order confirmed on 20 June 2026,
        on ``partner``'s June balance; returns the balance and the order."""
        # Booked by the front desk; billed by the accountant running the tests.
        order = (
            self.env["sale.order"]
            .sudo()
            .create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.desk.id,
                                "product_uom_qty": 1.0,
                                "price_unit": 100.0,
                                "tax_ids": [Command.set(self.tax_sale_a.ids)],
                            }
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        balance = self._balance(partner)
        self._item(
            balance,
            100.0,
            sale_line_id=order.order_line.id,
            origin="booking",
            origin_ref=order.name,
        )
        return balance, order

    def _section_names(self, balance):
        return balance.invoice_id.invoice_line_ids.filtered(
            lambda line: line.display_type == "line_section"
        ).mapped("name")

    def test_sections_in_the_customer_language(self):
        """Lisa reads German, Anna English; the bill run runs as an English user.
        Lisa's invoice names her booking's section with the German date
        (20.06.2026), Anna's with the English one (06/20/2026)."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["customer_balance"], ["de_DE"], overwrite=True
        )
        self.lisa.lang = "de_DE"
        cron = self.env.ref("customer_balance.ir_cron_consolidate_due")
        self.assertEqual(cron.user_id.lang, "en_US")
        # Items made by hand below, on the order's line.
        self.desk.balance_policy = "none"
        with freeze_time("2026-06-20 10:00:00"):
            lisa, lisa_order = self._booked_item(self.lisa)
            anna, anna_order = self._booked_item(self.anna)

        with freeze_time("2026-07-01 08:00:00"):
            self._bill_run()

        self.assertEqual(
            self._section_names(lisa), [f"Lisa Solo — {lisa_order.name} (20.06.2026)"]
        )
        self.assertEqual(
            self._section_names(anna), [f"Anna Figma — {anna_order.name} (06/20/2026)"]
        )
