"""A cartable's list rows without Flask-Admin's row machinery (issue 23).

Flask-Admin draws each cell through ``get_list_value`` (a formatter lookup, the value read
from a model instance, a type formatter) from rows built as five model instances each (the
request, its officer with the password hash, city, field, degree, university: 61 columns
to show 11), and builds one URL per row: 59 % of the page's time at a million requests.
Here the page's own query (its scope, tab, filters, search, sort and capped count, all
``SecureModelView.get_list``'s) selects only the columns the cells are made of, as tuples;
each row becomes a small named tuple that the view's own cell formatters read like the
model instance they were written for, the reference names come from the cached
``{id: name}`` maps, and the template writes the cells with a plain loop.

A view opts in with ``lean_fields`` (the columns read) and ``lean_cells`` (a cell per listed
column); ``tests/test_lean_list.py`` checks every cell equals what Flask-Admin would draw.
"""

from __future__ import annotations

from collections import namedtuple

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup, escape

import models

from . import export, page_frames
from .accounts import open_claims_waiting
from .base import current_staff

# A request id no list shows, to cut the review URL around (see review_link).
_SAMPLE_ID = 987654321987


class LeanListMixin:
    """List pages drawn from narrow tuples (``lean_fields``) and cells in Python (``lean_cells``)."""

    # name -> peewee column, in the order selected; a view lists them all or none.
    lean_fields: dict = {}
    # column of column_list -> function(view, row, context) -> cell (str or Markup)
    lean_cells: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built once, when the view is registered, and only read afterwards: the named tuple
        # a row is read into, with the model's FLOW (the cell formatters ask
        # ``row.FLOW.waiting_states`` as they would a model instance).
        self._lean_row_class = None
        if self.lean_fields:
            self._lean_row_class = namedtuple(f"{self.model.__name__}Row", tuple(self.lean_fields))
            self._lean_row_class.FLOW = self.model.FLOW

    def lean_enabled(self) -> bool:
        return bool(self.lean_fields) and all(name in self.lean_cells for name, _title in self._list_columns)

    def page_shape(self) -> tuple:
        return (self.lean_enabled(), tuple(self.lean_fields))

    def list_rows_query(self, query):
        if not self.lean_enabled():
            return super().list_rows_query(query)
        return query.select(*self.lean_fields.values()).tuples()

    def render(self, template, **kwargs):
        if not (template == self.list_template and "data" in kwargs and self.lean_enabled()):
            return super().render(template, **kwargs)
        rows = Markup("\n").join(self.lean_rows(kwargs["data"], self._template_args.get("cartable_hidden", ())))
        parent = super()

        def draw(row_pieces):
            return parent.render(template, cartable_rows=row_pieces, **kwargs)

        return page_frames.framed(current_staff(), self.frame_parts(kwargs), rows, draw)

    def frame_parts(self, kwargs) -> tuple:
        """What the page shows besides its rows that its query string does not say: the
        list's and tabs' counts, whether the page is full (the pager), the menu's badge and
        the day (``page_frames``)."""
        counts = self._template_args.get("cartable_counts")
        full = len(kwargs["data"]) == kwargs.get("page_size")
        count = kwargs.get("count")
        return (
            (count, str(count)),  # a count that stopped at the cap shows as "10,000+"
            tuple(counts.items()) if counts else None,
            self._template_args.get("cartable_cap"),
            full,
            menu_badge(),
            models.utcnow().date(),
        )

    def lean_rows(self, data, hidden=()) -> list:
        """The page's rows as whole ``<tr>`` strings (hidden columns left out): each cell's
        text is escaped once here, and the template writes the rows as they are."""
        make = self._lean_row_class._make
        width = len(self.lean_fields)
        columns = [
            (f'<td class="col-{escape(name)}" data-label="{escape(title)}">', self.lean_cells[name])
            for name, title in self._list_columns
            if name not in hidden
        ]
        context = self.lean_context()
        rows = []
        for values in data:
            row = make(values[:width])
            cells = " ".join(f"{opening}{escape(cell(self, row, context))}</td>" for opening, cell in columns)
            rows.append(Markup(f'<tr class="cartable-row" data-id="{escape(row.id)}"> {cells} </tr>'))
        return rows

    def lean_context(self) -> dict:
        """What every row's cells share on this page: the review URL's two halves, the names,
        the day, and the words the cells repeat (kept once per page: ``page_word``)."""
        sample = self.get_url(".review_view", id=_SAMPLE_ID, tab=self.current_tab())
        before, after = sample.split(str(_SAMPLE_ID), 1)
        now = models.utcnow()
        review_url = (escape(before), escape(after))
        return {"review_url": review_url, "names": {}, "now": now, "today": now.date(), "words": {}}


def page_word(context, key, make):
    """``make()`` once per page for ``key`` (a translated label, a formatted date...)."""
    words = context["words"]
    found = words.get(key)
    if found is None:
        found = words[key] = make()
    return found


def review_link(view, row, context):
    """The request number linking to its review in the current tab (as ``review_link_cell``)."""
    before, after = context["review_url"]
    number = escape(row.id)
    return Markup(f'<a class="review-link" href="{before}{number}{after}">{number}</a>')


def text_cell(field):
    """A field's value as Flask-Admin shows a plain one: nothing for None, else its text."""

    def cell(view, row, context):
        value = getattr(row, field)
        return "" if value is None else value

    return cell


def stamp_cell(field):
    """A date and time in Jalali (the list's type formatter for datetimes)."""
    return lambda view, row, context: export.jalali_stamp(getattr(row, field))


def name_cell(field, names):
    """A reference row shown by its name, from the cached ``{id: name}`` (``names()``)."""

    def cell(view, row, context):
        key = getattr(row, field)
        if key is None:
            return ""
        found = context["names"].get(field)
        if found is None:
            found = context["names"][field] = names()
        return found.get(key, "")

    return cell


def person_cell(first, last, name_of):
    """A person's name from its two columns (``name_of(first, last)``)."""
    return lambda view, row, context: name_of(getattr(row, first), getattr(row, last))


def code_cell(field):
    """A code written left to right on one line."""
    return lambda view, row, context: Markup(f'<span class="ltr nowrap">{escape(getattr(row, field))}</span>')


def menu_badge() -> int:
    """The number the menu shows: the directorate's carries the identity claims waiting."""
    staff = current_staff()
    return open_claims_waiting() if staff is not None and staff.role == "directorate" else 0


def cached_menu(admin_view, render):
    """The back office's menu (``render()``, Flask-Admin's menu macro), drawn once per view,
    role, language and badge count: which views a staff member may open depends on the role alone
    (``StaffAccessMixin``), and the active item on the view. Each entry is set whole, once."""
    staff = current_staff()
    if staff is None or not staff.is_active:
        return render()
    cache = current_app.extensions.setdefault("admin_menu_cache", {})
    key = (admin_view.endpoint, staff.role, str(get_locale()), menu_badge())
    found = cache.get(key)
    if found is None:
        found = cache[key] = Markup(render())
    return found
