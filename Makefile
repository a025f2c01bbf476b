# Two commands matter: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test test-sqlite test-postgres install install-test system-deps postgres bench serve-prod i18n assets clean

$(BIN)/flask: pyproject.toml
	tools/system-deps.sh app
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(BIN)/flask

install: $(BIN)/flask

$(VENV)/.test-deps: $(BIN)/flask
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install-test: $(VENV)/.test-deps

## Serve on the embedded SQLite database; creates it (with reference data and demo accounts) when empty.
run: install
	$(BIN)/flask init-db
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Install everything the tests need, then run the whole suite on SQLite and on PostgreSQL.
test: install-test system-deps postgres
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# Two workers: the machines have two cores. Each worker has its own database.
PYTEST := $(BIN)/python -m pytest -q -n $${TEST_WORKERS:-2} --dist loadfile

test-sqlite:
	$(PYTEST)

test-postgres:
	TEST_DATABASE_URL=$$(tools/postgres.sh url) $(PYTEST) -m "not sqlite_only"

## Debian packages for the browser tests and the database (needs root, as on CI).
system-deps:
	tools/system-deps.sh

postgres:
	tools/postgres.sh start

## The performance benchmark (bench/run.py, figures in bench/RESULTS.md): generates the data sets
## when missing (SQLite and PostgreSQL, 10k/100k/1M requests: about 15 minutes the first time),
## then measures both databases against stock Flask-Admin (about 20 minutes). Needs root for
## PostgreSQL and wrk. BENCH_ARGS="--backend sqlite --scales 0.01,0.1" for a quick look.
bench: install postgres
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Production: migrations, then gunicorn with gunicorn.conf.py (2 x cores + 1 workers). Needs
## SECRET_KEY, DATABASE_URL (PostgreSQL) and UPLOAD_DIR (shared); see README, "Production".
## MIGRATE=0 skips the migrations (on the second app host).
serve-prod: install
	if [ "$${MIGRATE:-1}" = 1 ]; then APP_ENV=production $(BIN)/flask init-db; fi
	APP_ENV=production HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

i18n: install
	tools/i18n.sh

assets:
	tools/vendor-assets.sh

clean:
	rm -rf $(VENV) instance test-artifacts
