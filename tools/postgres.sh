#!/usr/bin/env bash
# A PostgreSQL cluster of the test suite's own: its own data directory and a private port,
# never the system's cluster on 5432 (which may be a developer's own database).
#   tools/postgres.sh start   create the cluster on first use (initdb), start it, create the
#                             role and the database
#   tools/postgres.sh url     print the DATABASE_URL of that database
#   tools/postgres.sh stop    stop the cluster (its data directory is kept for the next start)
#   tools/postgres.sh status  say whether it runs
#   tools/postgres.sh destroy stop it and remove its data directory (make clean)
#
# Settings: PG_TEST_PORT (54329), PG_TEST_DIR (/tmp/registry-pg-$PG_TEST_PORT), PG_TEST_DB
# (registry_test), PG_TEST_USER / PG_TEST_PASSWORD (registry / registry).
# As root (CI) the cluster belongs to the "postgres" system user; as anyone else it is yours
# (no sudo needed), as long as PostgreSQL's server programs are installed.
set -euo pipefail
PORT=${PG_TEST_PORT:-54329}
DIR=${PG_TEST_DIR:-/tmp/registry-pg-$PORT}
DB=${PG_TEST_DB:-registry_test}
USER_NAME=${PG_TEST_USER:-registry}
PASSWORD=${PG_TEST_PASSWORD:-registry}

die() { echo "tools/postgres.sh: $*" >&2; exit 1; }

# The server programs: Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH.
bindir() {
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -1 || true)
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
  die "PostgreSQL's server programs (initdb, pg_ctl) are not installed: apt-get install postgresql (as root: make system-deps)"
}

# Run a command as the cluster's owner: the postgres user when we are root (PostgreSQL
# refuses to run as root), ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql creates it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# psql as the cluster's superuser, over the Unix socket in the data directory (trusted: only
# the owner can enter that directory).
psql_super() { as_owner "$BIN/psql" -X -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

running() { [ -f "$DIR/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; }

# The user the cluster runs as.
owner() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

start() {
  # /tmp is shared: never follow a link, never adopt a directory someone else made.
  [ -L "$DIR" ] && die "$DIR is a symbolic link; remove it or set PG_TEST_DIR"
  if [ -e "$DIR" ] && [ "$(stat -c %U "$DIR")" != "$(owner)" ]; then
    die "$DIR belongs to $(stat -c %U "$DIR"), not $(owner); set PG_TEST_DIR (or PG_TEST_PORT) to a cluster of your own"
  fi
  if [ -e "$DIR" ] && [ ! -f "$DIR/PG_VERSION" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    die "$DIR exists and is not a PostgreSQL cluster; remove it or set PG_TEST_DIR"
  fi
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    # Trust on the socket (in $DIR, mode 0700), passwords over TCP.
    as_owner "$BIN/initdb" -D "$DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$DIR.initdb.log" 2>&1 \
      || { cat "$DIR.initdb.log" >&2; die "initdb failed"; }
    rm -f "$DIR.initdb.log"
    # A throw-away test cluster: no fsync (the suite's crash tests kill processes, not the
    # machine), only 127.0.0.1 and the socket in $DIR.
    cat >>"$DIR/postgresql.conf" <<EOF
# tools/postgres.sh: the test suite's cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  fi
  if ! running; then
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start >/dev/null \
      || { tail -20 "$DIR/server.log" >&2; die "the cluster in $DIR did not start (is port $PORT taken?)"; }
  fi
  psql_super -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME'" | grep -q 1 \
    || psql_super -c "CREATE ROLE \"$USER_NAME\" LOGIN PASSWORD '$PASSWORD'"
  # The test workers (pytest-xdist) create a database each.
  psql_super -c "ALTER ROLE \"$USER_NAME\" CREATEDB"
  psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
    || psql_super -c "CREATE DATABASE \"$DB\" OWNER \"$USER_NAME\""
  echo "PostgreSQL test cluster running: $DIR, port $PORT"
}

stop() {
  if running; then
    as_owner "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null
    echo "PostgreSQL test cluster stopped: $DIR, port $PORT"
  fi
}

destroy() {
  [ -e "$DIR" ] || return 0
  stop
  rm -rf "$DIR"
  echo "PostgreSQL test cluster removed: $DIR"
}

case "${1:-start}" in
  url) echo "postgresql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB" ;;
  start) BIN=$(bindir); start ;;
  stop) if [ -e "$DIR" ]; then BIN=$(bindir); stop; fi ;;
  destroy) if [ -e "$DIR" ]; then BIN=$(bindir); destroy; fi ;;
  status) BIN=$(bindir); if running; then echo "running: $DIR, port $PORT"; else echo "stopped: $DIR, port $PORT"; exit 3; fi ;;
  *) echo "usage: $0 start|url|stop|status|destroy" >&2; exit 2 ;;
esac
