"""Benchmark of the bill run against Odoo's own consolidated invoicing.

Generates a realistic month of bookings (members in companies, confirmed sale orders,
one pending item per order line on the members' company balances), commits it, copies
the database, then in one run times, each in its own process:

(a) the bill run (``customer.balance._cron_consolidate_due``) on the original, and
(b) Odoo's own invoicing of the same orders (``sale.order._create_invoices(
    grouped=False)``, one invoice per company invoice address) on the copy,

and prints items, balances, seconds, their ratio, SQL queries per balance and peak
memory. Run through ``make bench`` (``ARGS="--items 2000"`` for a quick run).

With ``--workers N`` it measures how the bill run scales instead: the same generated
data is billed once by one worker and, on a copy, by N worker processes at once (each
running the bill run against the same database, as N Odoo workers or servers do with
queue_job's jobs or their own schedulers), and it prints invoice lines per second for
1 and for N workers, their ratio, and checks that every balance was billed exactly
once. Odoo's own invoicing is then left out (``--compare-odoo`` keeps it).
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime

import bench_servers
from bench_servers import PERIOD_START, loadavg


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
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also bill the same data with this many worker processes at once",
    )
    parser.add_argument(
        "--compare-odoo",
        action="store_true",
        help="with --workers: also time Odoo's own invoicing and order confirmation",
    )
    parser.add_argument(
        "--engine",
        choices=["processes", "queue_job"],
        default="processes",
        help="with --workers: processes (N Python processes calling the bill run) "
        "or queue_job (real Odoo servers, the scheduler's cron and queue_job's "
        "runner and workers)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        choices=[1, 2],
        default=1,
        help="with --engine queue_job: one server, or two on two HTTP ports "
        "sharing the database (the job runner in the first)",
    )
    parser.add_argument(
        "--kill",
        action="store_true",
        help="with --engine queue_job: SIGKILL a server in the middle of the run "
        "and restart it",
    )
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        help="this many HTTP clients confirm orders in the portal while the bill "
        "run runs on odoo --workers 2",
    )
    parser.add_argument("--load-orders", type=int, default=40, help="per client")
    parser.add_argument("--load-seconds", type=int, default=600)
    parser.add_argument("--load-workers", type=int, default=2)
    parser.add_argument("--load-companies", type=int, default=3)
    parser.add_argument("--load-members", type=int, default=40)
    parser.add_argument(
        "--quiet-orders", type=int, default=24, help="in all, shared by the clients"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=3600,
        help="bound of the wait for a bill run on servers (seconds)",
    )
    parser.add_argument(
        "--stall-seconds",
        type=int,
        default=120,
        help="a bill run on servers that bills nothing for this long while its run "
        "record says running is reported stalled",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ.get("CB_BENCH_PORT") or 8141),
        help="the servers' HTTP ports are the free ones from here (loopback)",
    )
    parser.add_argument("--odoo-bin", default=os.environ.get("CB_ODOO_BIN") or "odoo")
    parser.add_argument(
        "--confirm-sizes",
        default="100,250",
        help="items already on the balance when timing confirmations onto it",
    )
    parser.add_argument("--confirm-orders", type=int, default=30)
    parser.add_argument(
        "--confirm-spread",
        type=int,
        default=10,
        help="with --confirm-sizes: the balance's items are one row in this many "
        "of the table (the others: other balances of the same month)",
    )
    parser.add_argument(
        "--confirm-only",
        action="store_true",
        help="only time confirmations onto balances of --confirm-sizes items "
        "(no bill run, no Odoo invoicing, no preview)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=0,
        help="with --engine queue_job: balances per job (default: the module's, 20)",
    )
    parser.add_argument("--queue-param", default="", help=argparse.SUPPRESS)
    parser.add_argument("--load-file", default="", help=argparse.SUPPRESS)
    parser.add_argument(
        "--phase",
        choices=[
            "generate",
            "confirm-balance",
            "confirm-odoo",
            "billrun",
            "odoo",
            "confirm",
            "confirm-sizes",
            "preview",
            "worker",
            "check",
            "servers-prepare",
            "trigger",
            "set-queue",
            "load-prepare",
            "load-check",
        ],
    )
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
                "balance_invoice_timing": "start",
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
                            "service_start": datetime.combine(
                                day, datetime.min.time()
                            ).replace(hour=9),
                        }
                    )
                    for _line in range(args.lines_per_order)
                ],
            }
        )
    orders = env["sale.order"]
    for start in range(0, len(order_vals), 500):
        orders |= env["sale.order"].create(order_vals[start : start + 500])
    cr.commit()
    result = {"orders": len(orders), "lines": len(orders.order_line)}
    cr.close()
    return result


def confirm_orders(args, on_balance):
    """Confirm the generated orders: onto balances (the feature on), or for Odoo's
    own invoicing (the feature off). Not timed: it builds the data to bill."""
    env, cr = odoo_env(args)
    env.company.balance_enabled = on_balance
    orders = env["sale.order"].search([("state", "=", "draft")])
    for start in range(0, len(orders), 500):
        orders[start : start + 500].action_confirm()
    env.company.balance_enabled = True
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
    return {"balances": due, "invoices": invoices, "lines": count_invoice_lines(env)}


def count_invoice_lines(env):
    return env["account.move.line"].search_count(
        [("move_id.balance_id", "!=", False), ("display_type", "=", "product")]
    )


def run_worker(args):
    """One of N bill run workers: wait for the start signal, then bill due balances
    until none is left (the others bill at the same time; each balance is billed by
    whichever worker locks it first)."""
    env, cr = odoo_env(args)
    Balance = env["customer.balance"]
    # One run record for all the workers: created by the first of them.
    cr.execute("SELECT pg_advisory_lock(4242)")
    cr.commit()
    env["customer.balance.run"]._get_or_start("cron")
    cr.commit()
    cr.execute("SELECT pg_advisory_unlock(4242)")
    cr.commit()
    # Which worker billed how many balances.
    RunModel = type(env["customer.balance.run"])
    bill_locked = RunModel._bill_locked_balances
    billed = []

    def counting_bill_locked(run, balances):
        billed.extend(balances.ids)
        return bill_locked(run, balances)

    RunModel._bill_locked_balances = counting_bill_locked
    print("READY", flush=True)
    sys.stdin.readline()
    started = time.time()
    queries_before = cr.sql_log_count
    calls = 0
    while Balance.search_count(Balance._get_due_domain(), limit=1):
        Balance._cron_consolidate_due(batch_size=args.batch_size)
        calls += 1
    cr.commit()
    result = {
        "started": started,
        "ended": time.time(),
        "calls": calls,
        "queries": cr.sql_log_count - queries_before,
        "billed": len(billed),
    }
    cr.close()
    return result


def run_check(env, args):
    """Every balance billed exactly once: no balance with two invoices, no item on
    two invoice lines, every item of a billed balance invoiced, nothing left due."""
    cr = env.cr
    cr.execute(
        """SELECT count(*) FROM (SELECT balance_id FROM account_move
           WHERE balance_id IS NOT NULL GROUP BY balance_id HAVING count(*) > 1) d"""
    )
    balances_twice = cr.fetchone()[0]
    cr.execute(
        """SELECT count(*) FROM (SELECT invoice_line_id FROM customer_balance_line
           WHERE invoice_line_id IS NOT NULL GROUP BY invoice_line_id
           HAVING count(*) > 1) d"""
    )
    lines_twice = cr.fetchone()[0]
    Balance = env["customer.balance"]
    billed = Balance.search([("state", "=", "invoiced"), ("invoice_id", "!=", False)])
    not_invoiced = env["customer.balance.line"].search_count(
        [("balance_id", "in", billed.ids), ("state", "!=", "invoiced")]
    )
    runs = env["customer.balance.run"].search([])
    return {
        "balances_billed": len(billed),
        "balances_twice": balances_twice,
        "items_twice": lines_twice,
        "items_not_invoiced": not_invoiced,
        "left_due": Balance.search_count(Balance._get_due_domain(with_errors=True)),
        "failed": Balance.search_count([("billing_error", "!=", False)]),
        "invoices": env["account.move"].search_count([("balance_id", "!=", False)]),
        "lines": count_invoice_lines(env),
        "runs": len(runs),
        "run_billed": sum(runs.mapped("billed_count")),
        "run_states": sorted(set(runs.mapped("state"))),
        "run_summary": "; ".join(
            f"{run.trigger} {run.state}: {run.billed_count} billed, "
            f"{run.failed_count} failed, {run.duration:.1f} s"
            for run in runs
        )
        or "none",
    }


def run_odoo(env, args):
    # The same orders, confirmed without balances, invoiced the way Odoo does it.
    orders = env["sale.order"].search([("invoice_status", "=", "to invoice")])
    invoices = orders._create_invoices(grouped=False)
    return {"orders": len(orders), "invoices": len(invoices)}


def run_confirm(env, args):
    """Confirming orders that go on a balance against confirming the same orders
    and invoicing them at once with Odoo's own ``_create_invoices``."""
    from odoo import Command  # noqa: PLC0415

    count = max(10, args.items // 250)
    company = env.company
    members = env["res.partner"].search([("name", "=like", "Member %")], limit=count)
    product = env["product.product"].search([("name", "=", "Desk day")], limit=1)

    def orders():
        return env["sale.order"].create(
            [
                {
                    "partner_id": member.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 2})
                    ],
                }
                for member in members
            ]
        )

    on_balance, invoiced = orders(), orders()
    env.flush_all()
    started = time.perf_counter()
    for order in on_balance:
        order.action_confirm()
    env.flush_all()
    balance_seconds = time.perf_counter() - started
    company.balance_enabled = False
    env.flush_all()
    started = time.perf_counter()
    for order in invoiced:
        order.action_confirm()
        order._create_invoices()
    env.flush_all()
    invoice_seconds = time.perf_counter() - started
    company.balance_enabled = True
    return {
        "orders": len(members),
        "items": len(on_balance.order_line.balance_line_ids),
        "invoices": len(invoiced.invoice_ids),
        "balance_seconds": balance_seconds,
        "invoice_seconds": invoice_seconds,
    }


