#!/usr/bin/env bash
# Developer tooling for the customer_balance addon: run, test, lint, pot, bench.
#
# It keeps only what no tool does: finding Odoo 19 (or setting it up), a private
# PostgreSQL, the addons path. Databases are handled by click-odoo-contrib, the tools
# Odoo integrators use: click-odoo-initdb --cache (cached template databases),
# click-odoo-copydb, click-odoo-dropdb, click-odoo-uninstall, click-odoo-makepot.
#
# Odoo is found by generic means: $ODOO_BIN, else an `odoo` command on PATH, else the one
# this script set up before in its cache folder; its addons path comes from Odoo's own
# configuration file ($ODOO_RC, else ~/.odoorc). When none is found, `run` and `test`
# set Odoo 19 up in ${XDG_CACHE_HOME:-~/.cache}/customer_balance/odoo-19.0 from the
# source tree named by $ODOO_SRC, else from a shallow clone of $ODOO_REPO.
# PostgreSQL: $PGHOST (or db_host in that file) when set, else a private cluster under
# .dev/ started as an unprivileged user with its own role.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=customer_balance
DEV="$ROOT/.dev"
PGDATA_DIR="$DEV/pg"
PG_PORT=${CB_PG_PORT:-54329}
PG_ROLE=${CB_PG_ROLE:-odoo}
# The addon as Odoo and pytest see it: a folder named after the module holding a link
# to each entry of the checkout but integrations/ (those addons are on the addons path
# on their own; Odoo's translation export would put their strings in the module's), and
# a link to integrations/. pytest collects the tests through them, so that pytest-odoo
# names them odoo.addons.<addon>.tests.* whatever the checkout's folder is called. It
# lives outside the checkout: a link inside it to itself makes tools that follow links
# (Odoo's translation export) walk in circles.
LINKS="${TMPDIR:-/tmp}/customer_balance-addons-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
LINK="$LINKS/addons/$MODULE"
# The test addons: modules that only `make test` installs (tests/addons/<addon>, e.g.
# one extending the grouping key), never auto-installed and left out of `make run`; on
# the addons path of every run. pytest collects their tests with the module's (tests/).
TEST_ADDONS_DIR="$ROOT/tests/addons"
HTTP_PORT=${CB_HTTP_PORT:-8069}
RUN_DB=${CB_RUN_DB:-customer_balance_demo}
TEST_DB=${CB_TEST_DB:-customer_balance_test}
# One configuration file per HTTP port: runs of several developers at once do not
# overwrite each other's.
CONF="$DEV/odoo-$HTTP_PORT.conf"
# Where Odoo is set up when none is found.
ODOO_HOME=${CB_ODOO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/customer_balance/odoo-19.0}
ODOO_REPO=${ODOO_REPO:-https://github.com/odoo/odoo.git}
ODOO_BRANCH=${ODOO_BRANCH:-19.0}
# Template databases of click-odoo-initdb: <prefix>-<date>-<hash of the addons' files>.
CACHE_PREFIX=cbtmpl
# The Python packages the tooling needs in Odoo's Python.
ODOO_PY_TOOLS="click-odoo-contrib pytest-odoo websocket-client"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# --------------------------------------------------------------------------- odoo ---

odoo_version_ok() {  # odoo_version_ok CMD: it is Odoo 19
    local version
    version=$("$1" --version 2>/dev/null | tail -n 1 || true)
    case "$version" in
        *" 19."*|*" 19"|*"saas~19"*) return 0 ;;
        *) ODOO_MISMATCH="found $1 but it says '${version:-nothing}', not Odoo 19"; return 1 ;;
    esac
}

find_odoo() {
    local candidate candidates
    ODOO=
    if [ -n "${ODOO_BIN:-}" ]; then
        candidates=("$ODOO_BIN")  # the one the user named, or none
    else
        candidates=("$(command -v odoo 2>/dev/null || true)" "$ODOO_HOME/bin/odoo")
    fi
    for candidate in "${candidates[@]}"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if odoo_version_ok "$candidate"; then ODOO=$candidate; break; fi
    done
    [ -n "$ODOO" ] || return 1
    # The Python that runs Odoo (pytest-odoo and click-odoo must run in it).
    ODOO_PY=${ODOO_PYTHON:-}
    if [ -z "$ODOO_PY" ]; then
        local shebang
        shebang=$(head -c 200 "$ODOO" | head -n 1)
        case "$shebang" in
            "#!/usr/bin/env "*) ODOO_PY=${shebang#\#!/usr/bin/env }; ODOO_PY=${ODOO_PY%% *} ;;
            "#!"*python*) ODOO_PY=${shebang#\#!}; ODOO_PY=${ODOO_PY%% *} ;;
            *) ODOO_PY=python3 ;;
        esac
    fi
    return 0
}

