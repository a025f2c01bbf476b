#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (browser tests) and PostgreSQL.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The server programs (initdb, pg_ctl): tools/postgres.sh runs a cluster of the suite's own.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
