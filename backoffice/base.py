"""What every back-office view shares: staff-only access, scope in every query,
Jalali dates, no deletes, and CSV exports that stream, escape formulas and carry a BOM."""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_admin import expose
from flask_admin.contrib.peewee import ModelView
from flask_admin.model.typefmt import BASE_FORMATTERS
from flask_babel import get_locale, gettext
from flask_login import current_user
from markupsafe import Markup, escape
from peewee import SQL, CharField, DatabaseError, Select, TextField, fn
from wtforms import StringField

import models
import persian
import storage
from models import db, is_sqlite, parse_id, sql_persian_order
from web.security import deny
from web.session import client_ip

from . import export, xlsx
from . import flask_admin_adapter as internals
from .encoded import EncodedOnce
from .fast_urls import FastUrlMixin
from .labels import COLUMN_LABELS
from .list_counts import list_counts


def current_staff():
    """The logged-in staff account, or None."""
    if current_user.is_authenticated and current_user.kind == "staff":
        return current_user.account
    return None


def staff_actor():
    """The logged-in staff member as the domain's ``Actor``."""
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
        deny(403)


def _jalali_datetime(view, value, name=None):
    return export.jalali_stamp(value)


def _jalali_date(view, value, name=None):
    return export.jalali_date_cell(value)


def _yes_no(view, value, name=None):
    return export.yes_no(value)


TYPE_FORMATTERS = dict(BASE_FORMATTERS)
TYPE_FORMATTERS.update({_dt.datetime: _jalali_datetime, _dt.date: _jalali_date, bool: _yes_no})


# A list page counts at most this many rows; more is shown as "10,000+". Counting
# further would cost time in proportion to the table (COUNT(*) reads every row).
COUNT_CAP = 10_000


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
    key = (id(db.obj), key)
    now = time.monotonic()
    found = _options_cache.get(key)
    if found is not None and now - found[0] < FILTER_OPTIONS_TTL:
        return found[1]
    value = load()
    with _options_lock:
        _options_cache[key] = (now, value)
    return value


def reference_names(model):
    """``{id: name}`` of a reference table (cities, fields...), read once a minute: an
    export shows a reference column by name without a join (``export.ExportColumn``)."""
    return lambda: cached_options(
        ("names", model._meta.table_name), lambda: dict(model.select(model.id, model.name).tuples())
    )


def exported_by_name(field) -> export.ExportColumn:
    """An exported foreign key to a reference table, shown by the row's name."""
    return export.ExportColumn(field, names=reference_names(field.rel_model))


def clear_options_cache() -> None:
    """Called when the back office changes a row, so an edited city shows at once."""
    with _options_lock:
        _options_cache.clear()


