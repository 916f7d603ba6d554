"""The bill run on real Odoo servers, for bench.py.

``--engine queue_job``: on copies of the bench database, real servers (``odoo -c
<conf> --workers N`` with ``server_wide_modules = base,web,queue_job``) bill the
generated data the way a deployment does: the scheduler's cron is triggered
(``ir.cron._trigger()``) and picked by the servers' cron workers; with
customer_balance_queue_job it hands the due balances to jobs that queue_job's runner
dispatches to the HTTP workers of one server, or of two (``--servers 2``: two HTTP
ports sharing the database, the runner in the first, its requests spread over both
by a round-robin TCP proxy on loopback, as a load balancer in front of two servers
does). The baseline is one cron on one server without the job queue. ``--kill``
SIGKILLs a server (its whole process group: master, workers, runner) in the middle
of the run and restarts it; queue_job's runner requeues the dead jobs.

``--load N``: N HTTP clients (threads, loopback only) log in as portal members and
accept quotations (the portal's sign and accept route, which confirms the order
without payment) onto a few company balances and many member balances, and read
``/my/balances``, on ``odoo --workers 2``, while the bill run of the same period
runs; then every confirmed order is checked.
"""

import configparser
import json
import math
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from contextlib import closing
from datetime import date, datetime, timedelta

PERIOD_START = date(2026, 10, 1)  # a past month: its balances are due now
CRON_XMLID = "customer_balance.ir_cron_consolidate_due"
QUEUE_ADDON = "customer_balance_queue_job"
CHANNEL = "root.customer_balance"
LOG_DIR = "/tmp/customer_balance_bench"
LOAD_PASSWORD = "bench-load"  # noqa: S105 - throw-away portal users of a bench copy
# A signature as the portal's signature pad sends it (a 1x1 PNG).
SIGNATURE = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def loadavg():
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# ------------------------------------------------------------------ database ---


def db_options(config_path):
    parser = configparser.RawConfigParser()
    parser.read(config_path)
    options = dict(parser.items("options")) if parser.has_section("options") else {}
    params = {}
    for key, name in (
        ("db_host", "host"),
        ("db_port", "port"),
        ("db_user", "user"),
        ("db_password", "password"),
    ):
        value = options.get(key)
        if value and value not in ("False", "None"):
            params[name] = value
    return params


def sql(args, database, query, params=()):
    """Run one statement on ``database`` in autocommit; its rows, if any."""
    import psycopg2  # noqa: PLC0415 - Odoo's Python has it

    connection = psycopg2.connect(dbname=database, **db_options(args.config))
    connection.autocommit = True
    with closing(connection), connection.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchall() if cr.description else None