PREVIEW_MODEL = "customer.balance.run.preview"


def run_preview(env, args):
    """The bill run preview wizard of today: created with its date, its lines
    read (what it shows). Rolled back: it writes nothing that stays."""
    if PREVIEW_MODEL not in env:
        return {"skipped": True}
    started = time.perf_counter()
    queries_before = env.cr.sql_log_count
    wizard = env[PREVIEW_MODEL].create({"date": env.company._balance_today()})
    wizard.action_compute()  # the wizard's *Preview* button
    lines = wizard.line_ids
    lines.read()
    env.flush_all()
    seconds = time.perf_counter() - started
    result = {
        "skipped": False,
        "lines": len(lines),
        "seconds": seconds,
        "queries": env.cr.sql_log_count - queries_before,
    }
    env.cr.rollback()
    return result


def run_confirm_sizes(env, args):
    """ms per order confirmed onto a company balance that already holds N items,
    for each N of ``--confirm-sizes``: the balance is filled first (not timed),
    then ``--confirm-orders`` orders of one line are confirmed one by one onto
    it. The filled balances are committed, the timed orders rolled back."""
    from odoo import Command  # noqa: PLC0415

    product = env["product.product"].search([("name", "=", "Desk day")], limit=1)
    results = []
    for size in [int(value) for value in args.confirm_sizes.split(",") if value]:
        company = env["res.partner"].create(
            {"name": f"Size {size}", "is_company": True, "email": "s@bench.example"}
        )
        member = env["res.partner"].create(
            {"name": f"Size {size} member", "parent_id": company.id}
        )
        # Others booking in the same month: a balance's items are one row in
        # ``--confirm-spread`` of the table, spread over its pages as a month
        # of bookings of many balances spreads them.
        neighbours = env["res.partner"].create(
            [
                {"name": f"Size {size} neighbour {n}", "is_company": True}
                for n in range(max(0, args.confirm_spread - 1))
            ]
        )
        neighbours = env["res.partner"].create(
            [
                {"name": f"{partner.name} member", "parent_id": partner.id}
                for partner in neighbours
            ]
        )
        per_order = max(1, args.lines_per_order)
        fill = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 1})
                        for _line in range(min(per_order, size - start))
                    ],
                }
                for start in range(0, size, per_order)
                for partner in member | neighbours
            ]
        )
        fill.action_confirm()
        balance = fill.filtered(
            lambda order, member=member: order.partner_id == member
        ).order_line.balance_line_ids.balance_id
        # Kept (the database is the bench's copy), and vacuumed as autovacuum
        # does the tables between a month's bookings: all of them, so that no
        # autovacuum of the tables the filling grew runs while orders are timed.
        env.cr.commit()
        bench_servers.sql(args, env.cr.dbname, "VACUUM ANALYZE")
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": member.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 2})
                    ],
                }
                for _order in range(args.confirm_orders)
            ]
        )
        env.flush_all()
        queries_before = env.cr.sql_log_count
        started = time.perf_counter()
        for order in orders:
            # Each order in a fresh cache, as each request confirming one does:
            # nothing read for an earlier order hides what this one reads.
            env.invalidate_all()
            order.action_confirm()
            env.flush_all()
        seconds = time.perf_counter() - started
        results.append(
            {
                "size": size,
                "spread": max(1, args.confirm_spread),
                "balances": len(balance),
                "items_before": len(balance.line_ids) - len(orders),
                "orders": len(orders),
                "on_balance": len(orders.order_line.balance_line_ids.balance_id),
                "ms_per_order": seconds * 1000 / (len(orders) or 1),
                "queries_per_order": (env.cr.sql_log_count - queries_before)
                / (len(orders) or 1),
            }
        )
    env.cr.rollback()
    return {"sizes": results}


