"""CSV exports of the back-office lists: streamed, formula-safe, with a BOM, fast at a million rows.

Two row paths give the same cells:

* **tuples** (the fast one): when a view can name, for every exported column, the SQL
  expressions it needs (`ExportColumn`, or a plain field of the model), the export selects
  exactly those columns and formats the driver's raw values: no model instances, no
  Flask-Admin formatters. A million rows of the university cartable are a few seconds of SQL
  and about 10 µs of Python per row.
* **model rows**: anything else (a column formatted from a model instance) builds peewee
  instances and runs the view's formatters, as Flask-Admin would. Every view declares its
  joined columns (`ExportColumn`), so every export of ours takes the tuple path.

Both read the result without holding it: SQLite steps through it, PostgreSQL through a
server-side cursor (psycopg2 would otherwise load the whole result into memory).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import queue
import threading
from functools import lru_cache
from itertools import islice

from flask_babel import gettext
from peewee import AutoField, BooleanField, DateField, DateTimeField, ForeignKeyField

import persian
from models import db, is_sqlite
from models.spreadsheet import FORMULA_PREFIXES, escape_formula  # noqa: F401  (one escaper for every CSV)

from .flask_admin_adapter import model_rows

# Rows per chunk written to the client, and fetched per round trip on PostgreSQL.
EXPORT_CHUNK_ROWS = 2_000
# The first chunk is small, so that the first rows reach the client at once.
FIRST_CHUNK_ROWS = 50


# ---------------------------------------------------------------------- Jalali cells


@lru_cache(maxsize=8192)
def jalali_day(day: _dt.date) -> str:
    """``YYYY/MM/DD`` in the Jalali calendar; cached because the conversion is pure Python
    and an export of a million rows repeats a few thousand days."""
    return persian.format_jalali_date(day)


_HH_MM = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60)]
_ONE_DAY = _dt.timedelta(days=1)
# Per UTC day: Tehran's offset in minutes that day and the Jalali dates of the day before,
# the day itself and the day after; None on a day the offset changes (Iran's DST, until
# 2022), whose stamps take the general conversion. A million rows span a few thousand days.
_utc_days: dict = {}
_UTC_DAYS_KEPT = 100_000


def _utc_day(key, day: _dt.date):
    start = _dt.datetime(day.year, day.month, day.day)
    offset = persian.to_tehran(start).utcoffset()
    if persian.to_tehran(start + _ONE_DAY - _dt.timedelta(microseconds=1)).utcoffset() != offset:
        found = None
    else:
        found = (
            int(offset.total_seconds()) // 60,
            (jalali_day(day - _ONE_DAY), jalali_day(day), jalali_day(day + _ONE_DAY)),
        )
    if len(_utc_days) >= _UTC_DAYS_KEPT:
        _utc_days.clear()
    _utc_days[key] = found
    return found


def jalali_stamp(value) -> str:
    """A stored (naive UTC) timestamp as Tehran's Jalali ``YYYY/MM/DD HH:MM``.

    Takes what the driver gives: a ``datetime`` (PostgreSQL) or peewee's text form
    ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` (SQLite). Same result as
    ``persian.format_jalali_datetime(persian.to_tehran(value))``, with the time zone
    looked up once per day instead of once per value."""
    if value.__class__ is str:
        if len(value) < 16 or value[13] != ":":
            return jalali_stamp(as_datetime(value))
        key = value[:10]
        day = _utc_days.get(key, False)
        if day is False:
            day = _utc_day(key, _dt.date.fromisoformat(key))
        minutes = int(value[11:13]) * 60 + int(value[14:16])
    elif isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        key = value.date()
        day = _utc_days.get(key, False)
        if day is False:
            day = _utc_day(key, key)
        minutes = value.hour * 60 + value.minute
    elif value is None:
        return ""
    else:
        return jalali_date_cell(value)
    if day is None:
        return persian.format_jalali_datetime(persian.to_tehran(as_datetime(value)))
    shift, local = divmod(minutes + day[0], 1440)
    return day[1][shift + 1] + " " + _HH_MM[local]


def jalali_date_cell(value) -> str:
    """A stored date (``date`` or SQLite's ``YYYY-MM-DD``) as Jalali ``YYYY/MM/DD``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = _dt.date.fromisoformat(value[:10])
    elif isinstance(value, _dt.datetime):
        value = value.date()
    return jalali_day(value)


def as_datetime(value):
    """A timestamp from either driver as a naive ``datetime`` (``None`` stays ``None``)."""
    if value is None or isinstance(value, _dt.datetime):
        return value
    return _dt.datetime.fromisoformat(str(value))


def yes_no(value) -> str:
    return gettext("Yes") if value else gettext("No")


# ---------------------------------------------------------------------- the tuple path


class ExportColumn:
    """An exported column read straight from the database.

    ``expressions`` are what it selects; ``format`` turns their raw driver values into the
    cell (dates and timestamps arrive as text on SQLite: use `as_datetime`). Without a
    ``format`` a single field is formatted by its type. ``memo`` caches the cell per
    distinct value for the length of one export (state labels: a handful of values).
    ``names`` (a function giving ``{id: name}``) shows a reference id by its name: a
    lookup in Python instead of a join per row.
    """

    def __init__(self, *expressions, format=None, memo=False, names=None):
        self.expressions = expressions
        self.format = format
        self.memo = memo
        self.names = names

    def cell_function(self):
        """A function of the column's values giving the cell text (called once per export)."""
        if self.names is not None:
            names = {key: escape_formula(name) for key, name in self.names().items()}
            return lambda key: names.get(key, "")
        if self.format is None:
            format = cell_format_for(self.expressions[0])
        else:
            custom = self.format

            def format(*values):
                return escape_formula(custom(*values))

        if self.memo:
            format = _memoized(format)
        return format


def _memoized(function):
    seen = {}

    def cell(*values):
        key = values[0] if len(values) == 1 else values
        try:
            return seen[key]
        except KeyError:
            seen[key] = result = function(*values)
            return result

    return cell


def cell_format_for(field):
    """How a single field's raw value becomes a cell, by the field's type."""
    if isinstance(field, DateTimeField):
        return jalali_stamp
    if isinstance(field, DateField):
        return jalali_date_cell
    if isinstance(field, BooleanField):
        return yes_no
    if isinstance(field, AutoField):
        return str  # a row id: never empty, never a formula
    return escape_formula


def tuple_plan(model, names, declared, formatted):
    """The ``(expressions, cells)`` of a tuple export of ``names``, or ``None`` when a
    column can only be formatted from a model instance.

    ``declared`` maps names to `ExportColumn`; any other name must be a plain (not foreign
    key) field of ``model`` that no instance formatter (``formatted``) claims. Each cell is
    ``(function, positions)``: the function of the values at those positions of a row."""
    expressions, cells = [], []
    for name in names:
        column = declared.get(name)
        if column is None:
            field = model._meta.fields.get(name)
            if field is None or isinstance(field, ForeignKeyField) or name in formatted:
                return None
            column = ExportColumn(field)
        start = len(expressions)
        expressions.extend(column.expressions)
        cells.append((column.cell_function(), tuple(range(start, start + len(column.expressions)))))
    return expressions, cells


# ---------------------------------------------------------------------- reading the rows


def _cursors(query, chunk: int = EXPORT_CHUNK_ROWS):
    """Driver cursors over the result of ``query``, without holding the whole result."""
    if is_sqlite():
        yield db.execute(query)
        return
    sql, params = query.sql()
    with db.atomic():
        db.execute_sql(f"DECLARE export_rows NO SCROLL CURSOR FOR {sql}", params)
        try:
            size = FIRST_CHUNK_ROWS
            while True:
                cursor = db.execute_sql(f"FETCH FORWARD {int(size)} FROM export_rows")
                if not cursor.rowcount:
                    break
                yield cursor
                size = chunk
        finally:
            db.execute_sql("CLOSE export_rows")


def _batches(rows):
    """Lists of FIRST_CHUNK_ROWS rows, then of EXPORT_CHUNK_ROWS rows, until ``rows`` ends."""
    rows = iter(rows)
    size = FIRST_CHUNK_ROWS
    while True:
        batch = list(islice(rows, size))
        if not batch:
            return
        yield batch
        size = EXPORT_CHUNK_ROWS


def tuple_batches(query):
    """The raw driver rows (tuples) of ``query`` in batches."""
    for cursor in _cursors(query):
        yield from _batches(cursor)


def read_ahead(batches, depth: int = 4):
    """The batches of the generator function ``batches()``, produced by a thread of its own
    on a database connection of its own, up to ``depth`` batches ahead: the database reads
    the next rows while this thread formats the current ones (both drivers release the GIL
    while they wait for or step through rows). Memory stays bounded by ``depth``; an error
    of the reader is raised here; closing this generator stops the reader."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            with db.connection_context():
                reader = batches()
                try:
                    for batch in reader:
                        if not hand_over(batch):
                            return
                finally:
                    reader.close()  # ends the PostgreSQL cursor and its transaction
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            hand_over(_ReaderFailed(error))
        else:
            hand_over(_END)

    thread = threading.Thread(target=read, name="export-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _ReaderFailed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


_END = object()


class _ReaderFailed:
    def __init__(self, error):
        self.error = error


def model_batches(query):
    """The model rows of ``query`` (joined instances linked as peewee links them) in batches:
    the path of a column that only a model instance can format (no view of ours has one;
    ``tests/test_exports.py`` checks that both paths give the same cells)."""
    for cursor in _cursors(query):
        yield from _batches(model_rows(query, cursor).iterator())


def csv_chunks(titles, batches, cells):
    """The CSV text of an export: a BOM and the header at once, then one chunk per batch
    of rows. A cell is ``(function, positions)``: the function of the values at those
    positions of a tuple row, or of the whole row when ``positions`` is ``None``.

    The batch is formatted column by column (``map`` over the transposed batch), which
    saves a Python call per cell over formatting row by row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([str(title) for title in titles])
    # The header goes at once: the download starts before the first row is read.
    yield buffer.getvalue()
    for rows in formatted_batches(batches, cells):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows)
        yield buffer.getvalue()


def formatted_batches(batches, cells):
    """Each batch of raw rows as its formatted cells (an iterator of rows per batch): what
    the CSV and the XLSX exports write. A cell is ``(function, positions)`` (csv_chunks)."""
    for batch in batches:
        values = list(zip(*batch, strict=True)) if any(positions is not None for _f, positions in cells) else None
        columns = [
            map(function, batch) if positions is None else map(function, *[values[i] for i in positions])
            for function, positions in cells
        ]
        yield zip(*columns, strict=True)


class CountedBatches:
    """Batches of rows passed through unchanged, counting the rows (an export's audit
    row records how many were written)."""

    def __init__(self, batches):
        self.batches = batches
        self.rows = 0

    def __iter__(self):
        for batch in self.batches:
            self.rows += len(batch)
            yield batch
