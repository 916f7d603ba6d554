"""Benchmark of the bill run against Odoo's own consolidated invoicing.

Generates a realistic month of bookings (members in companies, confirmed sale orders,
one pending item per order line on the members' company balances), commits it, copies
the database, then in one run times, each in its own process:

(a) the bill run (``customer.balance._cron_consolidate_due``) on the original, and
(b) Odoo's own invoicing of the same orders (``sale.order._create_invoices(
    grouped=False)``, one invoice per company invoice address) on the copy,

and prints items, balances, seconds, their ratio, SQL queries per balance and peak
memory. Run through ``make bench`` (``ARGS="--items 2000"`` for a quick run).
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime

PERIOD_START = date(2026, 10, 1)  # a past month: its balances are due now


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--items", type=int, default=50000)
    parser.add_argument("--lines-per-order", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--phase", choices=["generate", "billrun", "odoo"])
    return parser.parse_args(argv)


def odoo_env(args):
    import odoo  # noqa: PLC0415 - Odoo is only importable in Odoo's Python
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    cr = registry.cursor()
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}), cr


def generate(args):
    """Members in companies, confirmed orders, one pending item per order line."""
    from odoo import Command  # noqa: PLC0415

    env, cr = odoo_env(args)
    rng = random.Random(args.seed)
    company = env.company
    company.partner_id.tz = "Europe/Berlin"
    company.write(
        {
            "balance_enabled": True,
            "balance_period": "month",
            "balance_billing_delay": 0,
            "balance_grouping": "company",
        }
    )
    tax = env["account.tax"].search(
        [("type_tax_use", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    products = env["product.product"].create(
        [
            {
                "name": name,
                "type": "service",
                "list_price": price,
                "taxes_id": [Command.set(tax.ids)],
                "invoice_policy": "order",
            }
            for name, price in (
                ("Desk day", 25.0),
                ("Meeting room hour", 40.0),
                ("Sports hall hour", 55.5),
                ("Locker month", 12.9),
            )
        ]
    )
    companies = env["res.partner"].create(
        [
            {
                "name": f"Company {n:04d}",
                "is_company": True,
                "email": f"c{n}@bench.example",
            }
            for n in range(args.companies)
        ]
    )
    env["res.partner"].create(
        [
            {
                "name": f"Accounting {partner.name}",
                "type": "invoice",
                "parent_id": partner.id,
                "email": f"accounting{partner.id}@bench.example",
            }
            for partner in companies
        ]
    )
    members = env["res.partner"].create(
        [
            {
                "name": f"Member {n:05d}",
                "parent_id": companies[n % args.companies].id,
                "email": f"m{n}@bench.example",
            }
            for n in range(args.members)
        ]
    )
    orders_count = max(1, args.items // args.lines_per_order)
    order_vals = []
    for n in range(orders_count):
        member = members[n % args.members]
        day = PERIOD_START.replace(day=rng.randint(1, 28))
        order_vals.append(
            {
                "partner_id": member.id,
                "date_order": datetime.combine(day, datetime.min.time()),
                "order_line": [
                    Command.create(
                        {
                            "product_id": rng.choice(products).id,
                            "product_uom_qty": rng.randint(1, 4),
                        }
                    )
                    for _line in range(args.lines_per_order)
                ],
            }
        )
    orders = env["sale.order"]
    for start in range(0, len(order_vals), 500):
        orders |= env["sale.order"].create(order_vals[start : start + 500])
    orders.action_confirm()
    orders.date_order = datetime.combine(PERIOD_START, datetime.min.time())
    lines = orders.order_line
    env["customer.balance.line"].create(
        [
            {
                "partner_id": line.order_id.partner_id.id,
                "company_id": company.id,
                "currency_id": line.currency_id.id,
                "product_id": line.product_id.id,
                "name": line.name,
                "quantity": line.product_uom_qty,
                "price_unit": line.price_unit,
                "discount": line.discount,
                "tax_ids": [Command.set(line.tax_ids.ids)],
                "service_date": PERIOD_START.replace(day=15),
                "origin": "booking",
                "sale_line_id": line.id,
            }
            for line in lines
        ]
    )
    cr.commit()
    result = {
        "orders": len(orders),
        "items": env["customer.balance.line"].search_count([]),
        "balances": env["customer.balance"].search_count([]),
    }
    cr.close()
    return result


def measure(function, args):
    env, cr = odoo_env(args)
    queries_before = cr.sql_log_count
    started = time.perf_counter()
    result = function(env, args)
    cr.commit()
    seconds = time.perf_counter() - started
    result.update(
        seconds=seconds,
        queries=cr.sql_log_count - queries_before,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    cr.close()
    return result


def run_billrun(env, args):
    Balance = env["customer.balance"]
    due = Balance.search_count(Balance._get_due_domain())
    while Balance.search_count(Balance._get_due_domain()):
        Balance._cron_consolidate_due(batch_size=args.batch_size)
    invoices = env["account.move"].search_count([("balance_id", "!=", False)])
    return {"balances": due, "invoices": invoices}


def run_odoo(env, args):
    # The same orders invoiced the way Odoo does it, without any balance item.
    env.cr.execute("DELETE FROM customer_balance_line")
    env.cr.execute("DELETE FROM customer_balance")
    env.invalidate_all()
    orders = env["sale.order"].search([("invoice_status", "=", "to invoice")])
    invoices = orders._create_invoices(grouped=False)
    return {"orders": len(orders), "invoices": len(invoices)}


def phase_main(args):
    import odoo.init  # noqa: F401, PLC0415 - sets up the odoo namespace

    if args.phase == "generate":
        result = generate(args)
    elif args.phase == "billrun":
        result = measure(run_billrun, args)
    else:
        result = measure(run_odoo, args)
    print("RESULT " + json.dumps(result))


def run_phase(args, phase, database):
    command = [
        sys.executable,
        __file__,
        "--config",
        args.config,
        "--database",
        database,
        "--phase",
        phase,
        "--companies",
        str(args.companies),
        "--members",
        str(args.members),
        "--items",
        str(args.items),
        "--lines-per-order",
        str(args.lines_per_order),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(args.seed),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"phase {phase} printed no result:\n{output.stderr[-3000:]}")


def copy_database(args, source, target):
    import odoo.init  # noqa: F401, PLC0415
    import odoo.sql_db  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["-c", args.config, "--log-level=warn"])
    connection = odoo.sql_db.db_connect("postgres")
    with connection.cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(f'DROP DATABASE IF EXISTS "{target}"')
        cr.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def main():
    args = parse_args()
    if args.phase:
        return phase_main(args)
    print(
        f"generating {args.items} items: {args.members} members in {args.companies} "
        "companies, booked through confirmed sale orders ...",
        flush=True,
    )
    started = time.perf_counter()
    data = run_phase(args, "generate", args.database)
    print(
        f"generated {data['orders']} orders, {data['items']} items on "
        f"{data['balances']} balances in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    copy = f"{args.database}_odoo"
    copy_database(args, args.database, copy)
    billrun = run_phase(args, "billrun", args.database)
    odoo_run = run_phase(args, "odoo", copy)
    ratio = billrun["seconds"] / odoo_run["seconds"] if odoo_run["seconds"] else 0
    balances = billrun["balances"] or 1
    print()
    print(f"items                               {data['items']}")
    print(f"balances billed                     {billrun['balances']}")
    print(f"consolidated invoices               {billrun['invoices']}")
    print(f"bill run                            {billrun['seconds']:.2f} s")
    print(
        f"Odoo _create_invoices(grouped=False) {odoo_run['seconds']:.2f} s "
        f"({odoo_run['orders']} orders -> {odoo_run['invoices']} invoices)"
    )
    print(f"ratio bill run / Odoo               {ratio:.2f}")
    print(f"SQL queries per balance (bill run)  {billrun['queries'] / balances:.1f}")
    print(f"SQL queries per balance (Odoo)      {odoo_run['queries'] / balances:.1f}")
    print(f"peak memory bill run                {billrun['peak_rss_mb']:.0f} MiB")
    print(f"peak memory Odoo                    {odoo_run['peak_rss_mb']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