# ------------------------------------------------------- odoo on a fresh machine ---
# When no Odoo 19 is found, set one up in $ODOO_HOME: the source ($ODOO_SRC, else a
# shallow clone of $ODOO_REPO), a virtualenv with Odoo's requirements and the test tools,
# and an `odoo` command ($ODOO_HOME/bin/odoo) that the next runs find by themselves.

odoo_source() {  # ODOO_SOURCE: the Odoo 19 source tree to use; fails when none can be reached
    local src
    ODOO_SOURCE=
    if [ -n "${ODOO_SRC:-}" ]; then
        src=$(cd "$ODOO_SRC" 2>/dev/null && pwd) || { SETUP_ERROR="ODOO_SRC=$ODOO_SRC is not a folder"; return 1; }
    else
        src="$ODOO_HOME/src"
        if [ ! -f "$src/odoo-bin" ]; then
            mkdir -p "$ODOO_HOME"
            rm -rf "$src.part"
            if ! git clone -q --depth 1 --branch "$ODOO_BRANCH" "$ODOO_REPO" "$src.part" \
                    >"$ODOO_HOME/clone.log" 2>&1; then
                SETUP_ERROR="git clone of $ODOO_REPO failed: $(grep -m1 -i -E 'fatal|error' "$ODOO_HOME/clone.log" || tail -n 1 "$ODOO_HOME/clone.log")"
                rm -rf "$src.part"
                return 1
            fi
            mv "$src.part" "$src"
            say "cloned $ODOO_REPO (branch $ODOO_BRANCH) into $src"
        fi
    fi
    if [ ! -f "$src/odoo-bin" ] || ! grep -q "version_info = (19," "$src/odoo/release.py" 2>/dev/null; then
        SETUP_ERROR="$src is not an Odoo 19 source tree (odoo-bin, odoo/release.py)"
        return 1
    fi
    ODOO_SOURCE=$src
}

debian_packages() {  # debian_packages SRC: Odoo's Debian dependencies (debian/control)
    # As Odoo's setup/debinstall.sh reads them, taking of "a | b" the first one this
    # distribution has.
    local pkg alt known
    known=$(apt-cache pkgnames 2>/dev/null | sort -u)
    tr -d '\r' < "$1/debian/control" | sed -n '/^Depends:/,/^[A-Z]/p' | grep '^ [a-z]' \
        | tr -d ' ,' | sort -u | while read -r pkg; do
            for alt in ${pkg//|/ }; do
                if grep -qxF "$alt" <<<"$known"; then echo "$alt"; break; fi
            done
        done
}

odoo_venv() {  # odoo_venv SRC: the virtualenv with Odoo's requirements
    local src=$1 venv="$ODOO_HOME/venv" log="$ODOO_HOME/setup.log" py
    [ -f "$venv/.complete" ] && return 0
    rm -rf "$venv"
    : > "$log"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -f "$src/debian/control" ]; then
        # Debian's packages, as Odoo's own setup/debinstall.sh installs them, and a
        # virtualenv that sees them (the pinned requirements.txt need not build).
        say "installing Odoo's Debian packages (debian/control), Chromium and the venv module"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >>"$log" 2>&1 || true
        # shellcheck disable=SC2046
        apt-get install -y -qq --no-install-recommends $(debian_packages "$src") \
            python3-venv python3-pip >>"$log" 2>&1 \
            || { tail -n 20 "$log" >&2; die "apt-get could not install Odoo's Debian packages (log: $log)"; }
        # Chromium for the browser tests (tours); without it they are skipped (failures).
        apt-get install -y -qq chromium >>"$log" 2>&1 \
            || say "could not install chromium: the browser tests will be skipped (log: $log)"
        /usr/bin/python3 -m venv --system-site-packages "$venv" >>"$log" 2>&1 \
            || die "could not create the virtualenv $venv (log: $log)"
    else
        # pip with Odoo's pinned requirements.txt, on Python 3.11 or 3.12. cbor2's pinned
        # version only builds with setuptools < 81; psycopg2 and python-ldap build from
        # source and need the headers (Debian: libpq-dev libldap2-dev libsasl2-dev
        # python3-dev build-essential).
        py=
        for candidate in python3.12 python3.11 python3; do
            if command -v "$candidate" >/dev/null \
                    && "$candidate" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))'; then
                py=$candidate; break
            fi
        done
        [ -n "$py" ] || die "setting Odoo 19 up needs Python 3.11 or 3.12 (python3.11 / python3.12 on PATH)"
        say "creating a virtualenv with $py and installing Odoo's requirements.txt (several minutes)"
        "$py" -m venv "$venv" >>"$log" 2>&1 || die "could not create the virtualenv $venv (log: $log)"
        printf 'setuptools<81\n' > "$ODOO_HOME/build-constraints.txt"
        if ! PIP_CONSTRAINT="$ODOO_HOME/build-constraints.txt" \
                PIP_BUILD_CONSTRAINT="$ODOO_HOME/build-constraints.txt" \
                "$venv/bin/python3" -m pip install -q -r "$src/requirements.txt" >>"$log" 2>&1; then
            tail -n 20 "$log" >&2
            die "pip could not install Odoo's requirements.txt (psycopg2 and python-ldap need libpq-dev, libldap2-dev, libsasl2-dev and python3-dev; log: $log)"
        fi
        command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
            || command -v google-chrome >/dev/null \
            || say "no Chromium found: the browser tests will be skipped (install chromium)"
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python3" -m pip install -q $ODOO_PY_TOOLS >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "could not install $ODOO_PY_TOOLS (log: $log)"; }
    touch "$venv/.complete"
}