class SecureModelView(StaffAccessMixin, FastUrlMixin, internals.ModelViewHooks, ModelView):
    """A Flask-Admin view that is read-mostly, scoped, and safe to export."""

    can_delete = False
    can_create = False
    can_edit = False
    can_view_details = True
    can_export = True
    # CSV, and XLSX for Excel (codes stay text, so leading zeros survive).
    export_types = ["csv", "xlsx"]
    page_size = 25
    # Stock Flask-Admin runs a full COUNT(*) on every page, slow at a million rows: get_list
    # below counts at most COUNT_CAP rows, inside the page's own query.
    simple_list_pager = False
    column_type_formatters = TYPE_FORMATTERS
    # The details pages too: Jalali, Tehran time, no microseconds (not Flask-Admin's ISO).
    column_type_formatters_detail = TYPE_FORMATTERS
    column_type_formatters_export = {
        _dt.datetime: _jalali_datetime,
        _dt.date: _jalali_date,
        bool: _yes_no,
        type(None): lambda v, x, n=None: "",
    }
    list_template = "admin/model/list.html"
    details_template = "admin/model/details.html"

    search_placeholder_text = None

    def __init__(self, model, *args, **kwargs):
        # Persian labels for list columns and form fields alike, unless a view sets its own.
        self.column_labels = dict(COLUMN_LABELS, **(self.column_labels or {}))
        form_args = {name: {"label": label} for name, label in COLUMN_LABELS.items() if name in model._meta.fields}
        for name, extra in (self.form_args or {}).items():
            form_args[name] = dict(form_args.get(name, {}), **extra)
        self.form_args = form_args
        self._compiled_pages: dict = {}
        super().__init__(model, *args, **kwargs)

    def filter_groups(self):
        """The filters' labels and options in the page's language (the list template's
        ``filter_groups``), built once a minute per language (``cached_options``: a new
        value replaces the old one whole, so a thread never reads one half-built)."""
        return cached_options(
            ("filter_groups", self.endpoint, str(get_locale())), lambda: EncodedOnce.of(internals.filter_groups(self))
        )

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
        """The scoped query without joins: what a capped count and a deep page skip over."""
        return self.scope(self.model.select())

    def handle_view_exception(self, exc: Exception) -> bool:
        """A database error while saving a form reaches the log, never the screen: its
        text names tables and constraints (``NOT NULL constraint failed: ...``)."""
        if isinstance(exc, DatabaseError):
            logging.getLogger(__name__).error("saving a %s failed", self.model.__name__, exc_info=exc)
            flash(gettext("The record could not be saved. Check the values and try again."), "error")
            return True
        return super().handle_view_exception(exc)

    def list_query(self):
        """What a list page and its export show: ``get_query`` unless a view narrows its
        list further (a cartable's tab) while its detail pages stay as wide as the scope."""
        return self.get_query()

    def list_rows_query(self, query):
        """The list page's query as the rows it draws are read: model instances here; a lean
        view selects only the columns its cells show (``lean_list.LeanListMixin``)."""
        return query

    def list_count_query(self):
        """``get_count_query`` narrowed as ``list_query`` is."""
        return self.get_count_query()

    def get_one(self, id):
        # Flask-Admin's get_one ignores get_query: scope it, or details/edit leak.
        pk = parse_id(id)
        if pk is None:
            return None
        return self.get_query().where(self.model.id == pk).first()

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
        if page_size is None:
            page_size = self.page_size
        if not page_size:  # an export: every row, no count
            query = self._filtered_query(self.list_query(), sort_column, sort_desc, search, filters)
            return None, (list(query) if execute else query)
        # A crafted ?page= must not overflow OFFSET or go negative.
        page = min(max(int(page or 0), 0), 10**6)
        if search is None and internals.page_searches(self):
            query = self._filtered_query(self.list_query(), sort_column, sort_desc, search, filters)
            query = self.list_rows_query(query).limit(page_size).offset(page * page_size if page else None)
            return None, (list(query) if execute else query)
        key = self.count_key(search, filters)
        kept = list_counts().peek(key) if key is not None else None
        arguments = (page, sort_column, sort_desc, search, filters, page_size, kept is None)
        rows = self._page_rows(*arguments)
        if kept is not None:
            total = kept
        elif rows:
            # the count is the last column of a tuple row, an attribute of a model row
            total = rows[0][-1] if isinstance(rows[0], tuple) else getattr(rows[0], "_list_total", None)
        elif page:
            total = self._capped_count(search, filters)
        else:
            total = 0
        if total is None:
            total = self._capped_count(search, filters)
        if key is not None and kept is None:
            list_counts().put(key, total)
        count = total
        if total > COUNT_CAP:
            seen = page * page_size + len(rows) + (1 if len(rows) == page_size else 0)
            count = CappedCount(max(total, seen))
        # (Rows, not a query, when execute is False: the one caller, OfficerSearchMixin
        # without a search, only lists them.)
        return count, rows

    def _page_query(self, page, sort_column, sort_desc, search, filters, page_size, with_count):
        """The statement of a list page: its rows, and its capped count unless it is kept."""
        query = self.list_rows_query(self._filtered_query(self.list_query(), sort_column, sort_desc, search, filters))
        if page:
            # A deep page: skip the rows in the narrow (unjoined, index-only) query and join
            # only the page's rows, instead of joining every skipped row.
            ids = (
                self._filtered_query(self._narrow_query(search, filters), sort_column, sort_desc, search, filters)
                .select(self.model._meta.primary_key)
                .limit(page_size)
                .offset(page * page_size)
            )
            query = query.where(self.model._meta.primary_key.in_(ids))
        query = query.limit(page_size)
        if with_count:
            query = query.select_extend(self._capped_total(search, filters).alias("_list_total"))
        return query

    # A view that sets this compiles each of its list pages once (``models.Compiled``), per
    # staff member, page, order, filters and day: a page drawn again skips building its query.
    compile_pages = False
    COMPILED_PAGES = 1024

    def _page_rows(self, *arguments) -> list:
        key = self.page_statement_key(arguments) if self.compile_pages else None
        if key is None:
            return list(self._page_query(*arguments))
        compiled = self._compiled_pages.get(key)
        if compiled is None:
            compiled = models.Compiled(self._page_query(*arguments))
            if len(self._compiled_pages) >= self.COMPILED_PAGES:
                self._compiled_pages = {}
            self._compiled_pages[key] = compiled
        return compiled.rows()

    def page_shape(self) -> tuple:
        """What else shapes a page's statement (the lean list: which columns it reads)."""
        return ()

    def page_statement_key(self, arguments):
        """Everything a page's statement is built from: the page's own arguments, who looks
        (their scope), what else the view's lists depend on (``count_scope``), the day and
        the database; None without a staff member."""
        staff = current_staff()
        if staff is None:
            return None
        page, sort_column, sort_desc, search, filters, page_size, with_count = arguments
        chosen = tuple((index, repr(value)) for index, _name, value in filters or ())
        return (
            id(db.obj),
            COUNT_CAP,
            self.page_shape(),
            staff.id,
            staff.role,
            staff.university_id,
            *self.count_scope(),
            models.utcnow().date(),
            page,
            repr(sort_column),
            bool(sort_desc),
            search or "",
            chosen,
            page_size,
            with_count,
        )

    # Columns of Persian words; codes and states (English, indexed) keep their plain order.
    PERSIAN_TEXT_COLUMNS = frozenset(
        {"name", "first_name", "last_name", "father_name", "full_name", "county", "manager_name", "subject"}
    )

    def sort_clause(self, sort_field, sort_desc, clause):
        """Persian text columns sort in Persian alphabetical order (the database's ICU collation)."""
        field = getattr(self.model, sort_field) if isinstance(sort_field, str) else sort_field
        if isinstance(field, CharField | TextField) and field.name in self.PERSIAN_TEXT_COLUMNS:
            ordered = sql_persian_order(field)
            return ordered.desc() if sort_desc else ordered.asc()
        return clause

    def _filtered_query(self, query, sort_column, sort_desc, search, filters):
        """A scoped query with the search, the filters and the order of the page."""
        joins = set()
        query = internals.apply_search(self, query, search, joins)
        query = internals.apply_filters(self, query, filters, joins)
        ordering = internals.filter_order(self, filters) if sort_column is None else None
        if ordering is not None:
            return query.order_by(ordering.asc())
        return internals.apply_order(self, query, sort_column, sort_desc, joins)

    def _narrow_query(self, search, filters):
        """The scoped query without joins (get_count_query) when the search and filters
        need none, else the joined one."""
        own = all(
            getattr(column, "model", self.model) is self.model for column in internals.filter_columns(self, filters)
        )
        return self.list_count_query() if own and not search else self.list_query()

    def _count_source(self, search, filters):
        query = self._filtered_query(self._narrow_query(search, filters), None, None, search, filters)
        return query.select(SQL("1")).order_by().limit(COUNT_CAP + 1).offset(None)

    def _capped_total(self, search, filters):
        return Select(from_list=[self._count_source(search, filters).alias("_capped")], columns=[fn.COUNT(SQL("*"))])

    # A view that sets this keeps its lists' counts a few seconds (backoffice/list_counts.py).
    cache_counts = False

    def count_key(self, search, filters):
        """What a list's count depends on beyond the rows themselves: who looks (their scope),
        the list, its search and filters, and the day (a due date passes at midnight); None
        when the view does not keep its counts."""
        if not self.cache_counts or current_staff() is None:
            return None
        chosen = tuple((index, repr(value)) for index, _name, value in filters or ())
        return (self.endpoint, current_staff().id, *self.count_scope(), search or "", chosen, models.utcnow().date())

    def count_scope(self) -> tuple:
        """What else a view's lists depend on (a cartable: its tab)."""
        return ()

    def _capped_count(self, search, filters) -> int:
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

    # Exported columns that the tuple path reads straight from the database (name ->
    # export.ExportColumn); plain fields of the model need no entry. A view whose exported
    # columns are all covered exports without building model instances (export.py).
    export_columns: dict = {}

    def _export_cells(self, names):
        """One function per export column giving what ``get_export_value`` gives, with the
        formatter chosen once per column and the type formatter once per value type
        (a million rows ask the same questions ten million times)."""
        if type(self).get_export_value is not ModelView.get_export_value:
            return [lambda row, name=name: self.get_export_value(row, name) for name in names]
        field_value = internals.field_value(self)
        formatters = self.column_formatters_export or {}
        type_formatters = self.column_type_formatters_export or {}
        by_type = {}

        def type_formatter(value):
            kind = type(value)
            if kind not in by_type:
                by_type[kind] = next((f for typeobj, f in type_formatters.items() if isinstance(value, typeobj)), None)
            return by_type[kind]

        def cell_for(name):
            column_formatter = formatters.get(name)
            choices = internals.column_choices(self).get(name, {})

            def cell(row):
                if column_formatter is not None:
                    value = column_formatter(self, None, row, name)
                else:
                    value = field_value(row, name)
                if choices:
                    value = choices.get(value) or value
                else:
                    formatter = type_formatter(value)
                    value = value if formatter is None else formatter(self, value, name)
                return export.escape_formula(value)

            return cell

        return [cell_for(name) for name in names]

    def export_plan(self, query, names):
        """``(batches, cells)`` of an export of ``query`` (see export.csv_chunks): raw tuples
        of exactly the exported columns when every column can be read so, else model rows
        and the view's formatters."""
        instance_only = set(self.column_formatters_export or ()) | set(internals.column_choices(self))
        plan = None
        if type(self).get_export_value is ModelView.get_export_value:
            plan = export.tuple_plan(self.model, names, self.export_columns, instance_only - set(self.export_columns))
        if plan is None:
            return export.model_batches(query), [(cell, None) for cell in self._export_cells(names)]
        expressions, cells = plan
        query = query.select(*expressions).tuples()
        if is_sqlite():
            # SQLite steps row by row, taking the GIL back for each: a reader thread would
            # only wait for it. PostgreSQL sends whole batches: the reader overlaps them.
            return export.tuple_batches(query), cells
        return export.read_ahead(lambda: export.tuple_batches(query)), cells

    def _audited_export(self, chunks, counted, view_args):
        """Who exported which list, with which search and filters, and how many rows (D9):
        the row is written before the first byte, and completed with the count at the end."""
        row = models.audit(
            staff_actor(), "export", object_type=self.endpoint, detail=_export_detail(self.endpoint, view_args)
        )
        yield from chunks
        models.AuditLog.update(detail=_export_detail(self.endpoint, view_args, counted.rows)).where(
            models.AuditLog.id == row.id
        ).execute()

    def export_csv(self):
        """Stream the rows of the list (its scope, search, filters and order) as CSV, memory
        flat whatever the row count; BOM, Persian titles, formulas escaped."""
        view_args = internals.list_arguments(self)
        sort = internals.sort_column(self, view_args.sort)
        _count, query = self.get_list(
            0,
            sort[0] if sort else None,
            view_args.sort_desc,
            view_args.search,
            view_args.filters,
            execute=False,
            page_size=0,
        )
        columns = internals.export_column_names(self)
        rows, cells = self.export_plan(query, [name for name, _title in columns])
        counted = export.CountedBatches(rows)
        chunks = export.csv_chunks([title for _name, title in columns], counted, cells)
        chunks = self._audited_export(chunks, counted, view_args)
        return self._download(chunks, "csv", "text/csv; charset=utf-8")

    def export_xlsx(self):
        """The same rows as export_csv, as an Excel workbook, streamed at constant memory."""
        view_args = internals.list_arguments(self)
        sort = internals.sort_column(self, view_args.sort)
        _count, query = self.get_list(
            0,
            sort[0] if sort else None,
            view_args.sort_desc,
            view_args.search,
            view_args.filters,
            execute=False,
            page_size=0,
        )
        columns = internals.export_column_names(self)
        rows, cells = self.export_plan(query, [name for name, _title in columns])
        counted = export.CountedBatches(rows)
        chunks = xlsx.xlsx_chunks(
            [title for _name, title in columns], export.formatted_batches(counted, cells), sheet_name=self.name
        )
        chunks = self._audited_export(chunks, counted, view_args)
        return self._download(chunks, "xlsx", xlsx.CONTENT_TYPE)

    def _download(self, chunks, extension: str, mimetype: str):
        # A Jalali date in the file name, like the dates inside it.
        today = persian.format_jalali_date(_dt.date.today()).replace("/", "-")
        filename = f"{self.endpoint}-{today}.{extension}"
        return Response(
            stream_with_context(chunks),
            mimetype=mimetype,
            headers={"Content-Disposition": storage.content_disposition(filename), "Cache-Control": "no-store"},
        )


class AuditedEditsMixin:
    """Every row created or edited here writes an audit row with the old and the new
    values (D9): reference data, settings and holidays decide routing, deadlines and who
    may be a technical officer."""

    def update_model(self, form, model):
        model._audited_before = dict(model.__data__)
        return super().update_model(form, model)

    def after_model_change(self, form, model, is_created):
        before = {} if is_created else getattr(model, "_audited_before", {})
        models.audit(
            staff_actor(),
            f"{model._meta.table_name}_{'created' if is_created else 'changed'}",
            model,
            detail=models.describe_changes(type(model), before, model.__data__),
        )
        return super().after_model_change(form, model, is_created)


def _export_detail(endpoint, view_args, rows=None) -> str:
    filters = ", ".join(f"{name}={value}" for _index, name, value in (view_args.filters or ()))
    detail = f"list={endpoint}; search={view_args.search or ''}; filters={filters}"
    return detail + (f"; rows={rows}" if rows is not None else "; rows=?")


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
    return Markup(f'<span class="status-badge" data-status="{escape(code)}">{escape(label)}</span>')
