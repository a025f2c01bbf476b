"""Schema migrations with peewee-migrate: the files under ``migrations/`` are applied in
order and recorded in the ``migratehistory`` table. Imports no Flask; ``flask init-db``
(and anything else) calls :func:`migrate`.

A database made before migrations existed (by ``create_tables()`` of the release before)
has tables but no history: it is recorded as being at ``001_initial`` and the later
migrations are applied to it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext
from pathlib import Path

from peewee import SqliteDatabase

from .base import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "001_initial"
HISTORY_TABLE = "migratehistory"


def router(database=None):
    from peewee_migrate import Router

    logger = logging.getLogger("registry.migrations")
    return Router(database if database is not None else db.obj, migrate_dir=MIGRATIONS_DIR, logger=logger)


def pending(database=None) -> list[str]:
    return list(router(database).diff)


def unapplied(database=None) -> list[str]:
    """The migrations in ``migrations/`` that the database has not recorded, read without
    writing anything (``pending`` creates the history table when it is missing); for the
    readiness probe."""
    database = database if database is not None else db.obj
    done = set()
    if HISTORY_TABLE in database.get_tables():
        done = {name for (name,) in database.execute_sql('SELECT name FROM "migratehistory"').fetchall()}
    return [name for name in router(database).todo if name not in done]


def migrate(database=None, upto: str | None = None) -> list[str]:
    """Apply the pending migrations (up to and including ``upto``); return their names."""
    database = database if database is not None else db.obj
    routes = router(database)
    applied = []
    with database.connection_context() if database.is_closed() else nullcontext():
        if not routes.done and "officer" in database.get_tables():
            routes.run_one(BASELINE, routes.migrator, fake=True, force=True)
            applied.append(BASELINE + " (recorded: the tables were there)")
            routes = router(database)
        with _foreign_keys_off_on_sqlite(database):
            applied += routes.run(upto)
    return applied


@contextmanager
def _foreign_keys_off_on_sqlite(database):
    """SQLite changes a column by rebuilding its table, which the other tables' ``ON DELETE
    RESTRICT`` keys forbid; its documented procedure switches the keys off (outside any
    transaction) around the change and checks them after (``PRAGMA foreign_key_check``)."""
    if not isinstance(database, SqliteDatabase) or not database.pragma("foreign_keys"):
        yield
        return
    database.pragma("foreign_keys", 0)
    try:
        yield
        broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
    finally:
        database.pragma("foreign_keys", 1)