setup_odoo() {  # set Odoo 19 up in $ODOO_HOME; fails (SETUP_ERROR) when no source is reachable
    local src venv="$ODOO_HOME/venv" site
    odoo_source || return 1
    src=$ODOO_SOURCE
    say "no Odoo 19 found: setting it up in $ODOO_HOME from $src"
    mkdir -p "$ODOO_HOME/bin"
    odoo_venv "$src"
    # The venv imports Odoo from the source tree; the odoo command is odoo-bin run by the
    # venv's Python (and says which Python runs Odoo by its first line).
    site=$("$venv/bin/python3" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    printf '%s\n' "$src" > "$site/odoo-19-source.pth"
    { echo "#!$venv/bin/python3"; tail -n +2 "$src/odoo-bin"; } > "$ODOO_HOME/bin/odoo.part"
    chmod +x "$ODOO_HOME/bin/odoo.part"
    mv "$ODOO_HOME/bin/odoo.part" "$ODOO_HOME/bin/odoo"
    odoo_version_ok "$ODOO_HOME/bin/odoo" || die "the Odoo set up in $ODOO_HOME does not start: $ODOO_MISMATCH"
    say "Odoo 19 is set up: $ODOO_HOME/bin/odoo"
}

# Odoo 19 found or set up, else (SETUP_ERROR) the one-line reason why there is none.
ensure_odoo() {
    SETUP_ERROR=
    if find_odoo; then
        # A source tree named by ODOO_SRC and not the one set up before: set it up again.
        if [ "$ODOO" = "$ODOO_HOME/bin/odoo" ] && [ -n "${ODOO_SRC:-}" ] \
                && ! grep -qxF "$(cd "$ODOO_SRC" 2>/dev/null && pwd)" "$ODOO_HOME"/venv/lib/python3*/site-packages/odoo-19-source.pth 2>/dev/null; then
            setup_odoo || return 1
            find_odoo || return 1
        fi
        return 0
    fi
    if [ -n "${ODOO_BIN:-}" ]; then
        SETUP_ERROR="ODOO_BIN=$ODOO_BIN is not Odoo 19${ODOO_MISMATCH:+ ($ODOO_MISMATCH)}"
        return 1
    fi
    setup_odoo || return 1
    find_odoo || { SETUP_ERROR="the Odoo set up in $ODOO_HOME is not found"; return 1; }
}

no_odoo() {  # the one line said when there is no Odoo 19 and none could be set up
    printf '%s\n' "no Odoo 19 found (ODOO_BIN, \`odoo\` on PATH) and none could be set up: ${SETUP_ERROR:-unknown reason} (set ODOO_SRC to an Odoo 19 source tree, ODOO_REPO to a reachable clone URL, or ODOO_BIN)"
}

need_odoo() { ensure_odoo || { say "$(no_odoo)"; exit 2; }; ensure_odoo_py_tools; }

# click-odoo-contrib (with click-odoo and manifestoo-core), pytest-odoo and
# websocket-client in Odoo's Python, installed from PyPI when missing.
ensure_odoo_py_tools() {
    "$ODOO_PY" -c 'import click_odoo_contrib, pytest_odoo, websocket' 2>/dev/null && return 0
    say "installing $ODOO_PY_TOOLS into Odoo's Python ($ODOO_PY)"
    mkdir -p "$DEV"
    # shellcheck disable=SC2086
    "$ODOO_PY" -m pip install -q $ODOO_PY_TOOLS >"$DEV/pip-tools.log" 2>&1 \
        || { tail -n 20 "$DEV/pip-tools.log" >&2; die "could not install $ODOO_PY_TOOLS into $ODOO_PY"; }
}

click_odoo() {  # click_odoo TOOL ARGS: a click-odoo-contrib command, with our configuration
    local tool=$1; shift
    "$ODOO_PY" -m "click_odoo_contrib.$tool" -c "$CONF" "$@"
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

# Odoo's configuration for these runs: the user's file (addons path, options) plus the
# addon's link, the integration addons (integrations/) and the database server.
link_addon() {
    local entry name
    mkdir -p "$LINK"
    for entry in "$ROOT"/* "$ROOT/.ci"; do
        name=${entry##*/}
        case "$name" in integrations|__pycache__) continue ;; esac
        [ -e "$entry" ] && ln -sfn "$entry" "$LINK/$name"
    done
    for entry in "$LINK"/* "$LINK/.ci"; do  # entries gone from the checkout
        name=${entry##*/}
        if [ -L "$entry" ] && { [ ! -e "$ROOT/$name" ] || [ "$name" = integrations ]; }; then
            rm -f "$entry"
        fi
    done
    ln -sfn "$ROOT/integrations" "$LINKS/integrations"
}

