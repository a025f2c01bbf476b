"""Prepared statements: the one module of the domain that relies on peewee's insides.

Peewee builds a query's SQL from its node tree at every execution; for a select of
every column of an officer that costs about 0.3 ms, more than SQLite or PostgreSQL
needs to answer it. The few queries that every page runs (the session check, the
officer's own request) are declared once as a :class:`Prepared` and their SQL is
reused (half the database time of an officer's page, ``bench/RESULTS.md``).

What this module needs from peewee beyond its documented API, checked by
:func:`check_peewee_internals` (and so by ``tests/test_prepared.py``) so that an
upgrade that changes one fails with a message naming it, not with a wrong row:

* ``ModelSelect._get_cursor_wrapper(cursor)`` (private, defined on ``_ModelQueryHelper``):
  turns a DB-API cursor into the rows the query would give (model instances, with the
  joined models attached).
* ``Value(obj, converter=False)``: ``False`` (not ``None``, which means "the field's
  converter") leaves ``obj`` itself in the parameters that ``query.sql()`` returns,
  where :class:`Prepared` finds the placeholders again.

Everything else (``query.sql()``, ``Database.execute_sql``, ``Database.connection``)
is public API.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref

import peewee
from peewee import CharField, Model, PostgresqlDatabase, Value

from .base import db

# The private peewee names this module uses, as (owner, attribute).
PEEWEE_PRIVATE_NAMES = (("peewee.ModelSelect", "_get_cursor_wrapper"),)


class _Slot:
    """Where a value of a `Prepared` query goes among the parameters of its SQL."""

    def __init__(self, index: int):
        self.index = index


class Prepared:
    """A select whose SQL is built once per database, then run again with new values::

        REQUEST_OF = Prepared(lambda request_id, officer_id: QualificationRequest.select()
                              .where((QualificationRequest.id == request_id)
                                     & (QualificationRequest.officer == officer_id)).limit(1))
        REQUEST_OF.first(7, 42)

    ``build`` receives one placeholder per value and returns the query; the values are
    passed to the driver as they are (ids, text), in the same order.

    On PostgreSQL the statement is also prepared on the server (``PREPARE``, once per
    connection), which saves planning it at every request. (Behind PgBouncer this needs
    its session pooling mode.)
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


class _Probe(Model):
    """A table that is never created: only its SQL is built, to check peewee's behaviour."""

    name = CharField()


def check_peewee_internals() -> None:
    """Raise RuntimeError naming what changed if this peewee no longer offers what
    :class:`Prepared` relies on (see the module's docstring)."""
    problems = []
    for owner, name in PEEWEE_PRIVATE_NAMES:
        cls = getattr(peewee, owner.split(".", 1)[1], None)
        if cls is None or not callable(getattr(cls, name, None)):
            problems.append(f"{owner}.{name} is gone")
    marker = _Slot(0)
    try:
        _sql, params = _Probe.select().where(_Probe.name == Value(marker, converter=False)).sql()
        if not any(value is marker for value in params):
            problems.append("Value(obj, converter=False) no longer leaves obj in the query's parameters")
    except (TypeError, ValueError, AttributeError) as error:
        problems.append(f"building a query with Value(obj, converter=False) failed: {error!r}")
    if problems:
        raise RuntimeError(
            f"peewee {peewee.__version__} changed what models/prepared.py relies on: "
            + "; ".join(problems)
            + ". Adapt models/prepared.py before upgrading."
        )


class Compiled:
    """A select whose SQL was built once, run again as it is (same values): a page that
    many people draw the same way (a cartable's first page) skips building its query."""

    def __init__(self, query):
        self.sql, self.params = query.sql()
        self.query = query

    def rows(self) -> list:
        """The rows, as the query would give them (tuples, model instances...)."""
        return list(self.query._get_cursor_wrapper(db.obj.execute_sql(self.sql, self.params)))
