"""How the generator's rows reach the database fast: multi-row inserts (COPY on PostgreSQL),
foreign keys and secondary indexes dropped during the load and rebuilt after it."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from models import db  # noqa: E402

BIG_TABLES = (
    "officer",
    "qualification_request",
    "request_event",
    "notice",
    "document",
    "distributor",
    "branch",
    "cooperation",
    "edit_request",
    "staff_user",
)


class Loader:
    """Multi-row inserts straight through the driver (one statement per chunk)."""

    def __init__(self):
        self.sqlite = models.is_sqlite()
        self.rows = 0

    def insert(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        meta = model._meta
        # Peewee's defaults live in Python, not in the schema: add the columns left out.
        missing = [f for f in meta.sorted_fields if f.name not in fields and not f.primary_key]
        if missing:
            extra = tuple(stored_time(f.default() if callable(f.default) else f.default) for f in missing)
            fields = list(fields) + [f.name for f in missing]
            rows = [row + extra for row in rows]
        columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in fields)
        table = meta.table_name
        if self.sqlite:
            sql = f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(fields))})'
            db.connection().executemany(sql, rows)
        else:
            # COPY is several times faster than multi-row INSERTs on PostgreSQL.
            buffer = io.StringIO("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows))
            with db.connection().cursor() as cursor:
                cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buffer)
        self.rows += len(rows)


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


FOREIGN_KEYS = []


def drop_foreign_keys() -> None:
    """PostgreSQL checks every foreign key row by row during a load: drop them, add them back
    at the end (one validating pass per constraint)."""
    if models.is_sqlite():
        return
    cursor = db.execute_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    )
    FOREIGN_KEYS[:] = cursor.fetchall()
    for table, name, _definition in FOREIGN_KEYS:
        db.execute_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def restore_foreign_keys() -> None:
    for table, name, definition in FOREIGN_KEYS:
        db.execute_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def stored_time(value):
    """SQLite stores peewee datetimes as 'YYYY-MM-DD HH:MM:SS' text; PostgreSQL takes the object.
    Only dates and times: a default of False written as the text 'False' reads back as true
    (every officer would have to change their password first)."""
    if value is None or not models.is_sqlite() or not isinstance(value, dt.date):
        return value
    return str(value)


def drop_secondary_indexes() -> None:
    for table in BIG_TABLES:
        for index in db.get_indexes(table):
            if index.name.endswith("_pkey") or index.name.startswith("sqlite_autoindex"):
                continue
            db.execute_sql(f'DROP INDEX IF EXISTS "{index.name}"')


def rebuild_indexes() -> None:
    for model in models.ALL_MODELS:
        model._schema.create_indexes(safe=True)


def reset_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    models.bind_url(url)
    db.connect(reuse_if_open=True)
    if not url.startswith("sqlite"):
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    else:
        # A bulk load: no fsync per transaction, a large page cache.
        db.execute_sql("PRAGMA synchronous=OFF")
        db.execute_sql("PRAGMA cache_size=-1000000")