write_conf() {
    mkdir -p "$LINKS/addons" "$DEV/data"
    rm -rf "$DEV/addons"
    link_addon
    local rc; rc=$(user_rc)
    python3 - "$CONF" "${rc:-}" "$LINKS/addons" "$ROOT/integrations" "$DEV/data" "$DB_HOST" \
        "${DB_PORT:-}" "${DB_USER:-}" "${DB_PASSWORD:-}" "$HTTP_PORT" "$TEST_ADDONS_DIR" <<'PY'
import configparser, os, sys
conf, rc, addons, integrations, data, host, port, user, password, http_port, tests = (
    sys.argv[1:]
)
src = configparser.RawConfigParser()
if rc and os.path.isfile(rc):
    src.read(rc)
opts = dict(src.items("options")) if src.has_section("options") else {}
paths = [p.strip() for p in opts.get("addons_path", "").split(",") if p.strip()]
extra = [addons]
if os.path.isdir(integrations):
    # The optional integration addons (integrations/<addon>/__manifest__.py).
    extra.append(os.path.realpath(integrations))
if os.path.isdir(tests):
    # The test addons (tests/addons/<addon>): on the path, installed by the tests only.
    extra.append(os.path.realpath(tests))
paths = [p for p in paths if os.path.realpath(p) not in map(os.path.realpath, extra)] + extra
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
with open(conf + ".part", "w") as f:
    out.write(f)
os.replace(conf + ".part", conf)
PY
}

odoo_cmd() { "$ODOO" -c "$CONF" "$@"; }

manifest_value() {  # manifest_value ADDON_DIR KEY: a list of the manifest, comma-separated
    python3 -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1] + '/__manifest__.py').read()).get(sys.argv[2], [])))" \
        "$1" "$2"
}

integration_addons() {  # the integration addons' names (integrations/*), comma-separated
    local d names=()
    for d in "$ROOT"/integrations/*/; do
        [ -f "$d/__manifest__.py" ] && names+=("$(basename "$d")")
    done
    (IFS=,; printf '%s' "${names[*]:-}")
}

# The test addons (see TEST_ADDONS_DIR).
test_addons() {  # the test addons' names (tests/addons/*), comma-separated
    local d names=()
    for d in "$TEST_ADDONS_DIR"/*/; do
        [ -f "$d/__manifest__.py" ] && names+=("$(basename "$d")")
    done
    (IFS=,; printf '%s' "${names[*]:-}")
}

