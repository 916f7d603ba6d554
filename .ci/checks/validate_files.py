"""Checks of the addons' files that need no Odoo: manifest, Python syntax, XML and CSV
validity, data files listed and present, access rights for every model. They cover the
main addon (the repository root) and each integration addon (``integrations/<addon>``).

Run directly (``python3 .ci/checks/validate_files.py``, exits non-zero on a problem) or
through pytest (``test_static.py``).
"""

import ast
import csv
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import run_demo_checks

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {
    ".git",
    ".dev",
    "__pycache__",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
}


def addon_files(pattern):
    for path in sorted(ROOT.rglob(pattern)):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def addons():
    """The addons' folders: the repository root, then each integration addon."""
    integrations = sorted((ROOT / "integrations").glob("*/__manifest__.py"))
    return [ROOT, *(path.parent for path in integrations)]


def owner(path):
    """The folder of the addon that ``path`` belongs to."""
    return next((addon for addon in reversed(addons()) if addon in path.parents), ROOT)


def manifest(addon=ROOT):
    return ast.literal_eval((addon / "__manifest__.py").read_text())


def check_manifest():
    problems = []
    for addon in addons():
        data = manifest(addon)
        where = (addon / "__manifest__.py").relative_to(ROOT)
        for key in ("name", "version", "license", "author", "website", "depends"):
            if key not in data:
                problems.append(f"{where}: missing key {key!r}")
        if addon == ROOT and "data" not in data:
            problems.append(f"{where}: missing key 'data'")
        if not re.fullmatch(r"19\.0\.\d+\.\d+\.\d+", data.get("version", "")):
            problems.append(f"{where}: version must look like 19.0.x.y.z")
        for key in ("data", "demo"):
            for name in data.get(key, []):
                if not (addon / name).is_file():
                    problems.append(f"{where}: {key} file {name} does not exist")
    return problems


def check_python():
    problems = []
    for path in addon_files("*.py"):
        try:
            ast.parse(path.read_text(), filename=str(path))
        except SyntaxError as error:
            problems.append(f"{path.relative_to(ROOT)}: {error}")
    return problems


def check_xml():
    problems = []
    for path in addon_files("*.xml"):
        try:
            ElementTree.parse(path)
        except ElementTree.ParseError as error:
            problems.append(f"{path.relative_to(ROOT)}: {error}")
    return problems


def check_csv():
    problems = []
    for path in addon_files("*.csv"):
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            problems.append(f"{path.relative_to(ROOT)}: empty")
            continue
        width = len(rows[0])
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != width:
                problems.append(
                    f"{path.relative_to(ROOT)}:{number}: {len(row)} columns, "
                    f"header has {width}"
                )
        ids = [row[0] for row in rows[1:]]
        if len(ids) != len(set(ids)):
            problems.append(f"{path.relative_to(ROOT)}: duplicate ids")
    return problems


def defined_models(addon=ROOT):
    """Names of the models an addon defines (classes with a ``_name``)."""
    names = set()
    for path in addon_files("*.py"):
        if owner(path) != addon:
            continue
        if "tests" in path.relative_to(addon).parts or path.parts[-2] == "checks":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            # Abstract models have no table and no access rights (Odoo's mixins).
            if any(ast.unparse(base).endswith("AbstractModel") for base in node.bases):
                continue
            attrs = {
                target.id: stmt.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for target in stmt.targets
                if isinstance(target, ast.Name)
            }
            name = attrs.get("_name")
            if isinstance(name, ast.Constant):
                names.add(name.value)
    return names


def check_access_rights():
    problems = []
    for addon in addons():
        access = addon / "security" / "ir.model.access.csv"
        covered = set()
        if access.is_file():
            with access.open(newline="") as handle:
                covered = {
                    row["model_id:id"].split(".")[-1] for row in csv.DictReader(handle)
                }
        problems += [
            f"{access.relative_to(ROOT)}: no access right for model {name}"
            for name in sorted(defined_models(addon))
            if "model_" + name.replace(".", "_") not in covered
        ]
    return problems


CHECKS = (
    check_manifest,
    check_python,
    check_xml,
    check_csv,
    check_access_rights,
    *run_demo_checks.CHECKS,
)


def main():
    problems = [problem for check in CHECKS for problem in check()]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
