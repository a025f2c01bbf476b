"""What every back-office view shares: staff-only access, scope in every query,
Jalali dates, no deletes, and CSV exports that stream, escape formulas and carry a BOM."""
from __future__ import annotations

import csv
import datetime as _dt
import io
import threading
import time
from functools import lru_cache
from operator import itemgetter

from flask import (Response, abort, has_request_context, redirect, request, stream_with_context,
                   url_for)
from flask_admin import expose
from flask_admin.contrib.peewee import ModelView
from flask_admin.model.typefmt import BASE_FORMATTERS
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup, escape
from peewee import (ROW, SQL, AutoField, CharField, ForeignKeyField, IntegerField, ModelCursorWrapper,
                    ModelSelect, Select, TextField, fn)
from wtforms import StringField

import persian
import storage

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\u200f", "\u200e", "\u202b", "\u202a")


def current_staff():
    if current_user.is_authenticated and current_user.kind == "staff":
        return current_user.account
    return None


def staff_actor():
    from publicforms.web import client_ip
    return current_staff().as_actor(ip=client_ip())


class StaffAccessMixin:
    """Only active staff of the listed roles; anonymous users go to the staff login."""

    allowed_roles = ("directorate",)

    def is_accessible(self):
        staff = current_staff()
        return staff is not None and staff.is_active and staff.role in self.allowed_roles

    def inaccessible_callback(self, name, **kwargs):
        if current_staff() is None:
            return redirect(url_for("admin.login_view", next=request.full_path.rstrip("?")))
        from publicforms.web import deny
        deny(403)


@lru_cache(maxsize=8192)
def _jalali_day(day: _dt.date) -> str:
    # The Jalali conversion is pure Python: a 1M-row export repeats a few thousand days.
    return persian.format_jalali_date(day)


def _jalali_datetime(view, value, name=None):
    if not isinstance(value, _dt.datetime):
        return persian.format_jalali_datetime(value)
    local = persian.to_tehran(value)
    return f"{_jalali_day(local.date())} {local.hour:02d}:{local.minute:02d}"


def _jalali_date(view, value, name=None):
    if type(value) is _dt.date:
        return _jalali_day(value)
    return persian.format_jalali_date(value)


def _yes_no(view, value, name=None):
    return gettext("Yes") if value else gettext("No")


TYPE_FORMATTERS = dict(BASE_FORMATTERS)
TYPE_FORMATTERS.update({_dt.datetime: _jalali_datetime, _dt.date: _jalali_date, bool: _yes_no})


def escape_formula(value) -> str:
    """A cell that a spreadsheet would run as a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


# A list page counts at most this many rows; more is shown as "10,000+". Counting
# further would cost time in proportion to the table (COUNT(*) reads every row).
COUNT_CAP = 10_000
# Rows per chunk written to the client by an export, and fetched per round trip on PostgreSQL.
EXPORT_CHUNK_ROWS = 2_000


class CappedCount(int):
    """A row count that stopped at COUNT_CAP; Flask-Admin's list shows it as "(10,000+)"."""

    def __str__(self):
        return f"{COUNT_CAP:,}+"


# Filter options (cities, fields, degrees, universities...) are reference data: read them
# once a minute per process rather than once per filter per page.
FILTER_OPTIONS_TTL = 60.0
_options_cache: dict = {}
_options_lock = threading.Lock()


def cached_options(key, load):
    """``load()`` at most once per FILTER_OPTIONS_TTL seconds for a key (and database)."""
    from models import db
    key = (id(db.obj), key)
    now = time.monotonic()
    found = _options_cache.get(key)
    if found is not None and now - found[0] < FILTER_OPTIONS_TTL:
        return found[1]
    value = load()
    with _options_lock:
        _options_cache[key] = (now, value)
    return value


def clear_options_cache() -> None:
    """Called when the back office changes a row, so an edited city shows at once."""
    with _options_lock:
        _options_cache.clear()