# What the test databases hold before the module is installed: the module's
# dependencies, the modules its tests need (payment_demo, contract) and what the
# integration addons integrate (their dependencies other than the module and themselves).
test_base_modules() {
    local mods names d dep
    mods="$(manifest_value "$ROOT" depends),payment_demo,contract"
    names=",$(integration_addons),$MODULE,"
    for d in "$ROOT"/integrations/*/; do
        [ -f "$d/__manifest__.py" ] || continue
        for dep in $(manifest_value "$d" depends | tr , ' '); do
            case "$names" in *",$dep,"*) ;; *) mods="$mods,$dep" ;; esac
        done
    done
    printf '%s' "$mods" | tr , '\n' | awk 'NF && !seen[$0]++' | paste -sd, -
}

# A new database DB with MODULES installed, copied from click-odoo-initdb's cache of
# template databases (built once per set of addons' files; attachments in the database,
# so no filestore to copy).
new_db() {  # new_db DB DEMO(0|1) MODULES
    local db=$1 demo=--no-demo log="$DEV/initdb-$1.log"
    [ "$2" = 1 ] && demo=--demo
    click_odoo dropdb --if-exists "$db" >/dev/null
    say "creating $db from the template cache (modules: $3)"
    if ! click_odoo initdb -n "$db" -m "$3" "$demo" --cache-prefix "$CACHE_PREFIX" \
            --cache-max-size 10 --cache-max-age 14 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "could not create the database $db (log: $log)"
    fi
}

drop_db() { click_odoo dropdb --if-exists "$1" >/dev/null; }

# Install MODULES into DB and fail on any ERROR/WARNING that the install logs.
install_module() {  # install_module DB LOG MODULES
    local db=$1 log=$2 modules=$3
    : > "$log"
    if ! odoo_cmd -d "$db" -i "$modules" --stop-after-init --no-http --log-level=info \
            --logfile="$log"; then
        tail -n 40 "$log" >&2
        die "installing $modules failed (log: $log)"
    fi
    if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|WARNING|CRITICAL) ' "$log"; then
        die "installing $modules logged the errors or warnings above (log: $log)"
    fi
    check_installed "$db" "$modules"
}

not_installed() {  # not_installed DB MODULES: those of MODULES not installed in DB
    [ -n "$2" ] || return 0
    psql -X -d "$1" -tAc "select string_agg(n, ',') from unnest(string_to_array('$2', ',')) n
        where n not in (select name from ir_module_module where state = 'installed')"
}

check_installed() {  # check_installed DB MODULES: each of them is installed
    local missing
    missing=$(not_installed "$1" "$2")
    [ -z "$missing" ] || die "not installed in $1: $missing (missing from the addons path or a dependency missing)"
}

# The OCA modules the integration addons need come from PyPI: the packages of
# test-requirements.txt go into Odoo's Python when missing (--no-deps: Odoo itself is
# not a package here).
install_test_requirements() {
    local req="$ROOT/test-requirements.txt"
    [ -f "$req" ] || return 0
    mkdir -p "$DEV"
    if ! "$ODOO_PY" -m pip install -q --no-deps -r "$req" >"$DEV/pip-test-requirements.log" 2>&1; then
        tail -n 20 "$DEV/pip-test-requirements.log" >&2
        die "could not install test-requirements.txt into Odoo's Python"
    fi
}

# A database with the module, payment_demo, contract and every integration addon
# installed (what the tests run on). A module that does not install is a failure.
test_db() {  # test_db DB
    local db=$1 extra
    install_test_requirements
    new_db "$db" 0 "$(test_base_modules)"
    say "installing $MODULE into $db"
    install_module "$db" "$DEV/test-install-$db.log" "$MODULE"
    # The integration addons auto-install with the module when what they integrate is
    # there; install the others (and fail on those that do not install).
    extra=$(not_installed "$db" "$(integration_addons)")
    if [ -n "$extra" ]; then
        say "installing $extra into $db"
        install_module "$db" "$DEV/test-integrations-$db.log" "$extra"
    fi
    extra=$(integration_addons)
    check_installed "$db" "payment_demo,contract${extra:+,$extra}"
    extra=$(test_addons)
    if [ -n "$extra" ]; then
        say "installing the test addons $extra into $db"
        install_module "$db" "$DEV/test-addons-$db.log" "$extra"
    fi
}

# ----------------------------------------------------------------------- commands ---

# What `make run` installs besides the module: what `make test` installs (the shop,
# resource bookings, events, contracts and payment_demo, see test_base_modules) and the
# integration addons, but queue_job and its bridge, which bill through jobs that only a
# job runner (server_wide_modules = web,queue_job) takes: without one the demo's bill
# run would wait forever.
RUN_EXCLUDED="queue_job,customer_balance_queue_job"

excluding() {  # excluding MODULES EXCLUDED: MODULES but those of EXCLUDED (comma-separated)
    printf '%s' "$1" | tr , '\n' | grep -vxF -f <(printf '%s' "$2" | tr , '\n') | paste -sd, - || true
}

run_base_modules() { excluding "$(test_base_modules)" "$RUN_EXCLUDED"; }

run_integration_addons() { excluding "$(integration_addons)" "$RUN_EXCLUDED"; }

# Those of MODULES that this Odoo can install: on its addons path with all their
# dependencies (an integration addon whose OCA module is missing is left out).
available_modules() {  # available_modules MODULES
    "$ODOO_PY" - "$CONF" "$1" <<'PY'
import sys

from odoo.modules.module import Manifest, initialize_sys_path
from odoo.tools import config

config.parse_config(["-c", sys.argv[1]], setup_logging=False)
initialize_sys_path()
known = {}


def available(name):
    if name not in known:
        known[name] = False  # a dependency cycle is not available
        manifest = Manifest.for_addon(name, display_warning=False)
        known[name] = bool(manifest and manifest.get("installable", True)) and all(
            available(dep) for dep in manifest.get("depends", [])
        )
    return known[name]


print(",".join(name for name in sys.argv[2].split(",") if name and available(name)))
PY
}

# The demo logins (demo/customer_balance_demo.xml), printed at the end of `make run`.
RUN_LOGINS="admin / admin: the accountant (Accounting, Sales, Website)
lena / lena: Lena Vogel, Figma's billing contact (portal: the whole company balance, Pay now)
tom / tom: Tom Berger, a Figma employee who is not a billing contact (portal: his part)"

cmd_run() {
    local base addons missing
    need_odoo
    pg_start; pg_env; write_conf
    # The OCA modules (resource bookings, contracts) come from test-requirements.txt, as
    # for `make test`; without them the demo runs without their integration addons.
    ( install_test_requirements ) \
        || say "test-requirements.txt could not be installed: the demo runs without the OCA modules"
    base=$(available_modules "$(run_base_modules)")
    addons=$(available_modules "$(run_integration_addons)")
    missing=$(excluding "$(run_base_modules),$(run_integration_addons)" "$base,$addons")
    [ -z "$missing" ] || say "not on the addons path (left out of the demo): $missing"
    if ! psql -X -d postgres -tAc "select 1 from pg_database where datname='$RUN_DB'" | grep -q 1; then
        new_db "$RUN_DB" 1 "$base"
        install_module "$RUN_DB" "$DEV/run-install.log" "$MODULE"
        # The integration addons auto-install with the module when what they integrate
        # is there; install the others.
        missing=$(not_installed "$RUN_DB" "$addons")
        [ -z "$missing" ] || install_module "$RUN_DB" "$DEV/run-integrations.log" "$missing"
    else
        # The database of an earlier run: install what it lacks (a module made available
        # since, with its demo data), then update the module and its integration addons.
        missing=$(not_installed "$RUN_DB" "$base,$MODULE${addons:+,$addons}")
        [ -z "$missing" ] || install_module "$RUN_DB" "$DEV/run-install.log" "$missing"
        odoo_cmd -d "$RUN_DB" -u "$MODULE${addons:+,$addons}" --stop-after-init --no-http \
            --log-level=warn
    fi
    # Odoo sets web.base.url only when the admin logs in: until then the PDFs printed
    # by scheduled jobs (event tickets, invoices sent) fetch their styles from port 8069.
    psql -X -q -d "$RUN_DB" -c "update ir_config_parameter set value = 'http://localhost:$HTTP_PORT'
        where key = 'web.base.url'"
    say ""
    say "Odoo with $MODULE${addons:+ and $addons}: http://localhost:$HTTP_PORT/web/login (database: $RUN_DB)"
    say "Logins (login / password):"
    while IFS= read -r line; do say "  $line"; done <<<"$RUN_LOGINS"
    say "Shop: http://localhost:$HTTP_PORT/shop   Portal balances: http://localhost:$HTTP_PORT/my/balances"
    say ""
    exec "$ODOO" -c "$CONF" -d "$RUN_DB" --db-filter="^${RUN_DB}\$"
}

static_checks() {  # the Odoo-free checks: through pytest when there is one
    cd "$ROOT/.ci/checks"
    if python3 -c 'import pytest' 2>/dev/null; then
        python3 -m pytest -q -p no:cacheprovider --rootdir=. test_static.py
    else
        python3 validate_files.py && echo "Odoo-free checks: passed"
    fi
}

# pytest's arguments: paths of the checkout are given through the addon's link (so that
# pytest-odoo names the tests after the addon); without paths, the whole suite.
PYTEST_ARGS=()
pytest_args() {
    local arg path rest prev= narrowed=
    PYTEST_ARGS=()
    for arg in "$@"; do
        path=${arg%%::*}; rest=${arg#"$path"}
        case "$prev" in
            -k|-m|-p|-o|--deselect|--ignore|--ignore-glob|--junitxml|--rootdir|-c) path= ;;
        esac
        if [ -n "$path" ] && [ "${arg#-}" = "$arg" ] && [ -e "$ROOT/$path" -o -e "$path" ]; then
            [ -e "$path" ] || path="$ROOT/$path"
            path="$(cd "$(dirname "$path")" && pwd -P)/$(basename "$path")"
            case "$path" in
                "$ROOT/integrations"|"$ROOT/integrations"/*) arg="$LINKS/${path#"$ROOT"/}$rest" ;;
                "$ROOT"/*) arg="$LINK/${path#"$ROOT"/}$rest" ;;
                "$ROOT/.") arg="$LINK$rest" ;;
            esac
            narrowed=1
        fi
        PYTEST_ARGS+=("$arg")
        prev=$arg
    done
    if [ -z "$narrowed" ]; then
        PYTEST_ARGS+=("$LINK/tests")
        for path in "$ROOT"/integrations/*/tests; do
            [ -d "$path" ] && PYTEST_ARGS+=("$LINKS/${path#"$ROOT"/}")
        done
        PYTEST_ARGS+=("$LINK/.ci/checks")
    fi
}

