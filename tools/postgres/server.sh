#!/usr/bin/env bash
# Runs a real, throwaway PostgreSQL server for tests and demos, from Debian's packages
# (installed with apt-get when missing): trust auth, loopback only, a free port.
#
#   tools/postgres/server.sh start    start (or report the running one); prints its URL
#   tools/postgres/server.sh stop     stop it (pg_ctl stop -m fast) and delete its data
#   tools/postgres/server.sh status   "running url=..." (exit 0) or "stopped" (exit 3)
#
# The last stdout line of start is the SQLAlchemy URL
#   postgresql+psycopg://postgres@127.0.0.1:PORT/kleroterion_test
# which is also written to <run dir>/url; everything else goes to stderr.
#
# Environment:
#   KLERO_RUN_DIR             parent run dir shared with tools/kafka (default <repo>/.run);
#                             this server's state lives in $KLERO_RUN_DIR/postgres
#   KLERO_POSTGRES_RUN_DIR    exact run dir (overrides the above)
#   KLERO_POSTGRES_BASE       where the cluster itself goes (default /tmp); see below
#   KLERO_PG_BIN              directory holding initdb/pg_ctl (default: newest
#                             /usr/lib/postgresql/*/bin, else the ones on PATH)
#   KLERO_POSTGRES_DB         database to create (default kleroterion_test)
#
# Why the cluster is not inside the run dir: run as root, initdb refuses to work, so the
# server runs as the `postgres` user, and a repository cloned under e.g. /root is not
# traversable by that user. The cluster therefore lives in a private mktemp directory
# under $KLERO_POSTGRES_BASE owned by postgres; the run dir only records where it is.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN="${KLERO_POSTGRES_RUN_DIR:-${KLERO_RUN_DIR:-$ROOT/.run}/postgres}"
BASE="${KLERO_POSTGRES_BASE:-/tmp}"
DB="${KLERO_POSTGRES_DB:-kleroterion_test}"
URLFILE="$RUN/url"
HOMEFILE="$RUN/pgdir"   # path of the mktemp directory that holds data/, socket/, log

log() { echo "server.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_bin() {
  local d
  if [[ -n "${KLERO_PG_BIN:-}" ]]; then
    [[ -x "$KLERO_PG_BIN/initdb" ]] || die "KLERO_PG_BIN=$KLERO_PG_BIN has no initdb"
    echo "$KLERO_PG_BIN"; return 0
  fi
  # Debian keeps the server binaries off PATH, one directory per major version.
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"; return 0
  fi
  return 1
}

ensure_installed() {
  local bin
  if bin="$(find_bin)"; then echo "$bin"; return 0; fi
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and installing needs root: apt-get install -y postgresql"
  log "PostgreSQL not found: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bin="$(find_bin)" || die "apt-get installed postgresql but initdb/pg_ctl are still missing"
  echo "$bin"
}

# Run a command as the server's owner: postgres when we are root, else ourselves.
as_owner() {
  if [[ $EUID -eq 0 ]]; then
    # cd first: the caller's cwd (the repository) may not be readable by postgres.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  local py
  for py in "${PYTHON:-}" "$ROOT/.venv/bin/python" python3; do
    [[ -n "$py" ]] && command -v "$py" >/dev/null && break
  done
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_running() {
  [[ -f "$HOMEFILE" ]] || return 1
  local home bin
  home="$(cat "$HOMEFILE")"
  [[ -d "$home/data" ]] || return 1
  bin="$(find_bin)" || return 1
  as_owner "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1
}

start() {
  if is_running; then
    log "already running (cluster in $(cat "$HOMEFILE"))"
    cat "$URLFILE"
    return 0
  fi
  [[ -f "$HOMEFILE" ]] && { log "removing stale state"; cleanup; }

  local bin home port url t0=$SECONDS
  bin="$(ensure_installed)"
  mkdir -p "$RUN"
  home="$(mktemp -d "$BASE/klero-postgres.XXXXXX")"
  echo "$home" >"$HOMEFILE"
  mkdir -p "$home/data" "$home/socket"
  [[ $EUID -eq 0 ]] && chown -R postgres:postgres "$home"
  chmod 700 "$home" "$home/data"

  as_owner "$bin/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 --locale=C \
    --no-instructions >"$home/initdb.log" 2>&1 \
    || { cat "$home/initdb.log" >&2; die "initdb failed"; }

  port="$(free_port)"
  # Loopback only, so trust auth is reachable from this machine alone.
  as_owner tee -a "$home/data/postgresql.conf" >/dev/null <<EOF

# Written by tools/postgres/server.sh: a throwaway test server.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$home/socket'
max_connections = 100
shared_buffers = 64MB
# Test data need only survive a server crash, not a machine crash: the OS page cache
# covers the former, so skipping fsync costs nothing a test can observe.
fsync = off
full_page_writes = off
logging_collector = off
EOF
  as_owner tee "$home/data/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
EOF

  as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 start >/dev/null \
    || { tail -n 30 "$home/server.log" >&2; die "pg_ctl start failed"; }
  as_owner "$bin/createdb" -h "$home/socket" -p "$port" -U postgres "$DB" \
    || die "createdb $DB failed"

  url="postgresql+psycopg://postgres@127.0.0.1:$port/$DB"
  echo "$url" >"$URLFILE"
  log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') up on 127.0.0.1:$port in $((SECONDS - t0)) s; cluster and log in $home"
  echo "$url"
}

cleanup() {
  local home
  if [[ -f "$HOMEFILE" ]]; then
    home="$(cat "$HOMEFILE")"
    # Only ever delete what this script made.
    [[ "$(basename "$home")" == klero-postgres.* ]] && rm -rf "$home"
  fi
  rm -f "$HOMEFILE" "$URLFILE"
}

stop() {
  if is_running; then
    local home bin
    home="$(cat "$HOMEFILE")"
    bin="$(find_bin)"
    log "stopping PostgreSQL (cluster in $home)"
    if ! as_owner "$bin/pg_ctl" -D "$home/data" -m fast -w -t 60 stop >/dev/null; then
      local pid
      pid="$(head -n 1 "$home/data/postmaster.pid" 2>/dev/null || true)"
      log "pg_ctl stop failed; killing postmaster ${pid:-?} and removing the cluster anyway"
      [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  cleanup
}

status() {
  if is_running; then
    echo "running url=$(cat "$URLFILE") cluster=$(cat "$HOMEFILE")"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
