#!/usr/bin/env bash
# Developer tooling for the customer_balance addon: run, test, lint, bench.
#
# Odoo is found only by generic means: $ODOO_BIN, else an `odoo` command on PATH; its
# addons path comes from Odoo's own configuration file ($ODOO_RC, else ~/.odoorc).
# PostgreSQL: $PGHOST (or db_host in that file) when set, else a private cluster under
# .dev/ started as an unprivileged user with its own role.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=customer_balance
DEV="$ROOT/.dev"
PGDATA_DIR="$DEV/pg"
PG_PORT=${CB_PG_PORT:-54329}
PG_ROLE=${CB_PG_ROLE:-odoo}
CONF="$DEV/odoo.conf"
# The folder holding a link named after the module to this checkout. It lives outside
# the checkout: a link inside it to itself makes tools that follow links (Odoo's
# translation export, pylint) walk in circles.
LINKS="${TMPDIR:-/tmp}/customer_balance-links-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
HTTP_PORT=${CB_HTTP_PORT:-8069}
RUN_DB=${CB_RUN_DB:-customer_balance_demo}
TEST_DB=${CB_TEST_DB:-customer_balance_test}

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# --------------------------------------------------------------------------- odoo ---

find_odoo() {
    ODOO=${ODOO_BIN:-$(command -v odoo 2>/dev/null || true)}
    [ -n "$ODOO" ] || return 1
    local version
    version=$("$ODOO" --version 2>/dev/null | tail -n 1 || true)
    case "$version" in
        *" 19."*|*" 19"|*"saas~19"*) ;;
        *) say "found $ODOO but it says '${version:-nothing}', not Odoo 19"; return 1 ;;
    esac
    # The Python that runs Odoo (pytest-odoo must run in it).
    ODOO_PY=${ODOO_PYTHON:-}
    if [ -z "$ODOO_PY" ]; then
        local shebang
        shebang=$(head -c 200 "$ODOO" | head -n 1)
        case "$shebang" in
            "#!"*python*) ODOO_PY=${shebang#\#!}; ODOO_PY=${ODOO_PY%% *} ;;
            *) ODOO_PY=python3 ;;
        esac
    fi
    return 0
}

no_odoo_help() {
    cat >&2 <<'MSG'
Odoo 19 was not found. The tooling looks for it the way Odoo users expect:
  - the command in $ODOO_BIN, else an `odoo` command on PATH (Odoo 19 Community);
  - Odoo's configuration file ($ODOO_RC, else ~/.odoorc) for addons_path and db_* options.
Install Odoo 19 Community (with its requirements), make `odoo --version` print 19.0, and retry.
MSG
}

user_rc() {
    if [ -n "${ODOO_RC:-}" ]; then printf '%s' "$ODOO_RC";
    elif [ -f "$HOME/.odoorc" ]; then printf '%s' "$HOME/.odoorc";
    elif [ -f "$HOME/.openerp_serverrc" ]; then printf '%s' "$HOME/.openerp_serverrc";
    fi
}

rc_get() {  # rc_get KEY: an option of the user's Odoo configuration file
    local rc; rc=$(user_rc)
    [ -n "$rc" ] && [ -f "$rc" ] || return 0
    python3 - "$rc" "$1" <<'PY'
import configparser, sys
p = configparser.RawConfigParser()
p.read(sys.argv[1])
v = p.get("options", sys.argv[2], fallback="")
print("" if v in ("False", "None") else v)
PY
}

# ---------------------------------------------------------------------- postgres ---

pg_external() { [ -n "${PGHOST:-}" ] || [ -n "$(rc_get db_host)" ]; }

pg_os_user() {
    if [ "$(id -u)" != 0 ]; then id -un; return; fi
    # initdb refuses root: run the private cluster as an unprivileged account.
    local u=${CB_PG_OS_USER:-postgres}
    id "$u" >/dev/null 2>&1 || u=nobody
    printf '%s' "$u"
}

as_pg() {
    local u; u=$(pg_os_user)
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u "$u" -- "$@"); else "$@"; fi
}