cmd_test() {
    local status=0
    cd "$ROOT"
    if ! ensure_odoo; then
        echo "Odoo suite skipped: $(no_odoo); running only the Odoo-free checks."
        static_checks
        return
    fi
    ensure_odoo_py_tools
    pg_start; pg_env; write_conf
    test_db "$TEST_DB"
    # The uninstall check runs on a copy of the test database, beside the tests.
    local uninstall_pid= uninstall_log="$DEV/uninstall-check-$TEST_DB.log"
    if [ -z "${CB_SKIP_UNINSTALL_CHECK:-}" ]; then
        local copy="${TEST_DB}_uninstall"
        drop_db "$copy"
        click_odoo copydb "$TEST_DB" "$copy" >"$uninstall_log" 2>&1 \
            || { tail -n 30 "$uninstall_log" >&2; die "could not copy $TEST_DB"; }
        say "checking that the test and integration addons and $MODULE uninstall cleanly (log: $uninstall_log)"
        (uninstall_check "$copy" >>"$uninstall_log" 2>&1) &
        uninstall_pid=$!
    fi
    pytest_args "$@"
    local junit="$DEV/pytest-junit-$TEST_DB.xml"
    set +e
    "$ODOO_PY" -m pytest \
        -p no:cacheprovider -o addopts= -o python_files='test_*.py' --rootdir="$LINKS" \
        --odoo-config="$CONF" --odoo-database="$TEST_DB" --odoo-http --odoo-log-level=warn \
        -W ignore::DeprecationWarning -rfEs --junitxml="$junit" "${PYTEST_ARGS[@]}"
    status=$?
    set -e
    # Odoo skips browser tests silently when Chromium is missing: a skip is a failure here.
    local skipped
    skipped=$(python3 -c "import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(sum(int(s.get('skipped',0)) for s in r.iter('testsuite')))" "$junit" 2>/dev/null || echo 0)
    if [ "${skipped:-0}" != 0 ]; then
        echo "$skipped test(s) skipped: a skipped test counts as a failure (browser tests need Debian's chromium and websocket-client in Odoo's Python)."
        [ $status = 0 ] && status=1
    fi
    if [ -n "$uninstall_pid" ] && ! wait "$uninstall_pid"; then
        tail -n 30 "$uninstall_log"
        echo "install/uninstall check failed (log: $uninstall_log)"
        [ $status = 0 ] && status=1
    fi
    return $status
}