class SecureModelView(StaffAccessMixin, ModelView):
    """A Flask-Admin view that is read-mostly, scoped, and safe to export."""

    can_delete = False
    can_create = False
    can_edit = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 25
    # Stock Flask-Admin runs a full COUNT(*) on every page, slow at a million rows: get_list
    # below counts at most COUNT_CAP rows, inside the page's own query.
    simple_list_pager = False
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_export = {_dt.datetime: _jalali_datetime, _dt.date: _jalali_date,
                                     bool: _yes_no, type(None): lambda v, x, n=None: ""}
    list_template = "admin/model/list.html"
    details_template = "admin/model/details.html"

    search_placeholder_text = None

    def __init__(self, model, *args, **kwargs):
        # Persian labels for list columns and form fields alike, unless a view sets its own.
        from .labels import COLUMN_LABELS
        self.column_labels = dict(COLUMN_LABELS, **(self.column_labels or {}))
        form_args = {name: {"label": label} for name, label in COLUMN_LABELS.items()
                     if name in model._meta.fields}
        for name, extra in (self.form_args or {}).items():
            form_args[name] = dict(form_args.get(name, {}), **extra)
        self.form_args = form_args
        super().__init__(model, *args, **kwargs)

    def search_placeholder(self):
        return str(self.search_placeholder_text) if self.search_placeholder_text else gettext("Search")

    def scope(self, query):
        """Restrict a query to what the current staff member may see; override per view."""
        return query

    def base_query(self):
        return self.model.select()

    def get_query(self):
        return self.scope(self.base_query())

    def get_count_query(self):
        return self.scope(self.model.select())

    def get_one(self, id):
        # Flask-Admin's get_one ignores get_query: scope it, or details/edit leak.
        try:
            pk = int(id)
        except (TypeError, ValueError):
            return None
        return self.get_query().where(self.model.id == pk).first()

    def _get_filter_groups(self):
        # Rebuilt per page so that labels follow the page's language; the options that come
        # from the database are cached for a minute (cached_options), so this costs no query.
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    def after_model_change(self, form, model, is_created):
        clear_options_cache()
        return super().after_model_change(form, model, is_created)

    # ------------------------------------------------------------------ list pages

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's get_list without its full COUNT(*): a list page is ONE query whose
        rows carry the number of matching rows, counted up to COUNT_CAP by a LIMITed
        subquery (an InitPlan on PostgreSQL, evaluated once on SQLite).

        The rows are fetched here even when ``execute`` is False (views that add a clause
        and then run the query): peewee keeps them on the query object, so running it
        again costs nothing unless the caller changed it. A view that applies the search
        itself (it passes ``search=None`` while the page has one) gets no count, and its
        results use the simple pager: it then issues the one query it runs itself.
        """
        query = self._filtered_query(self.get_query(), sort_column, sort_desc, search, filters)
        if page_size is None:
            page_size = self.page_size
        if not page_size:  # an export: every row, no count
            return None, (list(query) if execute else query)
        # A crafted ?page= must not overflow OFFSET or go negative.
        page = min(max(int(page or 0), 0), 10 ** 6)
        if search is None and self._search_supported and has_request_context() \
                and self._get_list_extra_args().search:
            query = query.limit(page_size).offset(page * page_size if page else None)
            return None, (list(query) if execute else query)
        if page:
            # A deep page: skip the rows in the narrow (unjoined, index-only) query and join
            # only the page's rows, instead of joining every skipped row.
            ids = (self._filtered_query(self._narrow_query(search, filters), sort_column, sort_desc,
                                        search, filters)
                   .select(self.model._meta.primary_key).limit(page_size).offset(page * page_size))
            query = query.where(self.model._meta.primary_key.in_(ids))
        query = query.limit(page_size)
        query = query.select_extend(self._capped_total(search, filters).alias("_list_total"))
        rows = list(query)
        if rows:
            total = getattr(rows[0], "_list_total", None)
        elif page:
            total = self._capped_count(search, filters)
        else:
            total = 0
        if total is None:
            total = self._capped_count(search, filters)
        count = total
        if total > COUNT_CAP:
            seen = page * page_size + len(rows) + (1 if len(rows) == page_size else 0)
            count = CappedCount(max(total, seen))
        return count, (rows if execute else query)

    def _filtered_query(self, query, sort_column, sort_desc, search, filters):
        """A scoped query with the search, the filters and the order of the page."""
        joins = set()
        if self._search_supported and search and self._search_fields:
            from flask_admin.contrib.peewee.tools import parse_like_term
            for value in search.split(" "):
                if not value:
                    continue
                term, clause = parse_like_term(value), None
                for field in self._search_fields:
                    query = self._handle_join(query, field, joins)
                    clause = field ** term if clause is None else clause | (field ** term)
                query = query.where(clause)
        for index, _name, value in (filters or ()) if self._filters else ():
            flt = self._filters[index]
            query = self._handle_join(query, flt.column, joins)
            query = flt.apply(query, flt.clean(value))
        if sort_column is not None and sort_column in self._sortable_columns:
            query, joins = self._order_by(query, joins, [(self._sortable_columns[sort_column], sort_desc)])
        else:
            order = self._get_default_order()
            if order:
                query, joins = self._order_by(query, joins, order)
        return query

    def _narrow_query(self, search, filters):
        """The scoped query without joins (get_count_query) when the search and filters
        need none, else the joined one."""
        own = all(getattr(self._filters[index].column, "model", self.model) is self.model
                  for index, _name, _value in (filters or ())) if self._filters else True
        return self.get_count_query() if own and not search else self.get_query()

    def _count_source(self, search, filters):
        query = self._filtered_query(self._narrow_query(search, filters), None, None, search, filters)
        return query.select(SQL("1")).order_by().limit(COUNT_CAP + 1).offset(None)

    def _capped_total(self, search, filters):
        return Select(from_list=[self._count_source(search, filters).alias("_capped")],
                      columns=[fn.COUNT(SQL("*"))])

    def _capped_count(self, search, filters) -> int:
        from models import db
        return int(db.execute(self._capped_total(search, filters)).fetchone()[0])

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        # Flask-Admin reads list_form_pk unchecked: a crafted POST would be a 500.
        if "list_form_pk" not in request.form:
            abort(400)
        return super().ajax_update()

    def delete_model(self, model):
        abort(405)

    # ------------------------------------------------------------------ exports

    def _export_cells(self, names):
        """One function per export column giving what ``get_export_value`` gives, with the
        formatter chosen once per column and the type formatter once per value type
        (a million rows ask the same questions ten million times)."""
        if type(self).get_export_value is not ModelView.get_export_value:
            return [lambda row, name=name: self.get_export_value(row, name) for name in names]
        field_value = self._get_field_value
        formatters = self.column_formatters_export or {}
        type_formatters = self.column_type_formatters_export or {}
        by_type = {}

        def type_formatter(value):
            kind = type(value)
            if kind not in by_type:
                by_type[kind] = next((f for typeobj, f in type_formatters.items() if isinstance(value, typeobj)),
                                     None)
            return by_type[kind]

        def cell_for(name):
            column_formatter = formatters.get(name)
            choices = self._column_choices_map.get(name, {})

            def cell(row):
                if column_formatter is not None:
                    value = column_formatter(self, None, row, name)
                else:
                    value = field_value(row, name)
                if choices:
                    return choices.get(value) or value
                formatter = type_formatter(value)
                return value if formatter is None else formatter(self, value, name)
            return cell
        return [cell_for(name) for name in names]

    def _export_csv(self, return_url):
        """Stream rows so memory stays flat whatever the row count (a server-side cursor on
        PostgreSQL, .iterator() on SQLite), in chunks of EXPORT_CHUNK_ROWS; BOM, formulas
        escaped."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        _count, query = self.get_list(0, sort[0] if sort else None, view_args.sort_desc,
                                      view_args.search, view_args.filters, execute=False,
                                      page_size=0)
        columns = self._export_columns
        cells = self._export_cells([name for name, _title in columns])

        def generate():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")
            writer.writerow([str(title) for _name, title in columns])
            # The header goes at once: the download starts before the first row is read.
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            for n, row in enumerate(stream_rows(query), start=1):
                writer.writerow([escape_formula(cell(row)) for cell in cells])
                if n % EXPORT_CHUNK_ROWS == 0 or n == 50:  # the first rows show at once
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        filename = f"{self.endpoint}-{_dt.date.today().isoformat()}.csv"
        return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": storage.content_disposition(filename),
                                 "Cache-Control": "no-store"})