def copy_database(args, source, target):
    """A copy of ``source`` (CREATE DATABASE ... TEMPLATE, as ``createdb -T``;
    attachments are in the database, no filestore to copy)."""
    sql(args, "postgres", f'DROP DATABASE IF EXISTS "{target}"')
    sql(args, "postgres", f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def install_queue_addon(args, database):
    """Install customer_balance_queue_job (and queue_job) the way dev.sh installs
    the module: ``odoo -i`` without HTTP."""
    log = f"{LOG_DIR}/install-{database}.log"
    command = [
        args.odoo_bin,
        "-c",
        args.config,
        "-d",
        database,
        "-i",
        QUEUE_ADDON,
        "--stop-after-init",
        "--no-http",
        "--log-level=warn",
        f"--logfile={log}",
    ]
    if subprocess.run(command, check=False).returncode:
        raise SystemExit(f"installing {QUEUE_ADDON} into {database} failed ({log})")
    rows = sql(
        args,
        database,
        "SELECT state FROM ir_module_module WHERE name = %s",
        (QUEUE_ADDON,),
    )
    if not rows or rows[0][0] != "installed":
        raise SystemExit(f"{QUEUE_ADDON} is not installed in {database} ({log})")


# ------------------------------------------------------------------- servers ---

_ports_taken = set()


def free_port(args):
    """A free loopback TCP port from ``--port-base`` upwards."""
    port = args.port_base
    while True:
        if port not in _ports_taken:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    pass
                else:
                    _ports_taken.add(port)
                    return port
        port += 1
        if port > args.port_base + 200:
            raise SystemExit(f"no free port from {args.port_base}")


class Server:
    """One Odoo server (prefork, its own process group) on ``database``."""

    def __init__(
        self,
        args,
        name,
        database,
        workers,
        queue=False,
        runner=False,
        channels="",
        runner_port=None,
        cron_threads=1,
    ):
        self.args = args
        self.name = name
        self.database = database
        self.workers = workers
        self.queue = queue
        self.runner = runner
        self.channels = channels
        self.cron_threads = cron_threads
        self.port = free_port(args)
        self.gevent_port = free_port(args)
        self.runner_port = runner_port or self.port
        self.conf = f"{LOG_DIR}/{database}-{name}.conf"
        self.log = f"{LOG_DIR}/{database}-{name}.log"
        self.process = None
        self.starts = 0

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def retries_since(self, offset):
        """Requests Odoo retried since ``offset`` of the log (a serialization
        failure or a concurrency error: ``... tries left, try again``)."""
        if not os.path.exists(self.log):
            return 0
        with open(self.log, errors="replace") as log:
            log.seek(offset)
            return sum(1 for line in log if "tries left, try again" in line)

    def describe(self):
        wide = "base,web,queue_job" if self.queue else "base,web"
        runner = (
            f", job runner -> 127.0.0.1:{self.runner_port}"
            if self.runner
            else (", no job runner" if self.queue else "")
        )
        return (
            f"server {self.name}: odoo -c {self.conf} (--workers {self.workers}, "
            f"max_cron_threads {self.cron_threads}, server_wide_modules {wide}, "
            f"http 127.0.0.1:{self.port}{runner})"
        )

    def write_conf(self):
        parser = configparser.RawConfigParser()
        parser.read(self.args.config)
        if not parser.has_section("options"):
            parser.add_section("options")
        options = parser["options"]
        # Long jobs and bill runs: the limits must not kill a worker billing a
        # chunk of large balances (a deployment sizes them the same way).
        options.update(
            {
                "http_interface": "127.0.0.1",
                "http_port": str(self.port),
                "gevent_port": str(self.gevent_port),
                "workers": str(self.workers),
                "max_cron_threads": str(self.cron_threads),
                "db_name": self.database,
                "dbfilter": f"^{self.database}$",
                "list_db": "False",
                "server_wide_modules": "base,web,queue_job"
                if self.queue
                else "base,web",
                "logfile": self.log,
                "log_level": "info",
                "limit_time_real": "3600",
                "limit_time_cpu": "3600",
                "limit_time_real_cron": "3600",
                "limit_memory_soft": str(4 * 1024**3),
                "limit_memory_hard": str(5 * 1024**3),
                "limit_request": "100000",
            }
        )
        if parser.has_section("queue_job"):
            parser.remove_section("queue_job")
        if self.queue:
            parser.add_section("queue_job")
            # root:0 keeps this server's runner off (queue_job's own switch).
            parser["queue_job"]["channels"] = self.channels if self.runner else "root:0"
            parser["queue_job"]["host"] = "127.0.0.1"
            parser["queue_job"]["port"] = str(self.runner_port)
        with open(self.conf, "w") as conf:
            parser.write(conf)

    def start(self, timeout=180):
        self.write_conf()
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n===== bench: start #{self.starts} =====\n")
        self.process = subprocess.Popen(  # noqa: S603
            [self.args.odoo_bin, "-c", self.conf],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log + ".stderr", "a"),  # noqa: SIM115
            start_new_session=True,  # its own process group: killed as a whole
        )
        self.wait_ready(timeout)
        if self.queue and self.runner:
            self.wait_runner(timeout)

    def wait_runner(self, timeout):
        """Until queue_job's runner of this start says its database is ready
        (it starts a few seconds after the workers): not timed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log) as log:
                text = log.read().rsplit("===== bench: start #", 1)[-1]
            if "database connections ready" in text:
                return
            time.sleep(0.5)
        raise SystemExit(f"the job runner of {self.name} did not start ({self.log})")

    def wait_ready(self, timeout):
        import requests  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server {self.name} exited (log: {self.log})")
            try:
                response = requests.get(
                    f"http://127.0.0.1:{self.port}/web/health", timeout=2
                )
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"server {self.name} did not answer (log: {self.log})")

    def stop(self):
        """Graceful stop (SIGTERM to the master), then SIGKILL what is left."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        self._kill_group()

    def kill(self):
        """SIGKILL the whole server: master, HTTP, cron and runner workers."""
        self._kill_group()

    def _kill_group(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


class RoundRobinProxy:
    """A TCP proxy on loopback spreading connections over ``backends`` in turn,
    skipping one that refuses (a killed server): the load balancer in front of
    two servers."""

    def __init__(self, args, backends):
        self.backends = backends
        self.port = free_port(args)
        self.turn = 0
        self.counts = Counter()
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with self.lock:
            order = [
                self.backends[(self.turn + n) % len(self.backends)]
                for n in range(len(self.backends))
            ]
            self.turn += 1
        for port in order:
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            self.counts[port] += 1
            threading.Thread(
                target=self._pump, args=(upstream, client), daemon=True
            ).start()
            self._pump(client, upstream)
            return
        client.close()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stopped = True
        self.listener.close()


# ---------------------------------------------------------- phases (in Odoo) ---


def phase_servers_prepare(env, args):
    """The bench data made ready for servers: the daily cron far in the future
    (only the bench's trigger starts it), balances shown in the portal."""
    cron = env.ref(CRON_XMLID)
    cron.nextcall = datetime.now() + timedelta(days=30)
    env.company.balance_portal_visible = True
    if args.chunk_size:
        env["ir.config_parameter"].sudo().set_param(
            "customer_balance_queue_job.chunk_size", str(args.chunk_size)
        )
    Balance = env["customer.balance"]
    return {
        "due": Balance.search_count(Balance._get_due_domain()),
        "chunk_size": env["ir.config_parameter"]
        .sudo()
        .get_param("customer_balance_queue_job.chunk_size", "20 (default)"),
    }


def phase_trigger(env, args):
    """Start the daily bill run as the scheduler does: a trigger of the cron,
    picked up by the servers' cron workers (notified on commit)."""
    env.ref(CRON_XMLID)._trigger()
    env.cr.commit()
    return {"triggered": time.time()}


def phase_set_queue(env, args):
    """Whether the bill run goes through the job queue on this copy."""
    env["ir.config_parameter"].sudo().set_param(
        "customer_balance_queue_job.enabled", args.queue_param
    )
    return {}


def phase_load_prepare(env, args):
    """Portal members and the quotations they accept: members of a few companies
    (their orders go on the companies' balances) and many members on their own
    (a balance each). Each quotation is signed and accepted in the portal; its
    line is a desk day in the period being billed, so that it races the bill
    run: it lands on the period's balance before that is billed, or on the next
    open balance after."""
    from odoo import Command  # noqa: PLC0415

    rng = random.Random(args.seed)
    company = env.company
    company.balance_portal_visible = True
    product = env["product.product"].search([("name", "=", "Desk day")], limit=1)
    companies = env["res.partner"].search(
        [("name", "=like", "Company %"), ("is_company", "=", True)],
        order="name",
        limit=args.load_companies,
    )
    employees = env["res.partner"]
    for partner in companies:
        employees |= env["res.partner"].search(
            [("parent_id", "=", partner.id), ("name", "=like", "Member %")],
            order="name",
            limit=4,
        )
    individuals = env["res.partner"].create(
        [
            {"name": f"Load Solo {n:03d}", "email": f"solo{n}@bench.example"}
            for n in range(args.load_members)
        ]
    )
    partners = employees | individuals
    portal = env.ref("base.group_portal")
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": partner.name,
                    "login": f"bench-load-{partner.id}",
                    "partner_id": partner.id,
                    "group_ids": [Command.set(portal.ids)],
                }
                for partner in partners
            ]
        )
    )
    # One hash for all (hashing costs half a second each): set in SQL.
    env.cr.execute(
        "UPDATE res_users SET password = %s WHERE id IN %s",
        (env["res.users"]._crypt_context().hash(LOAD_PASSWORD), tuple(users.ids)),
    )
    clients = max(1, args.load)
    logins = [user.login for user in users]
    by_client = [logins[n::clients] for n in range(clients)]
    user_of = {user.login: user for user in users}

    def quotations(client_logins, count, tag):
        vals = []
        for n in range(count):
            user = user_of[client_logins[n % len(client_logins)]]
            day = billed_month_day(rng)
            vals.append(
                {
                    "partner_id": user.partner_id.id,
                    "client_order_ref": tag,
                    "require_signature": True,
                    "require_payment": False,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "service_start": day,
                            }
                        )
                    ],
                }
            )
        orders = env["sale.order"].create(vals)
        orders.action_quotation_sent()
        return [
            [order.id, order._portal_ensure_token(), user_of_partner[order.partner_id]]
            for order in orders
        ]

    user_of_partner = {user.partner_id: user.login for user in users}
    # The quiet baseline: the same clients at once, before the bill run, so that
    # what the run costs checkout is told apart from the clients queueing.
    quiet = []
    for client_logins in by_client:
        if client_logins:
            quiet += quotations(
                client_logins, max(1, args.quiet_orders // clients), "bench-quiet"
            )
    load = []
    for client_logins in by_client:
        if client_logins:
            load += quotations(client_logins, args.load_orders, "bench-load")
    env.cr.commit()
    with open(args.load_file, "w") as handle:
        json.dump(
            {
                "clients": by_client,
                "quiet": quiet,
                "load": load,
                "companies": len(companies),
                "employees": len(employees),
                "individuals": len(individuals),
            },
            handle,
        )
    return {
        "users": len(users),
        "quiet": len(quiet),
        "load": len(load),
        "companies": len(companies),
        "employees": len(employees),
        "individuals": len(individuals),
    }


def billed_month_day(rng):
    """A desk day at 9:00 in the generated (billed) month."""
    return datetime.combine(
        PERIOD_START.replace(day=rng.randint(1, 28)), datetime.min.time()
    ).replace(hour=9)


def phase_load_check(env, args, run_check):
    """Every confirmed load order has exactly one item, on exactly one
    consolidated invoice (its balance's) or pending on an open balance not due
    yet (the next one)."""
    with open(args.load_file) as handle:
        data = json.load(handle)
    with open(args.load_file + ".accepted") as handle:
        accepted = set(json.load(handle))
    ids = [row[0] for row in data["quiet"] + data["load"]]
    orders = env["sale.order"].browse(ids)
    Balance = env["customer.balance"]
    due = Balance._get_due_domain(with_errors=True)
    # The run of the load (the latest one); balances opened before it started
    # and still due are balances it missed.
    run = env["customer.balance.run"].search([], limit=1)
    run_start = run.date_start or datetime.now()
    outcome = Counter()
    problems = []
    for order in orders:
        confirmed = order.state == "sale"
        if order.id in accepted and not confirmed:
            outcome["lost"] += 1
            problems.append(f"{order.name} accepted but {order.state}")
            continue
        if not confirmed:
            outcome["not confirmed"] += 1
            continue
        outcome["confirmed"] += 1
        if order.id not in accepted:
            outcome["confirmed, client saw an error"] += 1
        items = order.order_line.balance_line_ids.filtered(
            lambda item: item.state != "cancel"
        )
        if len(items) != 1:
            outcome["not exactly one item"] += 1
            problems.append(f"{order.name} has {len(items)} items")
            continue
        item = items
        balance = item.balance_id
        if item.state == "invoiced":
            move = item.invoice_line_id.move_id
            if (
                balance.state == "invoiced"
                and move
                and move == balance.invoice_id
                and move.balance_id == balance
            ):
                outcome["on one consolidated invoice"] += 1
            else:
                outcome["invoiced elsewhere"] += 1
                problems.append(f"{order.name}: item invoiced on {move.name}")
        elif balance.state == "open" and not balance.filtered_domain(due):
            outcome["pending on the next open balance"] += 1
        elif balance.state == "open" and balance.create_date >= run_start:
            # A late item of the billed month for a member without a balance
            # of it: a balance of that month, opened during the run.
            outcome["pending on a balance opened during the run (due)"] += 1
        else:
            outcome["pending on a due or closed balance"] += 1
            problems.append(
                f"{order.name}: item pending on {balance.name} ({balance.state})"
            )
    check = run_check(env, args)
    return {"outcome": dict(outcome), "problems": problems[:10], "check": check}


# ------------------------------------------------------------- engine runs ---


class Harness:
    """What bench.py gives this module: its phase runner and its printer."""

    def __init__(self, args, run_phase, print_scaling):
        self.args = args
        self.run_phase = run_phase
        self.print_scaling = print_scaling
        os.makedirs(LOG_DIR, exist_ok=True)
        # Stopped by a signal (also when started in the background, where SIGINT
        # is ignored): the servers are stopped on the way out.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)

    def phase(self, name, database, **extra):
        return self.run_phase(self.args, name, database, **extra)

    def latest_run(self, database):
        rows = sql(
            self.args,
            database,
            "SELECT id, state, trigger FROM customer_balance_run ORDER BY id DESC "
            "LIMIT 1",
        )
        return rows[0] if rows else None

    def invoiced_count(self, database):
        return sql(
            self.args,
            database,
            "SELECT count(*) FROM customer_balance WHERE state = 'invoiced'",
        )[0][0]

    def busy_jobs(self, database, server):
        """How many jobs ``server``'s workers are running now."""
        pids = sql(
            self.args,
            database,
            "SELECT worker_pid FROM queue_job WHERE state = 'started' AND channel = %s",
            (CHANNEL,),
        )
        busy = 0
        for (pid,) in pids:
            try:
                busy += bool(pid) and os.getpgid(pid) == server.process.pid
            except ProcessLookupError:
                pass
        return busy

    def progress(self, database):
        """What changes while a bill run works: billed balances, run outcomes."""
        return sql(
            self.args,
            database,
            "SELECT (SELECT count(*) FROM customer_balance WHERE state = "
            "'invoiced'), (SELECT count(*) FROM customer_balance_run_line)",
        )[0]

    def waiting_jobs(self, database):
        exists = sql(
            self.args,
            database,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = "
            "'queue_job'",
        )[0][0]
        if not exists:
            return 0
        return sql(
            self.args,
            database,
            "SELECT count(*) FROM queue_job WHERE channel = %s AND state IN "
            "('wait_dependencies', 'pending', 'enqueued', 'started')",
            (CHANNEL,),
        )[0][0]

    def wait_run(self, database, since_id, timeout, on_poll=None):
        """Wait until the bill run record started after ``since_id`` is done or
        failed (and, with the job queue, no job of its channel is waiting).
        Returns ``(state, time)``: state ``timeout`` when ``timeout`` seconds
        passed, ``stalled`` when nothing was billed for ``--stall-seconds``
        while the run record still says running (its cron or jobs ended without
        ending it)."""
        started = last_change = time.time()
        last = None
        while time.time() - started < timeout:
            run = self.latest_run(database)
            waiting = self.waiting_jobs(database)
            if run and run[0] > since_id and run[1] in ("done", "failed"):
                if not waiting:
                    return run[1], time.time()
            progress = self.progress(database)
            if progress != last:
                last, last_change = progress, time.time()
            elif time.time() - last_change > self.args.stall_seconds:
                return "stalled", last_change
            if on_poll:
                on_poll()
            time.sleep(0.2)
        return "timeout", time.time()

    def ready_database(self, queue):
        """The bench data (generated and confirmed) on a copy, prepared for
        servers; with ``queue``, customer_balance_queue_job installed."""
        ready = f"{self.args.database}_servers{'_qj' if queue else ''}"
        copy_database(self.args, self.args.database, ready)
        if queue:
            install_queue_addon(self.args, ready)
        prepared = self.phase("servers-prepare", ready)
        return ready, prepared

    def bill_on_servers(self, database, servers, kill=None, proxy=None):
        """Start ``servers``, trigger the bill run, wait for its run record, stop
        them. ``kill``: the server to SIGKILL once a third of the due balances is
        billed, restarted two seconds later. Returns the figures."""
        due = self.phase("servers-prepare", database)["due"]
        since = (self.latest_run(database) or (0,))[0]
        for server in servers:
            server.start()
        killed = {}
        try:
            trigger = self.phase("trigger", database)["triggered"]

            def maybe_kill():
                # In the middle of the run, while the victim runs a job (else,
                # at two thirds, whatever it runs).
                if not kill or killed:
                    return
                billed = self.invoiced_count(database)
                if billed < max(1, due // 4):
                    return
                busy = self.busy_jobs(database, kill)
                if busy or billed >= (2 * due) // 3:
                    killed.update(
                        at=time.time() - trigger,
                        billed=billed,
                        load=loadavg(),
                        name=kill.name,
                        busy=busy,
                    )
                    kill.kill()
                    time.sleep(2)
                    kill.start()
                    killed["restarted"] = time.time() - trigger

            state, ended = self.wait_run(
                database, since, self.args.timeout, on_poll=maybe_kill
            )
            figure_load = loadavg()
        finally:
            for server in servers:
                server.stop()
            if proxy:
                proxy.close()
        check = self.phase("check", database)
        jobs = queue_job_stats(self.args, database)
        return {
            "state": state,
            "seconds": ended - trigger,
            "lines": check["lines"],
            "balances": check["balances_billed"],
            "due": due,
            "check": check,
            "jobs": jobs,
            "killed": killed,
            "load": figure_load,
            "proxy": dict(proxy.counts) if proxy else {},
        }

    def queue_servers(self, database, workers, servers_count):
        """One or two servers with queue_job: ``workers`` HTTP workers in all, the
        channel capacity ``workers``, the runner in the first."""
        per_server = max(1, math.ceil(workers / servers_count))
        channels = f"root:{workers},{CHANNEL}:{workers}"
        first = Server(
            self.args,
            "a",
            database,
            per_server,
            queue=True,
            runner=True,
            channels=channels,
        )
        servers = [first]
        proxy = None
        if servers_count > 1:
            second = Server(self.args, "b", database, per_server, queue=True)
            servers.append(second)
            proxy = RoundRobinProxy(self.args, [first.port, second.port])
            first.runner_port = proxy.port
        return servers, proxy

    def run_queue_engine(self):
        """``--engine queue_job``: one cron on one server, then the job queue on
        ``--servers`` servers with ``--workers`` workers; print the scaling."""
        args = self.args
        ready, prepared = self.ready_database(queue=True)
        print(
            f"engine queue_job: {prepared['due']} due balances, "
            f"{prepared['chunk_size']} balances per job; logs and "
            f"configurations in {LOG_DIR}",
            flush=True,
        )
        cron_db = f"{args.database}_cron"
        copy_database(args, ready, cron_db)
        self.phase("set-queue", cron_db, queue_param="0")
        baseline = Server(args, "cron", cron_db, 1, queue=False)
        print("1 worker: " + baseline.describe(), flush=True)
        single = self.bill_on_servers(cron_db, [baseline])
        queue_db = f"{args.database}_queue"
        copy_database(args, ready, queue_db)
        servers, proxy = self.queue_servers(queue_db, args.workers, args.servers)
        for server in servers:
            print(f"{args.workers} workers: " + server.describe(), flush=True)
        if proxy:
            print(
                f"round-robin proxy 127.0.0.1:{proxy.port} -> "
                f"{', '.join(str(s.port) for s in servers)} (the runner's target)",
                flush=True,
            )
        victim = servers[-1] if args.kill else None
        several = self.bill_on_servers(queue_db, servers, kill=victim, proxy=proxy)
        jobs = several["jobs"]
        print()
        print(
            f"engine                              queue_job ({args.servers} "
            f"server(s), {args.workers} workers, channel {CHANNEL}:{args.workers}); "
            "1 worker = the scheduled action on one server (no job queue)"
        )
        print(
            f"run record 1 worker                 {single['state']} "
            f"({single['check']['run_summary']})"
        )
        print(
            f"run record {args.workers} workers              {several['state']} "
            f"({several['check']['run_summary']})"
        )
        print(
            f"jobs                                {jobs['summary']} "
            f"(jobs per worker pid: {jobs['per_worker'] or '-'})"
            + (
                f"; proxy connections per port: {several['proxy']}"
                if several["proxy"]
                else ""
            )
        )
        ok = self.print_scaling(
            args,
            {
                "seconds": single["seconds"],
                "lines": single["lines"],
                "balances": single["balances"],
                "load": single["load"],
            },
            {
                "seconds": several["seconds"],
                "detail": f"jobs per worker: {jobs['per_worker'] or '-'}",
                "load": several["load"],
            },
            several["check"],
            exit_on_failure=False,
        )
        ok = ok and single["state"] == "done" and several["state"] == "done"
        if args.kill:
            ok = self.print_kill(several) and ok
        if not ok:
            raise SystemExit(1)
        return 0

    def print_kill(self, several):
        killed = several["killed"]
        check = several["check"]
        jobs = several["jobs"]
        if not killed:
            print(
                "killed                              NO: the run ended before a "
                "third of the balances was billed (use more --items)"
            )
            return False
        print(
            f"killed                              server {killed['name']} by "
            f"SIGKILL of its process group at {killed['at']:.1f} s, "
            f"{killed['billed']}/{several['due']} balances billed, "
            f"{killed['busy']} of its jobs running "
            f"({killed['load']}); restarted at {killed['restarted']:.1f} s"
        )
        print(
            f"requeued                            {jobs['retried']} jobs ran more "
            f"than once (queue_job's requeue of dead jobs), {jobs['failed']} failed"
        )
        twice = check["balances_twice"] + check["items_twice"]
        ok = (
            not twice
            and not check["left_due"]
            and not check["failed"]
            and not check["items_not_invoiced"]
            and several["state"] == "done"
        )
        print(
            f"after the kill                      billed twice {twice}, billed "
            f"{check['balances_billed']}/{several['due']}, left due "
            f"{check['left_due']}, failed {check['failed']}, run "
            f"{several['state']}"
        )
        print("no balance billed twice, the rest billed  " + ("yes" if ok else "NO"))
        return ok

    # ----------------------------------------------------------------- load ---

    def run_load(self):
        """``--load N``: portal confirmations under the bill run."""
        args = self.args
        queue = args.engine == "queue_job"
        ready, prepared = self.ready_database(queue=queue)
        load_db = f"{args.database}_load"
        copy_database(args, ready, load_db)
        args.load_file = f"{LOG_DIR}/{load_db}-orders.json"
        if queue:
            self.phase("set-queue", load_db, queue_param="1")
        made = self.phase("load-prepare", load_db, load_file=args.load_file)
        with open(args.load_file) as handle:
            data = json.load(handle)
        workers = args.load_workers
        capacity = max(1, workers - 1)
        server = Server(
            args,
            "load",
            load_db,
            workers,
            queue=queue,
            runner=queue,
            channels=f"root:{capacity},{CHANNEL}:{capacity}",
        )
        print(
            f"load: {args.load} clients on {server.describe()}; "
            f"{made['users']} portal members ({made['employees']} of "
            f"{made['companies']} companies sharing their balances, "
            f"{made['individuals']} on their own); {prepared['due']} due "
            f"balances; bill run by "
            + ("queue_job jobs" if queue else "the scheduled action"),
            flush=True,
        )
        print(
            "confirmation path: the portal's quotation sign and accept "
            "(POST /my/orders/<id>/accept, JSON-RPC, as the member): Odoo's own "
            "route that confirms an order without payment, in sale (no shop to "
            "install), rendering the signed order's PDF as in production",
            flush=True,
        )
        # wkhtmltopdf fetches the report's assets from report.url: on a server of
        # two workers both busy rendering, it would wait on itself. A closed
        # loopback port makes it render without them, at once.
        sql(
            args,
            load_db,
            "INSERT INTO ir_config_parameter (key, value) VALUES ('report.url', "
            "%s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (f"http://127.0.0.1:{free_port(args)}",),
        )
        since = (self.latest_run(load_db) or (0,))[0]
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        accepted = set()
        try:
            clients = [
                LoadClient(base, logins, number)
                for number, logins in enumerate(data["clients"])
                if logins
            ]
            for client in clients:  # logins are not measured
                client.login_all()
            quiet_of = {}
            for row in data["quiet"]:
                quiet_of.setdefault(row[2], []).append(row)
            quiet_started = time.monotonic()
            quiet_log = server.log_size()
            self.run_clients(
                clients,
                quiet_of,
                deadline=quiet_started + args.load_seconds,
                stop=None,
                balances_every=2,
            )
            quiet_figures = {
                "clients": len(clients),
                "confirms": [ms for c in clients for _at, ms in c.confirm_ms],
                "reads": [ms for c in clients for ms in c.read_ms],
                "seconds": time.monotonic() - quiet_started,
                "retries": server.retries_since(quiet_log),
            }
            load_log = server.log_size()
            quiet_load = loadavg()
            for client in clients:
                accepted |= client.accepted
            for client in clients:
                client.reset()
            orders_of = {}
            for row in data["load"]:
                orders_of.setdefault(row[2], []).append(row)
            stop = threading.Event()
            trigger = self.phase("trigger", load_db)["triggered"]
            started = time.time()
            threads = self.run_clients(
                clients,
                orders_of,
                deadline=time.monotonic() + args.load_seconds,
                stop=stop,
                balances_every=2,
                wait=False,
            )
            state, run_ended = self.wait_run(load_db, since, args.load_seconds)
            # The clients go on until the run is done: the figures cover all of it.
            stop.set()
            for thread in threads:
                thread.join(timeout=args.load_seconds + 120)
            ended = time.time()
            under_load = loadavg()
            load_retries = server.retries_since(load_log)
            if state == "timeout":
                state, run_ended = self.wait_run(load_db, since, args.timeout)
        finally:
            server.stop()
        for client in clients:
            accepted |= client.accepted
        with open(args.load_file + ".accepted", "w") as handle:
            json.dump(sorted(accepted), handle)
        result = self.phase("load-check", load_db, load_file=args.load_file)
        self.print_load(
            clients,
            quiet_figures,
            quiet_load,
            under_load,
            {
                "trigger": trigger,
                "started": started,
                "ended": ended,
                "run_state": state,
                "run_ended": run_ended,
                "retries": load_retries,
            },
            result,
        )
        return 0

    @staticmethod
    def run_clients(clients, rows_of, deadline, stop, balances_every, wait=True):
        """Each client in its thread on its members' orders, oldest first."""
        threads = []
        for client in clients:
            rows = [row for login in client.logins for row in rows_of.get(login, [])]
            rows.sort(key=lambda row: row[0])
            thread = threading.Thread(
                target=client.run,
                args=(rows,),
                kwargs={
                    "deadline": deadline,
                    "stop": stop,
                    "balances_every": balances_every,
                },
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        if wait:
            for thread in threads:
                thread.join()
        return threads

    def print_load(self, clients, quiet, quiet_load, under_load, times, result):
        confirms = [ms for client in clients for _at, ms in client.confirm_ms]
        during = [
            ms
            for client in clients
            for at, ms in client.confirm_ms
            if at < times["run_ended"]
        ]
        reads = [ms for client in clients for ms in client.read_ms]
        errors = Counter()
        for client in clients:
            errors.update(client.errors)
        seconds = times["ended"] - times["started"]
        check = result["check"]
        outcome = result["outcome"]
        print()
        print(
            f"quiet server (no bill run, {quiet['clients']} clients) "
            f"{len(quiet['confirms'])} confirmations in {quiet['seconds']:.1f} s = "
            f"{len(quiet['confirms']) / (quiet['seconds'] or 1):.2f} orders/s, "
            f"p50 {percentile(quiet['confirms'], 50):.0f} ms, p95 "
            f"{percentile(quiet['confirms'], 95):.0f} ms; /my/balances "
            f"{len(quiet['reads'])} reads, p95 {percentile(quiet['reads'], 95):.0f} "
            f"ms ({quiet_load})"
        )
        print(
            f"under load ({len(clients)} clients, bill run) {len(confirms)} "
            f"confirmations in {seconds:.1f} s = {len(confirms) / (seconds or 1):.2f} "
            f"orders/s, p50 {percentile(confirms, 50):.0f} ms, p95 "
            f"{percentile(confirms, 95):.0f} ms ({under_load})"
        )
        print(
            f"  started before the run ended      {len(during)}, p50 "
            f"{percentile(during, 50):.0f} ms, p95 {percentile(during, 95):.0f} ms"
        )
        print(
            f"/my/balances reads under load       {len(reads)}, p50 "
            f"{percentile(reads, 50):.0f} ms, p95 {percentile(reads, 95):.0f} ms"
        )
        print(
            f"p95 confirmation, {len(clients)} clients       quiet "
            f"{percentile(quiet['confirms'], 95):.0f} ms, under load "
            f"{percentile(confirms, 95):.0f} ms"
        )
        run_end = times["run_ended"] - times["trigger"]
        print(
            f"bill run                            {times['run_state']} "
            f"{run_end:.1f} s after its trigger; clients ran from "
            f"{times['started'] - times['trigger']:.1f} s to "
            f"{times['ended'] - times['trigger']:.1f} s"
            + (
                ""
                if times["ended"] >= times["run_ended"]
                else " (NOT overlapping the whole run: orders or time ran out)"
            )
        )
        print(
            f"retried by Odoo                     quiet {quiet['retries']}, under "
            f"load {times['retries']} (a serialization failure, two confirmations "
            "updating one balance's totals at once: the request is run again, the "
            "member sees its answer)"
        )
        print(
            "HTTP errors by status               "
            + (
                ", ".join(f"{key}: {count}" for key, count in sorted(errors.items()))
                or "none"
            )
        )
        print(
            "orders                              "
            + ", ".join(f"{key} {count}" for key, count in sorted(outcome.items()))
        )
        duplicates = check["balances_twice"] + check["items_twice"]
        print(
            f"no balance billed twice             balances with two invoices "
            f"{check['balances_twice']}, items on two lines {check['items_twice']}; "
            f"run records {check['run_summary']}"
        )
        bad = [
            key
            for key in (
                "lost",
                "not exactly one item",
                "invoiced elsewhere",
                "pending on a due or closed balance",
            )
            if outcome.get(key)
        ]
        http_500 = sum(count for key, count in errors.items() if str(key) >= "500")
        reasons = []
        if bad:
            reasons.append(", ".join(bad) + ": " + "; ".join(result["problems"]))
        if duplicates:
            reasons.append(f"{duplicates} billed twice")
        if http_500:
            reasons.append(f"{http_500} server errors")
        if times["run_state"] != "done":
            reasons.append(f"the bill run is {times['run_state']}")
        print(
            "under load exactly once "
            + ("yes" if not reasons else "NO: " + "; ".join(reasons))
        )
        if reasons:
            raise SystemExit(1)


def percentile(values, pct):
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


class LoadClient:
    """One HTTP client thread: its members' sessions, the orders it accepts."""

    def __init__(self, base, logins, number):
        self.base = base
        self.logins = logins
        self.number = number
        self.sessions = {}
        self.accepted = set()
        self.reset()

    def reset(self):
        self.confirm_ms = []
        self.read_ms = []
        self.errors = Counter()

    def login_all(self):
        import requests  # noqa: PLC0415

        for login in self.logins:
            session = requests.Session()
            page = session.get(f"{self.base}/web/login", timeout=60)
            token = page.text.split('name="csrf_token" value="', 1)[-1].split('"')[0]
            response = session.post(
                f"{self.base}/web/login",
                data={
                    "login": login,
                    "password": LOAD_PASSWORD,
                    "csrf_token": token,
                    "redirect": "/my",
                },
                timeout=60,
            )
            if response.status_code != 200 or "/web/login" in response.url:
                raise SystemExit(f"portal login of {login} failed ({response.url})")
            self.sessions[login] = session

    def run(self, rows, deadline, stop=None, balances_every=0):
        import requests  # noqa: PLC0415

        for count, (order_id, token, login) in enumerate(rows, start=1):
            if time.monotonic() > deadline or (stop and stop.is_set()):
                return
            session = self.sessions[login]
            if balances_every and count % balances_every == 1:
                self.read_balances(session)
            started_at = time.time()
            started = time.perf_counter()
            try:
                response = session.post(
                    f"{self.base}/my/orders/{order_id}/accept",
                    json={
                        "jsonrpc": "2.0",
                        "method": "call",
                        "id": order_id,
                        "params": {
                            "access_token": token,
                            "name": login,
                            "signature": SIGNATURE,
                        },
                    },
                    timeout=300,
                )
            except requests.RequestException as error:
                self.errors[type(error).__name__] += 1
                continue
            self.confirm_ms.append((started_at, (time.perf_counter() - started) * 1000))
            if response.status_code != 200:
                self.errors[response.status_code] += 1
                continue
            payload = response.json()
            result = payload.get("result") or {}
            if payload.get("error"):
                name = payload["error"].get("data", {}).get("name", "error")
                self.errors[f"200 JSON-RPC {name}"] += 1
            elif result.get("error"):
                self.errors[f"200 refused: {result['error']}"] += 1
            else:
                self.accepted.add(order_id)

    def read_balances(self, session):
        """The member's balances page, as a member checks it after booking."""
        import requests  # noqa: PLC0415

        started = time.perf_counter()
        try:
            page = session.get(f"{self.base}/my/balances", timeout=300)
        except requests.RequestException as error:
            self.errors[type(error).__name__] += 1
            return
        self.read_ms.append((time.perf_counter() - started) * 1000)
        if page.status_code != 200:
            self.errors[f"{page.status_code} /my/balances"] += 1


def queue_job_stats(args, database):
    exists = sql(
        args,
        database,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'queue_job'",
    )[0][0]
    if not exists:
        return {"summary": "none", "per_worker": "", "retried": 0, "failed": 0}
    states = dict(
        sql(
            args,
            database,
            "SELECT state, count(*) FROM queue_job WHERE channel = %s GROUP BY state",
            (CHANNEL,),
        )
    )
    retried = sql(
        args,
        database,
        "SELECT count(*) FROM queue_job WHERE channel = %s AND retry > 1",
        (CHANNEL,),
    )[0][0]
    per_worker = sql(
        args,
        database,
        "SELECT worker_pid, count(*) FROM queue_job WHERE channel = %s AND "
        "method_name = '_bill_due_job' GROUP BY worker_pid ORDER BY worker_pid",
        (CHANNEL,),
    )
    return {
        "summary": ", ".join(
            f"{state} {count}" for state, count in sorted(states.items())
        )
        + f", ran more than once {retried}",
        "per_worker": ", ".join(str(count) for _pid, count in per_worker),
        "retried": retried,
        "failed": states.get("failed", 0),
    }