# Uninstall each test addon and integration addon, then the module, from DB
# (click-odoo-uninstall); fails when one stays installed or the uninstall logs an error
# or warning.
uninstall_check() {  # uninstall_check DB
    local db=$1 name log="$DEV/uninstall-$1.log" state
    for name in $(test_addons | tr , ' ') $(integration_addons | tr , ' ') "$MODULE"; do
        state=$(psql -X -d "$db" -tAc "select state from ir_module_module where name='$name'")
        if [ "$state" = uninstalled ]; then
            # Uninstalled with an addon it depends on (a glue addon of two others).
            echo "$name state after uninstall: $state (with its dependency)"
            continue
        fi
        : > "$log"
        click_odoo uninstall -d "$db" -m "$name" --log-level=info --logfile="$log" \
            || { tail -n 40 "$log" >&2; die "uninstalling $name failed (log: $log)"; }
        state=$(psql -X -d "$db" -tAc "select state from ir_module_module where name='$name'")
        echo "$name state after uninstall: $state"
        [ "$state" = uninstalled ] || die "$name is still $state after its uninstall"
        if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|WARNING|CRITICAL) ' "$log"; then
            die "uninstalling $name logged the errors or warnings above (log: $log)"
        fi
    done
    drop_db "$db"
    echo "install + uninstall: clean"
}

cmd_uninstall_check() {
    need_odoo
    pg_start; pg_env; write_conf
    local db="${TEST_DB}_uninstall"
    test_db "$db"
    uninstall_check "$db"
}

# ---------------------------------------------------------------------------- lint ---
# `make lint` runs these four steps; .pre-commit-config.yaml runs each as a hook.

lint_tools() {
    python3 -c 'import ruff, pylint_odoo' 2>/dev/null && return 0
    python3 -m pip install -q ruff pylint-odoo >/dev/null 2>&1 \
        || die "ruff and pylint-odoo are missing (pip install ruff pylint-odoo)"
}

lint_ruff() { lint_tools; cd "$ROOT"; python3 -m ruff check --no-fix .; }

lint_format() { lint_tools; cd "$ROOT"; python3 -m ruff format --check .; }