class FastModelRows(ModelCursorWrapper):
    """Peewee's ModelCursorWrapper (rows of a joined select as model instances linked like
    ``request.officer``), building the same objects faster: each instance's field values
    are cut from the row in one step (``itemgetter`` + ``zip`` into ``__data__``) instead
    of one descriptor ``setattr`` per column, and only the columns whose driver value
    needs it (dates, booleans) go through ``python_value``. An export of a million rows
    of a 60-column join spends most of its time here."""

    # Both drivers return these as str/int already: their python_value is a no-op.
    PASS_THROUGH = (CharField, TextField, IntegerField, AutoField)

    def initialize(self):
        super().initialize()
        groups, self._extras, self._converts = {}, [], []
        for idx, key, column, converter in self._row_spec:
            constructor, is_model = self.key_to_constructor.get(key, (self.model, True))
            field = constructor._meta.fields.get(column) if is_model else None
            if field is None or field.name != column:
                self._extras.append((idx, key, column, converter))
                continue
            indexes, names = groups.setdefault(key, ([], []))
            indexes.append(idx)
            names.append(column)
            target = field.rel_field if isinstance(field, ForeignKeyField) else field
            if converter is not None and type(target) not in self.PASS_THROUGH:
                self._converts.append((key, column, converter))
        self._groups = []
        for key, (indexes, names) in groups.items():
            getter = itemgetter(*indexes) if len(indexes) > 1 else (lambda row, i=indexes[0]: (row[i],))
            self._groups.append((key, self.key_to_constructor[key][0], getter, tuple(names), len(names)))

    def process_row(self, row):
        objects = {}
        set_keys = set()
        for key, constructor, getter, names, count in self._groups:
            values = getter(row)
            instance = constructor.__new__(constructor)
            instance.__data__, instance._dirty, instance.__rel__ = dict(zip(names, values)), set(), {}
            objects[key] = instance
            if values.count(None) != count:
                set_keys.add(key)
        for key, constructor, is_model in self._constructor_list:
            if key not in objects:
                if is_model:
                    instance = constructor.__new__(constructor)
                    instance.__data__, instance._dirty, instance.__rel__ = {}, set(), {}
                    objects[key] = instance
                else:
                    objects[key] = constructor()
        for key, column, converter in self._converts:
            data = objects[key].__data__
            value = data[column]
            if value is not None:
                data[column] = converter(value)
        default_instance = objects[self.model]
        for idx, key, column, converter in self._extras:
            instance = objects.get(key, default_instance)
            value = row[idx]
            if value is not None:
                set_keys.add(key)
            if converter is not None:
                value = converter(value)
            if isinstance(instance, dict):
                instance[column] = value
            else:
                setattr(instance, column, value)
        # Linking the joined instances: as peewee does it.
        for src, attr, dest, is_dict, is_outer, is_fk in self.src_to_dest:
            instance = objects.get(src)
            joined_instance = objects.get(dest)
            if joined_instance is None and dest not in objects:
                continue
            assign = False
            if dest not in set_keys and dest in self._dest_reachable:
                assign = bool(self._dest_reachable[dest] & set_keys)
            if dest not in set_keys and not assign:
                if is_outer:
                    joined_instance = None
                else:
                    continue
            if src not in set_keys and dest not in set_keys and is_outer:
                continue
            if is_dict:
                instance[attr] = joined_instance
            elif is_fk and joined_instance is None:
                instance.__rel__[attr] = None
            else:
                setattr(instance, attr, joined_instance)
                instance._dirty.discard(attr)
        return default_instance


