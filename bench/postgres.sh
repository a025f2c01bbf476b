#!/usr/bin/env bash
# The benchmark's PostgreSQL: the system's own cluster (Debian's "main", port 5432; needs
# root), where the large generated data sets persist between runs and the server keeps its
# stock settings, as bench/RESULTS.md was measured. The test suite has a throw-away cluster
# of its own (tools/postgres.sh).
#   bench/postgres.sh start   start the cluster; create the role "registry" (bench/run.py
#                             creates its databases)
set -euo pipefail
USER_NAME=registry
PASSWORD=registry
case "${1:-start}" in
  start)
    version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
    if [ -z "$version" ]; then echo "PostgreSQL is not installed" >&2; exit 1; fi
    if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
      pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster "$version" main start 2>/dev/null || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1
    done
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'\"" | grep -q 1 \
      || su postgres -c "psql -qc \"CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'\""
    ;;
  *) echo "usage: $0 start" >&2; exit 2 ;;
esac