# pylint-odoo on each addon as a whole (it reads the manifest, XML and CSV too): the
# main one through a link named after it, each integration addon in integrations/.
lint_pylint() {
    lint_tools
    local status=0 extra
    mkdir -p "$LINKS/lint"
    ln -sfn "$ROOT" "$LINKS/lint/$MODULE"
    (cd "$LINKS/lint" && python3 -m pylint --rcfile="$ROOT/.pylintrc" "$MODULE") || status=1
    extra=$(integration_addons)
    if [ -n "$extra" ]; then
        # shellcheck disable=SC2046
        (cd "$ROOT/integrations" && python3 -m pylint --rcfile="$ROOT/.pylintrc" $(tr , ' ' <<<"$extra")) \
            || status=1
    fi
    extra=$(test_addons)
    if [ -n "$extra" ]; then
        # shellcheck disable=SC2046
        (cd "$TEST_ADDONS_DIR" && python3 -m pylint --rcfile="$ROOT/.pylintrc" $(tr , ' ' <<<"$extra")) \
            || status=1
    fi
    return $status
}

lint_files() { python3 "$ROOT/.ci/checks/validate_files.py"; }

cmd_lint() {
    local status=0 step
    for step in lint_ruff lint_format lint_pylint lint_files; do
        ("$step") || status=1
    done
    [ $status = 0 ] && echo "lint: clean"
    return $status
}

# -------------------------------------------------------------------- bench, pot ---

# The bench database is $CB_BENCH_DB (customer_balance_bench); its copies are named
# after it (<db>_odoo, <db>_workers, <db>_servers*, <db>_cron, <db>_queue, <db>_load).
# --engine queue_job and --load start real servers on the free loopback ports from
# $CB_BENCH_PORT (8141); queue_job comes from test-requirements.txt.
cmd_bench() {
    need_odoo
    pg_start; pg_env; write_conf
    [ -f "$ROOT/.ci/bench.py" ] || die "no benchmark yet (.ci/bench.py)"
    local db=${CB_BENCH_DB:-customer_balance_bench}
    install_test_requirements
    new_db "$db" 0 "$(manifest_value "$ROOT" depends)"
    install_module "$db" "$DEV/bench-install-$db.log" "$MODULE"
    CB_ODOO_BIN="$ODOO" "$ODOO_PY" "$ROOT/.ci/bench.py" --config "$CONF" --database "$db" "$@"
}

# i18n/<addon>.pot of the module and of each integration addon (click-odoo-makepot,
# which also checks that the .po files are valid).
cmd_pot() {
    need_odoo
    pg_start; pg_env; write_conf
    local db="${TEST_DB}_pot" extra log="$DEV/pot.log"
    test_db "$db"
    click_odoo makepot -d "$db" --addons-dir "$LINKS/addons" -m "$MODULE" --logfile="$log" \
        || { tail -n 20 "$log" >&2; die "exporting $MODULE's .pot failed (log: $log)"; }
    echo "i18n/$MODULE.pot written"
    extra=$(integration_addons)
    if [ -n "$extra" ]; then
        click_odoo makepot -d "$db" --addons-dir "$ROOT/integrations" -m "$extra" --logfile="$log" \
            || { tail -n 20 "$log" >&2; die "exporting the integration addons' .pot failed (log: $log)"; }
        echo "i18n/<addon>.pot written for $extra"
    fi
    drop_db "$db"
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
    lint-ruff) lint_ruff ;;
    lint-format) lint_format ;;
    lint-pylint) lint_pylint ;;
    lint-files) lint_files ;;
    bench) shift; cmd_bench "$@" ;;
    uninstall-check) shift; cmd_uninstall_check "$@" ;;
    pot) shift; cmd_pot "$@" ;;
    setup-odoo)  # set Odoo 19 up in the cache folder (run and test do it when needed)
        ensure_odoo || { say "$(no_odoo)"; exit 2; }; ensure_odoo_py_tools; echo "Odoo 19: $ODOO" ;;
    pg-start) pg_start; echo "PostgreSQL: host=$DB_HOST port=${DB_PORT:-} user=${DB_USER:-}" ;;
    pg-stop) cmd_pg_stop ;;
    prepare)  # build the template databases ahead of time
        need_odoo; pg_start; pg_env; write_conf
        new_db "${TEST_DB}_prepare" 0 "$(test_base_modules)"; drop_db "${TEST_DB}_prepare"
        new_db "${TEST_DB}_prepare" 1 "$(manifest_value "$ROOT" depends)"; drop_db "${TEST_DB}_prepare" ;;
    run-modules)  # what `make run` installs: the base modules, then the integration addons
        echo "base: $(run_base_modules)"; echo "addons: $(run_integration_addons)" ;;
    *) say "usage: $0 run|test|lint|pot|bench|uninstall-check|setup-odoo|prepare|pg-start|pg-stop"; exit 2 ;;
esac
