#!/usr/bin/env bash
# A local PostgreSQL for the test suite.
#   tools/postgres.sh start   start the cluster and create the role and database
#   tools/postgres.sh url     print the DATABASE_URL of that database
set -euo pipefail
DB=${PG_TEST_DB:-registry_test}
USER_NAME=${PG_TEST_USER:-registry}
PASSWORD=${PG_TEST_PASSWORD:-registry}
PORT=${PG_TEST_PORT:-5432}
case "${1:-start}" in
  url)
    echo "postgresql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
    ;;
  start)
    version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
    if [ -z "$version" ]; then echo "PostgreSQL is not installed" >&2; exit 1; fi
    if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
      pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster "$version" main start 2>/dev/null || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p "$PORT" && break
      sleep 1
    done
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'\"" | grep -q 1 \
      || su postgres -c "psql -qc \"CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'\""
    # The test workers (pytest-xdist) create a database each.
    su postgres -c "psql -qc \"ALTER ROLE $USER_NAME CREATEDB\"" >/dev/null
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
      || su postgres -c "createdb -O $USER_NAME $DB"
    ;;
  *) echo "usage: $0 start|url" >&2; exit 2 ;;
esac
