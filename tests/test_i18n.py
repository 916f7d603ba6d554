# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import io
import re

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_open
from odoo.tools.translate import trans_export

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
        with self.assertRaisesRegex(Exception, "Vorschau"):
            env_de["customer.balance"].new({"state": "invoiced"}).action_preview()
