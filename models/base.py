"""Database binding, the base model and the domain's error type.

Nothing here imports Flask: the web layer binds the database late through
:func:`bind_database` and translates :class:`DomainError` message ids itself.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from babel.support import NullTranslations, Translations
from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect

from persian import sort_key, to_tehran

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


def tehran_today(now: _dt.datetime | None = None) -> _dt.date:
    """Today's (Gregorian) date in Tehran, the date every rule of "today" means.

    Between 00:00 and about 03:30 Tehran time the UTC date is still yesterday, so a
    birthday or the first day of the Jalali year would come a few hours late."""
    return to_tehran(now or utcnow()).date()


# The largest id either database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """A record id typed in a URL or a form, or None: ASCII digits only (``str.isdigit``
    is also true for "²" or "①", which ``int`` refuses) and within 63 bits."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def is_id(value) -> bool:
    """True if ``value`` is a record id (see :func:`parse_id`)."""
    return parse_id(value) is not None


class DomainError(Exception):
    """A rule of the domain refused an operation.

    ``msgid`` is an untranslated English message id with ``%(name)s`` placeholders;
    ``field`` names the form field the error belongs to, when there is one; ``code``
    is a stable machine code (e.g. ``"required"``, ``"under_age"``) for callers that
    must not depend on the wording, such as the legacy import's report.
    """

    def __init__(self, msgid: str, field: str | None = None, *, code: str | None = None, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.field = field
        self.code = code
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
        _private_sqlite_file(url)
        # IMMEDIATE takes the write lock at BEGIN, so a read-then-write
        # transaction never fails half-way with SQLITE_BUSY on upgrade.
        database = connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False)
        database.register_collation(_persian_compare, PERSIAN_COLLATION)
        return database
    return connect(url)


def sql_persian_order(field):
    """``field`` for an ORDER BY in Persian alphabetical order, on both databases."""
    return field.collate(f'"{PERSIAN_COLLATION}"')


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask, 0644): it
    holds personal data and password hashes. Its -wal and -shm files copy its mode."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return
    path = path.split("?", 1)[0]
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    except OSError:
        return  # a directory that does not exist yet: SQLite reports it when it opens


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


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


ActorKind = Literal["officer", "distributor", "staff", "system"]
StaffRole = Literal["directorate", "university"]


@dataclass(frozen=True)
class Actor:
    """Who performs an operation. Passed explicitly, never read from a web global.

    Permission checks read the actor through these predicates only (``is_officer``,
    ``is_distributor``, ``is_reviewer``, ``is_directorate``); the models build their
    ``can_*`` predicates and ``visible_to`` queries on them."""

    kind: ActorKind
    id: int | None = None
    role: StaffRole | None = None  # staff only
    university_id: int | None = None
    name: str = ""
    ip: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_directorate(self) -> bool:
        return self.kind == "staff" and self.role == "directorate"

    @property
    def is_reviewer(self) -> bool:
        """A reviewer of a university of medical sciences (``university_id`` says which)."""
        return self.kind == "staff" and self.role == "university"

    def is_officer(self, officer_id=None) -> bool:
        """An officer; with ``officer_id``, that officer."""
        return self.kind == "officer" and (officer_id is None or self.id == officer_id)

    def is_distributor(self, distributor_id=None) -> bool:
        """A distributor; with ``distributor_id``, that distributor."""
        return self.kind == "distributor" and (distributor_id is None or self.id == distributor_id)


SYSTEM = Actor(kind="system", name="system")


def anonymous_actor(ip: str = "") -> Actor:
    """Someone not logged in (a login attempt, a password reset), known by address only."""
    return Actor(kind="system", name="anonymous", ip=ip)


TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
_TRANSLATIONS = {}


def translate(msgid: str, locale: str = "fa", **params) -> str:
    """Render a message for an SMS or a stored notice, which are always in Persian.

    Uses Babel's catalogue directly, so domain code stays free of Flask.
    """
    if locale not in _TRANSLATIONS:
        directory = TRANSLATIONS_DIR
        loaded = Translations.load(str(directory), [locale], domain="messages")
        _TRANSLATIONS[locale] = loaded if loaded is not None else NullTranslations()
    text = _TRANSLATIONS[locale].gettext(msgid)
    return text % params if params else text