pg_bindir() {
    local d
    for d in ${CB_PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { printf '%s' "$d"; return; }
    done
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
    [ -x "$d/initdb" ] && { printf '%s' "$d"; return; }
    die "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL >= 13 or set PGHOST"
}

pg_start() {
    if pg_external; then
        DB_HOST=${PGHOST:-$(rc_get db_host)}; DB_PORT=${PGPORT:-$(rc_get db_port)}
        DB_USER=${PGUSER:-$(rc_get db_user)}; DB_PASSWORD=${PGPASSWORD:-$(rc_get db_password)}
        return
    fi
    DB_HOST=127.0.0.1; DB_PORT=$PG_PORT; DB_USER=$PG_ROLE; DB_PASSWORD=
    local bin; bin=$(pg_bindir)
    mkdir -p "$DEV"
    if [ "$(id -u)" = 0 ] && [ ! -f "$PGDATA_DIR/PG_VERSION" ] \
            && ! runuser -u "$(pg_os_user)" -- test -e "$DEV"; then
        # The checkout is not reachable by the unprivileged account (a private
        # parent folder): keep the cluster in the system's temporary folder.
        PGDATA_DIR="${TMPDIR:-/tmp}/customer_balance-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
        ln -sfn "$PGDATA_DIR" "$DEV/pg"
    fi
    [ -L "$PGDATA_DIR" ] && PGDATA_DIR=$(readlink -f "$PGDATA_DIR")
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        # Another cluster (another checkout) may already listen on the port: take
        # the next free one; it is kept in this cluster's configuration.
        if [ -z "${CB_PG_PORT:-}" ]; then
            while (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do
                PG_PORT=$((PG_PORT + 1))
            done
        fi
        say "creating a private PostgreSQL cluster in $PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        [ "$(id -u)" = 0 ] && chown "$(pg_os_user)" "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        as_pg "$bin/initdb" -D "$PGDATA_DIR" -U pgadmin -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >> "$PGDATA_DIR/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
EOF
    fi
    PG_PORT=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$PGDATA_DIR/postgresql.conf" | tail -n 1)
    DB_PORT=$PG_PORT
    if ! as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 start >/dev/null \
            || { tail -n 20 "$PGDATA_DIR/server.log" >&2; die "PostgreSQL did not start"; }
    fi
    if ! psql_admin -tAc "select 1 from pg_roles where rolname='$PG_ROLE'" | grep -q 1; then
        psql_admin -qc "create role \"$PG_ROLE\" login createdb"
    fi
}

psql_admin() { PGPASSWORD= psql -h 127.0.0.1 -p "$PG_PORT" -U pgadmin -d postgres -X "$@"; }

pg_env() {
    export PGHOST=$DB_HOST
    [ -n "${DB_PORT:-}" ] && export PGPORT=$DB_PORT
    [ -n "${DB_USER:-}" ] && export PGUSER=$DB_USER
    [ -n "${DB_PASSWORD:-}" ] && export PGPASSWORD=$DB_PASSWORD
    return 0
}

# --------------------------------------------------------------------- odoo conf ---

write_conf() {
    mkdir -p "$LINKS/addons" "$DEV/data"
    rm -rf "$DEV/addons"
    ln -sfn "$ROOT" "$LINKS/addons/$MODULE"
    local rc; rc=$(user_rc)
    python3 - "$CONF" "${rc:-}" "$LINKS/addons" "$DEV/data" "$DB_HOST" "${DB_PORT:-}" \
        "${DB_USER:-}" "${DB_PASSWORD:-}" "$HTTP_PORT" <<'PY'
import configparser, os, sys
conf, rc, addons, data, host, port, user, password, http_port = sys.argv[1:]
src = configparser.RawConfigParser()
if rc and os.path.isfile(rc):
    src.read(rc)
opts = dict(src.items("options")) if src.has_section("options") else {}
paths = [p.strip() for p in opts.get("addons_path", "").split(",") if p.strip()]
paths = [p for p in paths if os.path.realpath(p) != os.path.realpath(addons)] + [addons]
opts.update({
    "addons_path": ",".join(paths),
    "data_dir": data,
    "db_host": host,
    "http_port": http_port,
    "http_interface": "127.0.0.1",
    "list_db": "True",
})
for key, value in (("db_port", port), ("db_user", user), ("db_password", password)):
    if value:
        opts[key] = value
    else:
        opts.pop(key, None)
out = configparser.RawConfigParser()
out["options"] = opts
with open(conf, "w") as f:
    out.write(f)
PY
}

odoo_cmd() { "$ODOO" -c "$CONF" "$@"; }

db_exists() { psql -X -d postgres -tAc "select 1 from pg_database where datname='$1'" | grep -q 1; }

db_drop() {
    db_exists "$1" || return 0
    psql -X -d postgres -qc "select pg_terminate_backend(pid) from pg_stat_activity where datname='$1'" >/dev/null
    dropdb "$1"
    rm -rf "$DEV/data/filestore/$1"
}

manifest_depends() {
    python3 -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" \
        "$ROOT/__manifest__.py"
}

# A template database with the module's dependencies installed: test databases are
# copies of it (createdb -T, filestore copied too), so a test run starts in seconds.
template_db() {  # template_db DEMO(0|1) -> prints its name
    local deps key name log tmp
    deps=$(manifest_depends)
    key=$( { "$ODOO" --version 2>/dev/null; echo "$deps demo=$1"; } | md5sum | cut -c1-10)
    name="cb_tmpl_${key}"
    if ! db_exists "$name"; then
        say "building template database $name (dependencies: $deps; demo: $1)"
        # Built under a name of its own, then renamed: runs started at the same time
        # never see (or drop) a half-built template.
        tmp="${name}_build_$$"
        log="$DEV/$tmp.log"
        local demo=()
        [ "$1" = 1 ] && demo=(--with-demo)
        if ! odoo_cmd -d "$tmp" -i "$deps" "${demo[@]}" --stop-after-init --no-http \
                --log-level=warn --logfile="$log"; then
            tail -n 40 "$log" >&2
            db_drop "$tmp"
            die "could not build the template database"
        fi
        if db_exists "$name"; then
            db_drop "$tmp"
        else
            psql -X -d postgres -qc "ALTER DATABASE \"$tmp\" RENAME TO \"$name\""
            if [ -d "$DEV/data/filestore/$tmp" ]; then
                mv "$DEV/data/filestore/$tmp" "$DEV/data/filestore/$name"
            fi
        fi
    fi
    printf '%s' "$name"
}

db_from_template() {  # db_from_template TEMPLATE NAME
    db_drop "$2"
    createdb -T "$1" "$2"
    if [ -d "$DEV/data/filestore/$1" ]; then
        mkdir -p "$DEV/data/filestore"
        cp -a "$DEV/data/filestore/$1" "$DEV/data/filestore/$2"
    fi
}

# Install the module into DB and fail on any ERROR/WARNING that the install logs.
install_module() {  # install_module DB LOG [extra odoo args]
    local db=$1 log=$2; shift 2
    : > "$log"
    if ! odoo_cmd -d "$db" -i "$MODULE" --stop-after-init --no-http --log-level=info \
            --logfile="$log" "$@"; then
        tail -n 40 "$log" >&2
        die "installing $MODULE failed (log: $log)"
    fi
    if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|WARNING|CRITICAL) ' "$log"; then
        die "installing $MODULE logged the errors or warnings above (log: $log)"
    fi
}

# ----------------------------------------------------------------------- commands ---

cmd_run() {
    find_odoo || { no_odoo_help; exit 2; }
    pg_start; pg_env; write_conf
    if ! db_exists "$RUN_DB"; then
        local tmpl; tmpl=$(template_db 1)
        db_from_template "$tmpl" "$RUN_DB"
        install_module "$RUN_DB" "$DEV/run-install.log"
    else
        odoo_cmd -d "$RUN_DB" -u "$MODULE" --stop-after-init --no-http --log-level=warn
    fi
    say ""
    say "Odoo with $MODULE: http://localhost:$HTTP_PORT/web/login  (login: admin, password: admin, database: $RUN_DB)"
    say ""
    exec "$ODOO" -c "$CONF" -d "$RUN_DB" --db-filter="^${RUN_DB}\$"
}

static_checks() {
    local py=python3
    if ! python3 -c 'import pytest' 2>/dev/null; then
        if [ -n "${ODOO_PY:-}" ] && "$ODOO_PY" -c 'import pytest' 2>/dev/null; then py=$ODOO_PY
        else python3 -m pip install -q pytest >/dev/null 2>&1 || die "pytest is missing (pip install pytest)"
        fi
    fi
    printf '%s' "$py"
}

# The modules the optional integrations are tested with, which the module does not
# depend on: OCA contract (from PyPI, into Odoo's Python when missing) and Odoo's
# payment_demo. Installed into the test database only; when that fails, the tests
# that need them skip and say why.
install_test_integrations() {  # install_test_integrations DB
    local db=$1 log="$DEV/test-integrations-$1.log" modules=payment_demo
    local has_contract='import importlib.util as u, sys; sys.exit(not u.find_spec("odoo.addons.contract"))'
    if ! "$ODOO_PY" -c "$has_contract" 2>/dev/null; then
        say "installing OCA contract (odoo-addon-contract) into Odoo's Python"
        "$ODOO_PY" -m pip install -q --no-deps 'odoo-addon-contract==19.*' >/dev/null 2>&1 \
            || say "could not install odoo-addon-contract: the subscription tests will skip"
    fi
    "$ODOO_PY" -c "$has_contract" 2>/dev/null && modules="contract,$modules"
    say "installing $modules into $db"
    if ! odoo_cmd -d "$db" -i "$modules" --stop-after-init --no-http --log-level=warn \
            --logfile="$log"; then
        tail -n 20 "$log" >&2
        say "could not install $modules (log: $log): the tests that need them will skip"
    fi
}

cmd_test() {
    local status=0
    if ! find_odoo; then
        no_odoo_help
        local py; py=$(static_checks)
        echo "Odoo suite skipped: no Odoo 19 found (set ODOO_BIN or put \`odoo\` on PATH); running only the Odoo-free checks."
        cd "$ROOT/.ci/checks" && "$py" -m pytest -q -p no:cacheprovider --rootdir=. test_static.py
        return
    fi
    pg_start; pg_env; write_conf
    local tmpl; tmpl=$(template_db 0)
    db_from_template "$tmpl" "$TEST_DB"
    say "installing $MODULE into $TEST_DB"
    install_module "$TEST_DB" "$DEV/test-install.log"
    install_test_integrations "$TEST_DB"
    if [ -z "${CB_SKIP_UNINSTALL_CHECK:-}" ]; then
        say "checking that $MODULE installs and uninstalls cleanly"
        (cmd_uninstall_check >"$DEV/uninstall-check.log" 2>&1) \
            || { tail -n 30 "$DEV/uninstall-check.log" >&2; die "install/uninstall check failed"; }
    fi
    cd "$ROOT"
    local junit="$DEV/pytest-junit-$TEST_DB.xml"
    set +e
    PYTHONPATH="$ROOT/.ci${PYTHONPATH:+:$PYTHONPATH}" "$ODOO_PY" -m pytest \
        -p no:cacheprovider -p pytest_addon_name -o addopts= -o python_files='test_*.py' \
        --odoo-config="$CONF" --odoo-database="$TEST_DB" --odoo-http --odoo-log-level=warn \
        -W ignore::DeprecationWarning -rfEs --junitxml="$junit" "$@" \
        tests .ci/checks
    status=$?
    set -e
    # Odoo skips browser tests silently when Chromium is missing: a skip is a failure here.
    local skipped
    skipped=$(python3 -c "import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(sum(int(s.get('skipped',0)) for s in r.iter('testsuite')))" "$junit" 2>/dev/null || echo 0)
    if [ "${skipped:-0}" != 0 ]; then
        echo "$skipped test(s) skipped: a skipped test counts as a failure (browser tests need Debian's chromium and websocket-client in Odoo's Python)."
        [ $status = 0 ] && status=1
    fi
    return $status
}

cmd_uninstall_check() {
    find_odoo || { no_odoo_help; exit 2; }
    pg_start; pg_env; write_conf
    local tmpl db="${TEST_DB}_uninstall" log="$DEV/uninstall-$TEST_DB.log"
    tmpl=$(template_db 0)
    db_from_template "$tmpl" "$db"
    install_module "$db" "$DEV/uninstall-install-$TEST_DB.log"
    : > "$log"
    "$ODOO_PY" - "$CONF" "$db" >"$log" 2>&1 <<'PY'
import sys
import odoo
from odoo.tools import config
config.parse_config(["-c", sys.argv[1], "-d", sys.argv[2], "--log-level=info"])
from odoo.modules.registry import Registry
with Registry(sys.argv[2]).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    env["ir.module.module"].search([("name", "=", "customer_balance")]).button_immediate_uninstall()
    state = env["ir.module.module"].search([("name", "=", "customer_balance")]).state
    print("customer_balance state after uninstall:", state)
PY
    cat "$log"
    grep -q 'state after uninstall: uninstalled' "$log" || die "uninstall failed"
    if grep -E '(ERROR|WARNING|CRITICAL) .*customer_balance' "$log"; then die "uninstall logged errors"; fi
    db_drop "$db"
    echo "install + uninstall: clean"
}

cmd_lint() {
    cd "$ROOT"
    local DEV_LINT="$LINKS/lint"
    rm -rf "$DEV/lint"
    mkdir -p "$DEV_LINT"
    ln -sfn "$ROOT" "$DEV_LINT/$MODULE"
    if ! python3 -c 'import ruff, pylint_odoo' 2>/dev/null; then
        python3 -m pip install -q ruff pylint-odoo >/dev/null 2>&1 \
            || die "ruff and pylint-odoo are missing (pip install ruff pylint-odoo)"
    fi
    local status=0
    python3 -m ruff check --no-fix . || status=1
    python3 -m ruff format --check . || status=1
    # pylint-odoo runs on the addon as a whole (it reads the manifest, XML and CSV too).
    (cd "$DEV_LINT" && python3 -m pylint --rcfile="$ROOT/.pylintrc" "$MODULE") || status=1
    python3 .ci/checks/validate_files.py || status=1
    [ $status = 0 ] && echo "lint: clean"
    return $status
}

cmd_bench() {
    find_odoo || { no_odoo_help; exit 2; }
    pg_start; pg_env; write_conf
    [ -f "$ROOT/.ci/bench.py" ] || die "no benchmark yet (.ci/bench.py)"
    local tmpl db=customer_balance_bench
    tmpl=$(template_db 0)
    db_from_template "$tmpl" "$db"
    install_module "$db" "$DEV/bench-install.log"
    "$ODOO_PY" "$ROOT/.ci/bench.py" --config "$CONF" --database "$db" "$@"
}

cmd_pot() {
    find_odoo || { no_odoo_help; exit 2; }
    pg_start; pg_env; write_conf
    local db="${TEST_DB}_pot" tmpl
    tmpl=$(template_db 0)
    db_from_template "$tmpl" "$db"
    install_module "$db" "$DEV/pot-install.log"
    "$ODOO" i18n export -c "$CONF" -d "$db" "$MODULE" -o "$ROOT/i18n/$MODULE.pot"
    db_drop "$db"
    echo "i18n/$MODULE.pot written"
}

cmd_pg_stop() {
    pg_external && return 0
    [ -f "$PGDATA_DIR/PG_VERSION" ] || return 0
    as_pg "$(pg_bindir)/pg_ctl" -D "$(readlink -f "$PGDATA_DIR")" -m fast stop || true
}

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    test) shift; cmd_test "$@" ;;
    lint) shift; cmd_lint "$@" ;;
    bench) shift; cmd_bench "$@" ;;
    uninstall-check) shift; cmd_uninstall_check "$@" ;;
    pot) shift; cmd_pot "$@" ;;
    pg-start) find_odoo || true; pg_start; echo "PostgreSQL: host=$DB_HOST port=${DB_PORT:-} user=${DB_USER:-}" ;;
    pg-stop) cmd_pg_stop ;;
    prepare)  # build the template databases ahead of time
        find_odoo || { no_odoo_help; exit 2; }
        pg_start; pg_env; write_conf; template_db 0 >/dev/null; template_db "${2:-1}" >/dev/null ;;
    *) say "usage: $0 run|test|lint|bench|uninstall-check|prepare|pg-start|pg-stop"; exit 2 ;;
esac
