"""Checks that `make run`'s demo shows the product (issues 20 point 10, 22 point 1):
it installs the shop, resource bookings, events, contracts, ``payment_demo`` and their
integration addons, publishes the coworking products in the shop, and has the demo
logins it prints (a company's billing contact and a plain employee). Odoo-free: they
read ``.ci/dev.sh`` (``dev.sh run-modules`` prints what ``cmd_run`` installs) and the
demo files.
"""

import ast
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
DEV_SH = ROOT / ".ci" / "dev.sh"
MODULE = "customer_balance"
# What the demo must show, when their modules are available (they are for `make test`).
RUN_NEEDS = (
    "payment_demo",
    "website_sale",
    "sale_resource_booking",
    "event_sale",
    "contract",
)
# Bills through jobs, which need queue_job's job runner: not in the demo.
RUN_LEAVES_OUT = ("queue_job", "customer_balance_queue_job")


def _manifest(addon):
    return ast.literal_eval((addon / "__manifest__.py").read_text())


def _integrations():
    return sorted(
        path.parent for path in (ROOT / "integrations").glob("*/__manifest__.py")
    )


def _run_modules():
    """``dev.sh run-modules``: {"base": [...], "addons": [...]}."""
    out = subprocess.run(
        ["bash", str(DEV_SH), "run-modules"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode:
        return None
    plan = {}
    for line in out.stdout.splitlines():
        key, _sep, value = line.partition(": ")
        plan[key] = [name for name in value.split(",") if name]
    return plan


def _cmd_run():
    """The text of ``cmd_run`` in dev.sh."""
    text = DEV_SH.read_text()
    match = re.search(r"^cmd_run\(\) \{\n(.*?)^\}", text, re.S | re.M)
    return match.group(1) if match else ""


def check_run_installs_the_product():
    """``make run`` installs what ``make test`` installs (but queue_job) and every
    integration addon whose modules are there."""
    plan = _run_modules()
    if plan is None:
        return [".ci/dev.sh run-modules: fails or does not exist"]
    problems = []
    base, addons = plan.get("base", []), plan.get("addons", [])
    for name in RUN_NEEDS:
        if name not in base:
            problems.append(
                f"make run does not install {name} (dev.sh run-modules: {base})"
            )
    for addon in _integrations():
        name = addon.name
        if name in RUN_LEAVES_OUT:
            if name in addons:
                problems.append(f"make run installs {name}, which needs a job runner")
        elif name not in addons:
            problems.append(f"make run does not install the integration addon {name}")
        for dep in _manifest(addon)["depends"]:
            known = {MODULE, *(path.name for path in _integrations())}
            if dep not in known and dep not in RUN_LEAVES_OUT and dep not in base:
                problems.append(
                    f"make run does not install {dep}, which {name} integrates"
                )
    body = _cmd_run()
    for needed in (
        'available_modules "$(run_base_modules)"',
        'available_modules "$(run_integration_addons)"',
        'new_db "$RUN_DB" 1 "$base"',
        "RUN_LOGINS",
    ):
        if needed not in body:
            problems.append(f".ci/dev.sh cmd_run: does not use {needed}")
    return problems


def _demo_records(addon, model):
    """{xml id: {field: element}} of the records of ``model`` in the addon's demo."""
    records = {}
    for name in _manifest(addon).get("demo", []):
        for rec in ElementTree.parse(addon / name).getroot().iter("record"):
            if rec.get("model") == model:
                xmlid = rec.get("id")
                if "." not in xmlid:
                    xmlid = f"{addon.name if addon != ROOT else MODULE}.{xmlid}"
                fields = records.setdefault(xmlid, {})
                fields.update({field.get("name"): field for field in rec.iter("field")})
    return records


def _is_true(field):
    return field is not None and field.get("eval", field.text or "").strip() == "True"


def _printed_logins():
    """{login: password} of the logins ``make run`` prints (RUN_LOGINS)."""
    match = re.search(r'^RUN_LOGINS="(.*?)"$', DEV_SH.read_text(), re.S | re.M)
    logins = {}
    for line in (match.group(1) if match else "").splitlines():
        found = re.match(r"\s*(\S+) / (\S+):", line)
        if found:
            logins[found.group(1)] = found.group(2)
    return logins


def check_demo_logins():
    """The demo has portal logins for a billing contact of a company and for a plain
    employee of it, and ``make run`` prints them with the admin login."""
    partners = _demo_records(ROOT, "res.partner")
    users = _demo_records(ROOT, "res.users")
    printed = _printed_logins()
    problems = []
    if printed.get("admin") != "admin":
        problems.append("make run does not print the admin login")
    kinds = set()
    for fields in users.values():
        if "login" not in fields or "partner_id" not in fields:
            continue  # base.user_admin, given the sports park
        login = fields["login"].text
        partner = partners.get(f"{MODULE}.{fields['partner_id'].get('ref')}", {})
        if "parent_id" not in partner or "base.group_portal" not in fields[
            "group_ids"
        ].get("eval", ""):
            continue
        kind = (
            "billing contact"
            if _is_true(partner.get("balance_billing_contact"))
            else ("plain employee")
        )
        kinds.add(kind)
        if printed.get(login) != fields["password"].text:
            problems.append(f"make run does not print the demo login {login} ({kind})")
    for kind in ("billing contact", "plain employee"):
        if kind not in kinds:
            problems.append(f"the demo has no portal login for a company's {kind}")
    return problems


def check_demo_products_published():
    """Every coworking product of the demo (the main company's, no company set) is
    published in the shop by the demo of an integration addon that depends on
    website_sale (the main addon does not)."""
    published = {}
    for addon in _integrations():
        for xmlid, fields in _demo_records(addon, "product.product").items():
            if _is_true(fields.get("is_published")):
                published[xmlid] = addon
    problems = []
    products = dict(_demo_records(ROOT, "product.product"))
    booking = ROOT / "integrations" / "customer_balance_resource_booking"
    if booking.is_dir():
        products.update(_demo_records(booking, "product.product"))
    for xmlid, fields in products.items():
        if "company_id" in fields:
            continue  # the sports park's products: another company's, not in the shop
        if xmlid not in published:
            problems.append(f"the demo product {xmlid} is not published in the shop")
            continue
        depends = _manifest(published[xmlid])["depends"]
        if not {"website_sale", "customer_balance_website_sale"} & set(depends):
            problems.append(
                f"{published[xmlid].name} publishes {xmlid} without the shop"
            )
    return problems


CHECKS = (
    check_run_installs_the_product,
    check_demo_logins,
    check_demo_products_published,
)
