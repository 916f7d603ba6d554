"""pytest plugin: import the addon's tests under the name Odoo gives the addon.

The repository root is the addon, but its checkout folder may have any name; Odoo loads
it as ``odoo.addons.customer_balance`` (through a link named after it). pytest-odoo
would derive ``odoo.addons.<folder name>`` from the checkout: map it to the real name.
"""

import ast
from pathlib import Path

import _pytest.pathlib

ROOT = Path(__file__).resolve().parent.parent
ADDON = "customer_balance"


def pytest_configure(config):
    assert ast.literal_eval((ROOT / "__manifest__.py").read_text())["name"]
    original = _pytest.pathlib.resolve_pkg_root_and_module_name

    def resolve_pkg_root_and_module_name(path, *, consider_namespace_packages=False):
        real = Path(path).resolve()
        if real.suffix == ".py" and ROOT in real.parents and ".ci" not in real.parts:
            parts = real.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return ROOT.parent, ".".join(("odoo", "addons", ADDON, *parts))
        return original(path, consider_namespace_packages=consider_namespace_packages)

    _pytest.pathlib.resolve_pkg_root_and_module_name = resolve_pkg_root_and_module_name
