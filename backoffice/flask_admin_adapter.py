"""Every private name of Flask-Admin (and the one of peewee) that the back office relies on,
in this one module. Nothing else in ``backoffice/`` touches a framework's insides; the rest
calls the functions and mixins below.

Why we need them: the list page counts at most ``COUNT_CAP`` rows inside its own query
(``SecureModelView.get_list``), the CSV export streams tuples (``export.py``), filter
labels follow the page's language, the staff login page is open to anonymous visitors,
and Flask-Admin's return ``url`` is limited to a path on this site.

The names, as of Flask-Admin 2.2.1 and peewee 4.5 (``tests/test_flask_admin_adapter.py``
fails with a message naming the missing one if an upgrade renames or removes any):

* methods (``PRIVATE_METHODS``): ``BaseView._handle_view`` (overridden: public views);
  ``BaseModelView._get_list_extra_args`` (the page's search, filters, sort),
  ``._get_filter_groups`` (the filters' labels and options, drawn per page without
  touching the view),
  ``._get_field_value`` (a model row's cell), ``._get_column_by_idx`` (the sort column),
  ``._get_default_order``, ``._export_csv`` and ``._export_tablib`` (overridden: the
  streaming CSV and XLSX exports);
  ``contrib.peewee.view.ModelView._handle_join`` and ``._order_by``;
* attributes Flask-Admin sets on each model view (``PRIVATE_VIEW_ATTRIBUTES``):
  ``_filters``, ``_search_supported``, ``_search_fields``, ``_sortable_columns``,
  ``_export_columns``, ``_column_choices_map``;
* module functions (``PRIVATE_FUNCTIONS``): ``contrib.peewee.tools.parse_like_term`` (its
  search term), and ``get_redirect_target`` as imported by ``flask_admin.model.base`` and
  ``flask_admin.actions``, replaced by ``safe_redirect_target`` (see below);
* peewee: ``BaseQuery._get_cursor_wrapper`` (model rows from our own cursor, ``model_rows``).

The redirect target is replaced rather than overridden: Flask-Admin's create, edit,
details, delete, export and action views call the module-level function directly and
offer no method to override short of copying each view. It is replaced when this module
is imported, and the import fails loudly if the function is no longer there.
"""

from __future__ import annotations

from collections import OrderedDict

import flask_admin.actions
import flask_admin.model.base
from flask import has_request_context, request
from flask_admin.contrib.peewee.tools import parse_like_term

from web.security import safe_next

PRIVATE_METHODS = {
    "flask_admin.base.BaseView": {"_handle_view": ("name",)},
    "flask_admin.model.base.BaseModelView": {
        "_get_list_extra_args": (),
        "_get_filter_groups": (),
        "_get_field_value": ("model", "name"),
        "_get_column_by_idx": ("idx",),
        "_get_default_order": (),
        "_export_csv": ("return_url",),
        "_export_tablib": ("export_type", "return_url"),
    },
    "flask_admin.contrib.peewee.view.ModelView": {
        "_handle_join": ("query", "field", "joins"),
        "_order_by": ("query", "joins", "order"),
    },
    "peewee.BaseQuery": {"_get_cursor_wrapper": ("cursor",)},
}
PRIVATE_VIEW_ATTRIBUTES = (
    "_filters",
    "_search_supported",
    "_search_fields",
    "_sortable_columns",
    "_export_columns",
    "_column_choices_map",
)
PRIVATE_FUNCTIONS = {
    "flask_admin.contrib.peewee.tools": ("parse_like_term",),
    "flask_admin.model.base": ("get_redirect_target",),
    "flask_admin.actions": ("get_redirect_target",),
}


# ---------------------------------------------------------------------- reading a view


def list_arguments(view):
    """The list page's arguments (``.search``, ``.filters``, ``.sort``, ``.sort_desc``)."""
    return view._get_list_extra_args()


def page_searches(view) -> bool:
    """Whether the page being drawn has a search of the view's own."""
    return bool(view._search_supported and has_request_context() and view._get_list_extra_args().search)


def searches_supported(view) -> bool:
    return bool(view._search_supported)


def filter_groups(view):
    """``{label: [filter]}`` as Flask-Admin's list template reads it, in the page's language
    with the options as they are now.

    Built in local variables from the filters the view was registered with: Flask-Admin's
    own ``_refresh_filters_cache`` rebinds the view's ``_filters``, ``_filter_args`` and
    ``_filter_groups`` and refills them, while the worker's other threads parse their
    ``?flt…`` against them (a filter missing at that moment was dropped: a filtered list
    came back unfiltered). Those tables are built once, when the view is registered, and
    only read afterwards.
    """
    if not view._filters:
        return None
    groups = OrderedDict()
    for index, flt in enumerate(view._filters):
        options = flt.get_options(view)
        groups.setdefault(str(flt.name), []).append(
            {
                "index": index,
                "arg": view.get_filter_arg(index, flt),
                "operation": str(flt.operation()),
                "options": [(key, str(label)) for key, label in options] if options else None,
                "type": flt.data_type,
            }
        )
    return groups


