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

test-sqlite:
	$(BIN)/python -m pytest -q

test-postgres:
	TEST_DATABASE_URL=$$(tools/postgres.sh url) $(BIN)/python -m pytest -q -m "not sqlite_only"

## Debian packages for the browser tests and the database (needs root, as on CI).
system-deps:
	tools/system-deps.sh

postgres:
	tools/postgres.sh start

bench: install
	$(BIN)/python bench/run.py

serve-prod: install
	APP_ENV=production $(BIN)/gunicorn --workers $${WORKERS:-4} --bind $(HOST):$(PORT) 'app:create_app()'

i18n: install
	tools/i18n.sh

assets:
	tools/vendor-assets.sh

clean:
	rm -rf $(VENV) instance test-artifacts