def _rows_of(query, cursor):
    if isinstance(query, ModelSelect) and query._joins and query._row_type in (None, ROW.MODEL):
        return FastModelRows(cursor, query.model, query._returning, query._from_list, query._joins)
    return query._get_cursor_wrapper(cursor)


def stream_rows(query, chunk: int = EXPORT_CHUNK_ROWS):
    """Model rows of ``query`` without holding them all: SQLite steps through the result;
    psycopg2 would fetch the whole result into memory, so PostgreSQL reads it through a
    cursor declared in a transaction, ``chunk`` rows per FETCH."""
    from models import db, is_sqlite
    if is_sqlite():
        yield from _rows_of(query, db.execute(query)).iterator()
        return
    sql, params = query.sql()
    with db.atomic():
        db.execute_sql(f"DECLARE export_rows NO SCROLL CURSOR FOR {sql}", params)
        try:
            size = 50  # a small first batch: the first rows reach the client at once
            while True:
                cursor = db.execute_sql(f"FETCH FORWARD {int(size)} FROM export_rows")
                if not cursor.rowcount:
                    break
                yield from _rows_of(query, cursor).iterator()
                size = chunk
        finally:
            db.execute_sql("CLOSE export_rows")


class JalaliDateField(StringField):
    """A date typed and shown in the Jalali calendar (Persian digits accepted), stored Gregorian."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"data-jdp": "", "class": "ltr", "placeholder": "1404/01/01"})
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return persian.format_jalali_date(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = persian.parse_jalali_date(valuelist[0])
            if self.data is None:
                raise ValueError(gettext("Enter a real Jalali date like 1370/05/21."))


def status_badge(code: str, label: str) -> Markup:
    return Markup('<span class="status-badge" data-status="{0}">{1}</span>').format(code, label)


__all__ = ["escape", "Markup"]
