"""What every back-office view shares: staff-only access, scope in every query,
Jalali dates, no deletes, and CSV exports that stream, escape formulas and carry a BOM."""
from __future__ import annotations

import csv
import datetime as _dt

from flask import Response, abort, redirect, request, stream_with_context, url_for
from flask_admin.contrib.peewee import ModelView
from flask_admin.model.typefmt import BASE_FORMATTERS
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup, escape
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
        abort(403)


def _jalali_datetime(view, value, name=None):
    return persian.format_jalali_datetime(persian.to_tehran(value))


def _jalali_date(view, value, name=None):
    return persian.format_jalali_date(value)


def _yes_no(view, value, name=None):
    return gettext("Yes") if value else gettext("No")


TYPE_FORMATTERS = dict(BASE_FORMATTERS)
TYPE_FORMATTERS.update({_dt.datetime: _jalali_datetime, _dt.date: _jalali_date, bool: _yes_no})


def escape_formula(value) -> str:
    """A cell that a spreadsheet would run as a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value):
        return value


class SecureModelView(StaffAccessMixin, ModelView):
    """A Flask-Admin view that is read-mostly, scoped, and safe to export."""

    can_delete = False
    can_create = False
    can_edit = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 25
    # The full COUNT(*) on every page is what makes stock lists slow at a million rows.
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
        # Options (cities, fields...) change as the directorate edits them: read per page.
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    def delete_model(self, model):
        abort(405)

    def _export_csv(self, return_url):
        """Stream rows with .iterator() so memory stays flat; BOM, formulas escaped."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        _count, query = self.get_list(0, sort[0] if sort else None, view_args.sort_desc,
                                      view_args.search, view_args.filters, execute=False,
                                      page_size=0)
        writer = csv.writer(_Echo())
        columns = self._export_columns

        def generate():
            yield "\ufeff" + writer.writerow([str(title) for _name, title in columns])
            for row in query.iterator():
                yield writer.writerow([escape_formula(self.get_export_value(row, name))
                                       for name, _title in columns])

        filename = f"{self.endpoint}-{_dt.date.today().isoformat()}.csv"
        return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": storage.content_disposition(filename),
                                 "Cache-Control": "no-store"})


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