def filter_columns(view, filters) -> list:
    """The columns that the page's active filters test."""
    return [view._filters[index].column for index, _name, _value in (filters or ())] if view._filters else []


def filter_order(view, filters):
    """The column of the first active filter that orders the list it filters
    (``orders_list``, e.g. a date range), or None."""
    for index, _name, _value in (filters or ()) if view._filters else ():
        if getattr(view._filters[index], "orders_list", False):
            return view._filters[index].column
    return None


def export_column_names(view) -> list[tuple[str, str]]:
    """The exported columns: ``(name, title)``."""
    return view._export_columns


def sort_column(view, index):
    """The ``(column, title)`` a list page sorts by, or ``None``."""
    return view._get_column_by_idx(index)


def field_value(view):
    """The function ``(row, name) -> value`` giving a model row's unformatted cell."""
    return view._get_field_value


def column_choices(view) -> dict:
    """``{column: {value: label}}`` of the view's ``column_choices``."""
    return view._column_choices_map or {}


# ---------------------------------------------------------------------- building a query


def apply_search(view, query, search, joins: set):
    """Every word of ``search`` matches one of the view's search fields (LIKE)."""
    if not (view._search_supported and search and view._search_fields):
        return query
    for value in search.split(" "):
        if not value:
            continue
        term, clause = parse_like_term(value), None
        for field in view._search_fields:
            query = view._handle_join(query, field, joins)
            clause = field**term if clause is None else clause | (field**term)
        query = query.where(clause)
    return query


def apply_filters(view, query, filters, joins: set):
    """The page's active filters (``(index, name, value)``), each joined as it needs."""
    for index, _name, value in (filters or ()) if view._filters else ():
        flt = view._filters[index]
        query = view._handle_join(query, flt.column, joins)
        query = flt.apply(query, flt.clean(value))
    return query


def apply_order(view, query, sort_column_name, sort_desc, joins: set):
    """The page's sort (a sortable column), else the view's default order."""
    if sort_column_name is not None and sort_column_name in view._sortable_columns:
        query, _joins = view._order_by(query, joins, [(view._sortable_columns[sort_column_name], sort_desc)])
        return query
    order = view._get_default_order()
    if order:
        query, _joins = view._order_by(query, joins, order)
    return query


def model_rows(query, cursor):
    """The model instances (joined rows linked as peewee links them) of a cursor we ran."""
    return query._get_cursor_wrapper(cursor)


# ---------------------------------------------------------------------- hooks Flask-Admin calls


class ModelViewHooks:
    """The private methods Flask-Admin calls on a model view, forwarded to ours."""

    def _get_filter_groups(self):
        # Labels follow the page's language and options the database: the view gives them
        # per page (SecureModelView.filter_groups), never by rebuilding its shared tables.
        return self.filter_groups()

    def _export_csv(self, return_url):
        return self.export_csv()

    def _sort_clause(self, query, joins, sort_field, sort_desc):
        # Flask-Admin builds one column's ORDER BY here; the view may replace the clause
        # (SecureModelView.sort_clause: Persian alphabetical order for Persian text).
        query, joins, clause = super()._sort_clause(query, joins, sort_field, sort_desc)
        return query, joins, self.sort_clause(sort_field, sort_desc, clause)

    def _export_tablib(self, export_type, return_url):
        # Flask-Admin sends every type but CSV to tablib; ours is the streaming XLSX.
        if export_type == "xlsx":
            return self.export_xlsx()
        return super()._export_tablib(export_type, return_url)


class PublicViewsMixin:
    """Views (method names in ``public_views``) that anyone may open, such as the login."""

    public_views: tuple = ()

    def _handle_view(self, name, **kwargs):
        if name in self.public_views:
            return None
        return super()._handle_view(name, **kwargs)


# ---------------------------------------------------------------------- the return url


def safe_redirect_target(param_name: str = "url"):
    """Flask-Admin's return ``url`` limited to a path on this site (its own check lets
    'https:evil.example' through)."""
    return safe_next(request.values.get(param_name), "") or None


def _replace_redirect_targets() -> None:
    for module in (flask_admin.model.base, flask_admin.actions):
        if not callable(getattr(module, "get_redirect_target", None)):
            raise RuntimeError(
                f"{module.__name__}.get_redirect_target is gone: the back office's return "
                "urls would not be checked (see backoffice/flask_admin_adapter.py)"
            )
        module.get_redirect_target = safe_redirect_target


_replace_redirect_targets()
