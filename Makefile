# Two commands matter: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test lint test-sqlite test-postgres install install-test install-prod system-deps \
        postgres postgres-stop lock bench serve-prod i18n assets clean

# ------------------------------------------------------------------ environments

# The virtual environment, on Python 3.11 or newer.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Python 3.11 or newer is needed ($(PYTHON) is $$($(PYTHON) --version 2>&1 || echo missing));" \
	       "name another one: make PYTHON=python3.12 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Exactly the versions of the lock (uv.lock, exported to requirements/*.txt by `make lock`),
# hash-checked, nothing resolved here; then the project itself, editable.
#   run:  the application on SQLite (make run, make i18n)
#   prod: and PostgreSQL's driver (make serve-prod, make bench)
#   test: and PostgreSQL's driver, pytest, Playwright, ruff (make test)
$(VENV)/.installed-%: requirements/%.txt pyproject.toml | $(BIN)/python
	tools/system-deps.sh app
	$(PIP) install --quiet --require-hashes --no-deps -r $<
	$(PIP) install --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed-run
install-prod: $(VENV)/.installed-prod
install-test: $(VENV)/.installed-test

# uv resolves the lock; nothing else needs it. Its version is pinned here.
UV_VERSION := 0.13.8
UV := $(VENV)/tools/bin/uv
$(UV): | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/tools
	$(VENV)/tools/bin/python -m pip --disable-pip-version-check install --quiet uv==$(UV_VERSION)

## Refresh the lock after a change to the dependencies in pyproject.toml (keeps every other
## version); `make lock UPGRADE=1` moves everything to the newest versions the ranges allow.
## Commit uv.lock and requirements/ together, then run `make test`.
UV_EXPORT := $(UV) export --quiet --frozen --no-emit-project --format requirements-txt
lock: $(UV)
	$(UV) lock $(if $(filter 1,$(UPGRADE)),--upgrade)
	$(UV_EXPORT) -o requirements/run.txt
	$(UV_EXPORT) --extra postgres -o requirements/prod.txt
	$(UV_EXPORT) --extra test -o requirements/test.txt

# ------------------------------------------------------------------ the two commands

## Serve on the embedded SQLite database; creates it (with reference data and demo accounts) when empty.
## FLASK_DEBUG=1 make run reloads on every change and shows the debugger.
# Stopping the server (Ctrl-C, or a SIGTERM: exit 130 or 143) is its normal end, not a make error.
run: install
	$(BIN)/flask init-db
	@echo "$(BIN)/flask run --host $(HOST) --port $(PORT)"
	@$(BIN)/flask run --host $(HOST) --port $(PORT) || { rc=$$?; [ $$rc = 130 ] || [ $$rc = 143 ] || exit $$rc; }

## Install everything the tests need, lint, then run the whole suite on SQLite and on PostgreSQL
## (a cluster of the suite's own on PG_TEST_PORT, stopped at the end whatever the outcome).
test: install-test system-deps
	@$(MAKE) --no-print-directory lint
	@trap 'tools/postgres.sh stop' EXIT; trap 'exit 130' INT TERM; \
	  tools/postgres.sh start && \
	  $(MAKE) --no-print-directory test-sqlite && \
	  $(MAKE) --no-print-directory test-postgres

## ruff check and ruff format --check (settings in pyproject.toml); any finding fails `make test`.
lint: install-test
	@tools/lint.sh

# Two workers: the machines have two cores. Each worker has its own database.
# -rs lists the skipped tests with their reason (on PostgreSQL: the sqlite_only ones).
PYTEST := $(BIN)/python -m pytest -n $${TEST_WORKERS:-2} --dist loadfile --no-header -rs

test-sqlite: install-test
	@echo "== the suite on SQLite"
	$(PYTEST)

# The browser tests (tests/e2e) drive the pages, the same on both databases: they run once,
# on SQLite; every domain and request-level test runs on both (the run stays within CI's time).
test-postgres: install-test
	@echo "== the suite on PostgreSQL ($$(tools/postgres.sh url)); the sqlite_only tests are skipped, the browser tests ran on SQLite"
	TEST_DATABASE_URL=$$(tools/postgres.sh url) $(PYTEST) --ignore=tests/e2e

## Debian packages: ICU's headers, pkg-config and g++ for PyICU (every install runs
## `tools/system-deps.sh app` first), Chromium for the browser tests, PostgreSQL (needs root, as on CI).
system-deps:
	tools/system-deps.sh

## The tests' PostgreSQL cluster by hand (tools/postgres.sh: start, url, stop).
postgres:
	tools/postgres.sh start

postgres-stop:
	tools/postgres.sh stop

# ------------------------------------------------------------------ other targets

## The performance benchmark (bench/run.py, figures in bench/RESULTS.md): generates the data sets
## when missing (SQLite and PostgreSQL, 10k/100k/1M requests: about 15 minutes the first time),
## then measures both databases against stock Flask-Admin (about 20 minutes). Needs root: it uses
## the system's PostgreSQL cluster (bench/postgres.sh) and installs wrk.
## BENCH_ARGS="--backend sqlite --scales 0.01,0.1" for a quick look.
bench: install-prod
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Production: migrations, then gunicorn with gunicorn.conf.py (2 x cores + 1 workers). Needs
## SECRET_KEY, DATABASE_URL (PostgreSQL) and UPLOAD_DIR (shared); see README, "Production".
## MIGRATE=0 skips the migrations (on the second app host).
serve-prod: install-prod
	if [ "$${MIGRATE:-1}" = 1 ]; then APP_ENV=production $(BIN)/flask init-db; fi
	APP_ENV=production HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

i18n: install
	tools/i18n.sh

## The vendored front-end packages (needs node and npm).
assets:
	tools/vendor-assets.sh

## Remove the virtual environment, instance/ (the development database and documents), the
## test artifacts and the tests' PostgreSQL cluster.
clean:
	-tools/postgres.sh destroy
	rm -rf $(VENV) instance test-artifacts *.egg-info
