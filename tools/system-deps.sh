#!/usr/bin/env bash
# Debian packages the application and its tests need: ICU's headers, pkg-config and a C++
# compiler (PyICU builds against them: Persian alphabetical order), Chromium (browser tests),
# PostgreSQL and nginx (the two-host test puts it in front of two gunicorn hosts).
#   tools/system-deps.sh        everything (make test)
#   tools/system-deps.sh app    only what installing the application needs (every make install*)
set -euo pipefail
need=()
dpkg -s libicu-dev >/dev/null 2>&1 || need+=(libicu-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if [ "${1:-all}" != app ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # The server programs (initdb, pg_ctl): tools/postgres.sh runs a cluster of the suite's own.
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
  # nginx: the two-host test (tests/operations) puts Debian's nginx in front of two gunicorn hosts.
  [ -x /usr/sbin/nginx ] || need+=(nginx)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The tests start their own servers: keep the packages' services (nginx on port 80, the
# default PostgreSQL cluster) from starting at install time, unless a policy already decides.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