def phase_main(args):
    import odoo.init  # noqa: F401, PLC0415 - sets up the odoo namespace

    if args.phase == "generate":
        result = generate(args)
    elif args.phase == "confirm-balance":
        result = confirm_orders(args, on_balance=True)
    elif args.phase == "confirm-odoo":
        result = confirm_orders(args, on_balance=False)
    elif args.phase == "billrun":
        result = measure(run_billrun, args)
    elif args.phase == "confirm":
        result = measure(run_confirm, args)
    elif args.phase == "worker":
        result = run_worker(args)
    elif args.phase in SERVER_PHASES or args.phase in (
        "check",
        "preview",
        "confirm-sizes",
    ):
        env, cr = odoo_env(args)
        if args.phase == "check":
            result = run_check(env, args)
        elif args.phase == "preview":
            result = run_preview(env, args)
        elif args.phase == "confirm-sizes":
            result = run_confirm_sizes(env, args)
        elif args.phase == "load-check":
            result = bench_servers.phase_load_check(env, args, run_check)
        else:
            result = SERVER_PHASES[args.phase](env, args)
        cr.commit()
        cr.close()
    else:
        result = measure(run_odoo, args)
    print("RESULT " + json.dumps(result))


SERVER_PHASES = {
    "servers-prepare": bench_servers.phase_servers_prepare,
    "trigger": bench_servers.phase_trigger,
    "set-queue": bench_servers.phase_set_queue,
    "load-prepare": bench_servers.phase_load_prepare,
    "load-check": None,  # bench_servers.phase_load_check, given run_check
}


