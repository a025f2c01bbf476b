"""Database binding, the base model and the domain's error type.

Nothing here imports Flask: the web layer binds the database late through
:func:`bind_database` and translates :class:`DomainError` message ids itself.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import threading
import weakref
from dataclasses import dataclass, field

from peewee import DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase, Value
from playhouse.db_url import connect

from persian import sort_key

db = DatabaseProxy()

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    # Writers wait for each other instead of failing with "database is locked".
    ("busy_timeout", 15000),
    ("synchronous", "normal"),
)


def N_(message: str) -> str:
    """Mark a message id for extraction; the views translate it at display time."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark a short message with a context (``pgettext``), e.g. the name of a state."""
    return message


def utcnow() -> _dt.datetime:
    """Naive UTC now: every timestamp is stored in UTC and shown in Tehran time."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


class DomainError(Exception):
    """A rule of the domain refused an operation.

    ``msgid`` is an untranslated English message id with ``%(name)s`` placeholders;
    ``field`` names the form field the error belongs to, when there is one.
    """

    def __init__(self, msgid: str, field: str | None = None, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.field = field
        self.params = params


class ConflictError(DomainError):
    """Someone else changed the record first (a concurrent decision or double click)."""


class PermissionDenied(DomainError):
    """The actor may not perform this operation on this record."""


# Persian alphabetical order in SQL (ORDER BY name COLLATE "fa-x-icu"): PostgreSQL has ICU's
# collation under this name; SQLite gets the same order from PyICU, registered on each connection.
PERSIAN_COLLATION = "fa-x-icu"


def _persian_compare(left, right) -> int:
    left_key, right_key = sort_key(left), sort_key(right)
    return (left_key > right_key) - (left_key < right_key)


def connect_database(url: str):
    """Open a database from a URL with the house settings (WAL, foreign keys, timeouts)."""
    if url.startswith("sqlite"):
        # IMMEDIATE takes the write lock at BEGIN, so a read-then-write
        # transaction never fails half-way with SQLITE_BUSY on upgrade.
        database = connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False)
        database.register_collation(_persian_compare, PERSIAN_COLLATION)
        return database
    return connect(url)


def sql_persian_order(field):
    """``field`` for an ORDER BY in Persian alphabetical order, on both databases."""
    return field.collate(f'"{PERSIAN_COLLATION}"')


def bind_database(database) -> None:
    """Point the proxy at a concrete database (called once by the app factory or a CLI)."""
    db.initialize(database)


def bind_url(url: str) -> None:
    """Bind the database of ``url`` unless it is bound already (several apps, one process)."""
    if getattr(db.obj, "registry_url", None) == url:
        return
    database = connect_database(url)
    database.registry_url = url
    bind_database(database)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


class _Slot:
    """Where a value of a `Prepared` query goes among the parameters of its SQL."""

    def __init__(self, index: int):
        self.index = index


class Prepared:
    """A select whose SQL is built once per database, then run again with new values.

    Peewee builds a query's SQL from its node tree at every execution; for a select of
    every column of an officer that costs about 0.3 ms, more than SQLite or PostgreSQL
    needs to answer it. The few queries that every page runs (the session check, the
    officer's own request) are declared once::

        REQUEST_OF = Prepared(lambda request_id, officer_id: QualificationRequest.select()
                              .where((QualificationRequest.id == request_id)
                                     & (QualificationRequest.officer == officer_id)).limit(1))
        REQUEST_OF.first(7, 42)

    ``build`` receives one placeholder per value and returns the query; the values are
    passed to the driver as they are (ids, text), in the same order.

    On PostgreSQL the statement is also prepared on the server (``PREPARE``, once per
    connection), which saves planning it at every request: half the database's time on
    an officer's page. (Behind PgBouncer this needs its session pooling mode.)
    """

    _names = itertools.count(1)

    def __init__(self, build):
        self._build = build
        self._arity = build.__code__.co_argcount
        self._name = f"registry_prepared_{next(self._names)}"
        self._compiled: dict = {}
        self._lock = threading.Lock()

    def _for(self, database):
        found = self._compiled.get(id(database))
        if found is None or found[0] is not database:
            query = self._build(*[Value(_Slot(i), converter=False) for i in range(self._arity)])
            sql, params = query.sql()
            slots = [(position, value.index) for position, value in enumerate(params) if isinstance(value, _Slot)]
            found = (database, sql, params, slots, query)
            with self._lock:
                self._compiled[id(database)] = found
        return found

    def rows(self, *values):
        """The rows (model instances, as the query would give them) for these values."""
        database, sql, params, slots, query = self._for(db.obj)
        params = list(params)
        for position, index in slots:
            params[position] = values[index]
        if isinstance(database, PostgresqlDatabase):
            cursor = self._execute_prepared(database, sql, params)
        else:
            cursor = database.execute_sql(sql, params)
        return query._get_cursor_wrapper(cursor)

    def first(self, *values):
        """The first row for these values, or None."""
        return next(iter(self.rows(*values)), None)

    def _execute_prepared(self, database, sql, params):
        connection = database.connection()
        prepared = _PREPARED_ON.get(connection)
        if prepared is None:
            prepared = _PREPARED_ON[connection] = set()
        if self._name not in prepared:
            # psycopg2 takes %s, PREPARE takes $1, $2...; a PREPARE outlives a rollback.
            numbers = itertools.count(1)
            server_sql = re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
            database.execute_sql(f"PREPARE {self._name} AS {server_sql}")
            prepared.add(self._name)
        arguments = f" ({', '.join(['%s'] * len(params))})" if params else ""
        return database.execute_sql(f"EXECUTE {self._name}{arguments}", params)


# The statements each PostgreSQL connection has prepared (a connection is a server session).
_PREPARED_ON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


@dataclass(frozen=True)
class Actor:
    """Who performs an operation. Passed explicitly, never read from a web global."""

    kind: str  # officer | distributor | staff | system
    id: int | None = None
    role: str | None = None  # staff only: directorate | university
    university_id: int | None = None
    name: str = ""
    ip: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_directorate(self) -> bool:
        return self.kind == "staff" and self.role == "directorate"

    @property
    def is_reviewer(self) -> bool:
        return self.kind == "staff" and self.role == "university"


SYSTEM = Actor(kind="system", name="system")


_TRANSLATIONS = {}


def translate(msgid: str, locale: str = "fa", **params) -> str:
    """Render a message for an SMS or a stored notice, which are always in Persian.

    Uses Babel's catalogue directly, so domain code stays free of Flask.
    """
    from pathlib import Path

    from babel.support import NullTranslations, Translations

    if locale not in _TRANSLATIONS:
        directory = Path(__file__).resolve().parent.parent / "translations"
        loaded = Translations.load(str(directory), [locale], domain="messages")
        _TRANSLATIONS[locale] = loaded if loaded is not None else NullTranslations()
    text = _TRANSLATIONS[locale].gettext(msgid)
    return text % params if params else text
