"""Odoo-free checks of the addon's files (they run with or without Odoo)."""

import pytest
from validate_files import CHECKS


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_addon_files(check):
    assert check() == []