def phase_command(args, phase, database, **extra):
    options = []
    for key, value in extra.items():
        options += ["--" + key.replace("_", "-"), str(value)]
    for key in (
        "load",
        "load_orders",
        "load_companies",
        "load_members",
        "quiet_orders",
        "confirm_sizes",
        "confirm_orders",
        "confirm_spread",
        "chunk_size",
    ):
        if key not in extra:
            options += ["--" + key.replace("_", "-"), str(getattr(args, key))]
    return [
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
        *options,
    ]


def run_phase(args, phase, database, **extra):
    """Run ``phase`` in a process of its own; its result, with the load average
    at its end (``load``: printed beside its figures)."""
    command = phase_command(args, phase, database, **extra)
    output = subprocess.run(command, check=False, capture_output=True, text=True)
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["load"] = loadavg()
            return result
    raise RuntimeError(f"phase {phase} printed no result:\n{output.stderr[-3000:]}")


def run_workers(args, database):
    """Start ``args.workers`` worker processes on ``database``, let them load Odoo,
    then start them at once; the time is from the start signal to the end of the
    last one."""
    command = phase_command(args, "worker", database)
    workers = []
    for number in range(args.workers):
        log = open(f"/tmp/customer_balance_bench_worker_{number}.log", "w")  # noqa: SIM115
        workers.append(
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        )
    for worker in workers:
        line = worker.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"a worker did not start: {line!r}")
    started = time.time()
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        output, _errors = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"a worker failed (exit {worker.returncode})")
        for line in output.splitlines():
            if line.startswith("RESULT "):
                results.append(json.loads(line[len("RESULT ") :]))
    return {
        "seconds": max(result["ended"] for result in results) - started,
        "workers": results,
    }


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
        f"companies, booked through confirmed sale orders ... ({loadavg()})",
        flush=True,
    )
    started = time.perf_counter()
    on_servers = args.engine == "queue_job" or args.load
    processes = args.workers > 1 and not on_servers
    compare_odoo = (args.workers <= 1 or args.compare_odoo) and not on_servers
    generated = run_phase(args, "generate", args.database)
    if args.confirm_only:
        return print_confirm_sizes(run_phase(args, "confirm-sizes", args.database))
    copy = f"{args.database}_odoo"
    if compare_odoo:
        copy_database(args, args.database, copy)
    data = run_phase(args, "confirm-balance", args.database)
    if compare_odoo:
        run_phase(args, "confirm-odoo", copy)
    if processes:
        workers_copy = f"{args.database}_workers"
        copy_database(args, args.database, workers_copy)
    print(
        f"generated {generated['orders']} orders ({generated['lines']} lines): "
        f"{data['items']} items on {data['balances']} balances in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    print_preview(run_phase(args, "preview", args.database))
    if on_servers:
        harness = bench_servers.Harness(args, run_phase, print_scaling)
        if args.load:
            return harness.run_load()
        return harness.run_queue_engine()
    billrun = run_phase(args, "billrun", args.database)
    if processes:
        workers = run_workers(args, workers_copy)
        workers["load"] = loadavg()
        check = run_phase(args, "check", workers_copy)
        print()
        print(
            "engine                              processes (N Python processes "
            "calling the bill run on one database)"
        )
        print_scaling(
            args,
            billrun,
            {
                "seconds": workers["seconds"],
                "detail": "balances per worker: "
                + ", ".join(str(w["billed"]) for w in workers["workers"]),
                "load": workers["load"],
            },
            check,
        )
        if not compare_odoo:
            return 0
    odoo_run = run_phase(args, "odoo", copy)
    confirm = run_phase(args, "confirm", args.database)
    sizes = run_phase(args, "confirm-sizes", args.database)
    ratio = billrun["seconds"] / odoo_run["seconds"] if odoo_run["seconds"] else 0
    balances = billrun["balances"] or 1
    print()
    print(f"items                               {data['items']}")
    print(f"balances billed                     {billrun['balances']}")
    print(f"consolidated invoices               {billrun['invoices']}")
    print(
        f"bill run                            {billrun['seconds']:.2f} s "
        f"({billrun['load']})"
    )
    print(
        f"Odoo _create_invoices(grouped=False) {odoo_run['seconds']:.2f} s "
        f"({odoo_run['orders']} orders -> {odoo_run['invoices']} invoices; "
        f"{odoo_run['load']})"
    )
    print(f"ratio bill run / Odoo               {ratio:.2f}")
    print(f"SQL queries per balance (bill run)  {billrun['queries'] / balances:.1f}")
    print(f"SQL queries per balance (Odoo)      {odoo_run['queries'] / balances:.1f}")
    print(f"peak memory bill run                {billrun['peak_rss_mb']:.0f} MiB")
    print(f"peak memory Odoo                    {odoo_run['peak_rss_mb']:.0f} MiB")
    per_order = 1000 / (confirm["orders"] or 1)
    print(
        f"confirm {confirm['orders']} orders onto balances  "
        f"{confirm['balance_seconds']:.2f} s "
        f"({confirm['balance_seconds'] * per_order:.1f} ms/order, "
        f"{confirm['items']} items; {confirm['load']})"
    )
    print(
        f"confirm + invoice at once (Odoo)    {confirm['invoice_seconds']:.2f} s "
        f"({confirm['invoice_seconds'] * per_order:.1f} ms/order, "
        f"{confirm['invoices']} invoices)"
    )
    ratio_confirm = confirm["balance_seconds"] / (confirm["invoice_seconds"] or 1)
    print(f"ratio balance / invoice at once     {ratio_confirm:.2f}")
    return print_confirm_sizes(sizes)


def print_confirm_sizes(sizes):
    """ms and queries per order confirmed onto balances of growing size."""
    for size in sizes["sizes"]:
        print(
            f"confirm onto a balance of {size['items_before']:>4} items "
            f"{size['ms_per_order']:.1f} ms/order, "
            f"{size['queries_per_order']:.0f} queries/order ({size['orders']} "
            f"orders onto {size['on_balance']} balance, its items one row in "
            f"{size.get('spread', 1)} of the table; {sizes['load']})"
        )
    return 0


def print_preview(preview):
    if preview.get("skipped"):
        print(
            f"bill run preview                    skipped: no model {PREVIEW_MODEL}",
            flush=True,
        )
        return
    print(
        f"bill run preview                    {preview['seconds']:.2f} s "
        f"({preview['lines']} lines, {preview['queries']} queries; "
        f"{preview['load']})",
        flush=True,
    )


def print_scaling(args, billrun, workers, check, exit_on_failure=True):
    """Print how the bill run scales: ``billrun`` (one worker: seconds, lines,
    balances, load), ``workers`` (N workers: seconds, detail, load), ``check``
    (the check phase on the database the N workers billed). Returns whether
    every balance was billed exactly once."""
    single = billrun["lines"] / billrun["seconds"] if billrun["seconds"] else 0
    several = check["lines"] / workers["seconds"] if workers["seconds"] else 0
    duplicates = check["balances_twice"] + check["items_twice"]
    print(f"balances billed                     {billrun['balances']}")
    print(f"invoice lines                       {billrun['lines']}")
    print(
        f"1 worker                            {billrun['seconds']:.2f} s, "
        f"{single:.0f} invoice lines/s ({billrun['load']})"
    )
    print(
        f"{args.workers} workers                           "
        f"{workers['seconds']:.2f} s, {several:.0f} invoice lines/s "
        f"({workers['detail']}; {workers['load']})"
    )
    print(
        f"ratio {args.workers} workers / 1 worker           "
        f"{several / (single or 1):.2f} ({workers['load']})"
    )
    print(
        f"balances billed by {args.workers} workers          "
        f"{check['balances_billed']} ({check['invoices']} invoices, "
        f"{check['lines']} lines; left due {check['left_due']}, "
        f"failed {check['failed']})"
    )
    print(
        f"duplicates                          {duplicates} "
        f"(balances with two invoices {check['balances_twice']}, items on two "
        f"lines {check['items_twice']}, items of billed balances not invoiced "
        f"{check['items_not_invoiced']})"
    )
    print(
        f"run records                         {check['runs']} "
        f"({check['run_billed']} billed, {'/'.join(check['run_states'])})"
    )
    ok = (
        not duplicates
        and not check["items_not_invoiced"]
        and not check["left_due"]
        and not check["failed"]
        and check["balances_billed"] == billrun["balances"]
        and check["lines"] == billrun["lines"]
    )
    print(
        "every balance billed exactly once   "
        + ("yes" if ok else "NO: see the figures above")
    )
    if not ok and exit_on_failure:
        raise SystemExit(1)
    return ok


if __name__ == "__main__":
    sys.exit(main())
