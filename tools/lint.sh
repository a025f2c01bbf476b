#!/usr/bin/env bash
# ruff over the whole tree (rules in pyproject.toml): `ruff check` and `ruff format --check`.
# Any finding fails, with ruff's own report; `ruff check --fix . && ruff format .` repairs most.
set -uo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-.venv/bin/ruff}
status=0
"$RUFF" check --quiet . || status=1
"$RUFF" format --check --quiet . || status=1
[ $status = 0 ] && echo "lint: ruff check and ruff format --check are clean"
exit $status
