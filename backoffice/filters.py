"""List filters and the officer search the back-office views share: foreign keys by id,
Jalali dates, "assigned to me", overdue, qualified, municipal district, and search by
national code, user code or name. Options are in Persian alphabetical order."""

from __future__ import annotations

import datetime as _dt

from flask import has_request_context
from flask_admin.contrib.peewee.filters import BasePeeweeFilter, FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

import models
import persian
from models import Officer, is_id, parse_id
from web.labels import local_digits

from .base import cached_options, current_staff


class IdFilter(FilterEqual):
    """Equality on a foreign key: only a number is a value (anything else is ignored)."""

    def validate(self, value):
        return is_id(value)

    def clean(self, value):
        return parse_id(value)


def options_of(model, label="name"):
    """(id, name) options for a filter on a foreign key, read when a page renders.

    Flask-Admin also evaluates options when the view is built; outside a request
    they are empty, so building the app never touches the database.
    """

    def options():
        if not has_request_context():
            return []
        return cached_options(
            ("options_of", model._meta.table_name, label),
            lambda: [
                (row.id, getattr(row, label))
                for row in persian.sorted_persian(model.select(), key=lambda r: getattr(r, label))
            ],
        )

    return options


def distinct_options(column):
    """The values a column holds (at most 200), as filter options."""

    def options():
        if not has_request_context():
            return []
        return cached_options(
            ("distinct_options", column.model._meta.table_name, column.name),
            lambda: [
                (value, value)
                for value in persian.sorted_persian(
                    value for (value,) in column.model.select(column).distinct().order_by(column).limit(200).tuples()
                )
            ],
        )

    return options


def district_options():
    """«منطقه ۱» … options for a filter on a municipal district column (value: the number)."""

    def options():
        if not has_request_context():
            return []
        numbers = cached_options(
            ("district_options",), lambda: sorted({n for ns in models.districts_by_city().values() for n in ns})
        )
        return [(str(n), gettext("District %(number)s", number=local_digits(n))) for n in numbers]

    return options


def district_filter(column):
    """Equality on a municipal district column (the options are the split cities' districts)."""
    return IdFilter(column, _l("Municipal district"), options=district_options())


class AssignedToMeFilter(BasePeeweeFilter):
    def apply(self, query, value):
        staff = current_staff()
        return query.where(self.column == (staff.id if staff else -1))

    def operation(self):
        return gettext("is me")

    def get_options(self, view):
        return [("1", gettext("Yes"))]


class JalaliDateFilter(BasePeeweeFilter):
    """A date typed in the Jalali calendar (Persian digits accepted).

    A list filtered by it and sorted by nobody is read in its column's order
    (``orders_list``): the page is then a range of that column's index, where the queue
    order would sort every request of the period (issue 23)."""

    orders_list = True

    def __init__(self, column, name, after: bool):
        super().__init__(column, name)
        self.after = after

    def validate(self, value):
        return persian.parse_jalali_date(value) is not None

    def clean(self, value):
        return persian.parse_jalali_date(value)

    def apply(self, query, value):
        if self.after:
            return query.where(self.column >= _dt.datetime.combine(value, _dt.time.min))
        return query.where(self.column < _dt.datetime.combine(value + _dt.timedelta(days=1), _dt.time.min))

    def operation(self):
        return gettext("from (Jalali)") if self.after else gettext("until (Jalali)")


class OverdueFilter(BasePeeweeFilter):
    """Requests waiting on the university past their due date."""

    def apply(self, query, value):
        return query.where(
            self.column.model.status.in_(self.column.model.FLOW.waiting_states) & (self.column < models.utcnow().date())
        )

    def operation(self):
        return gettext("overdue")

    def get_options(self, view):
        return [("1", gettext("Yes"))]


class QualifiedFilter(BasePeeweeFilter):
    """Officers by status: qualified or not yet (its column is the qualification time)."""

    def apply(self, query, value):
        return query.where(self.column.is_null(value != "1"))

    def operation(self):
        return gettext("is")

    def get_options(self, view):
        return [("1", gettext("Qualified")), ("0", gettext("Not qualified yet"))]


class OfficerSearchMixin:
    """Search by an officer's national code, user code or name on views whose query
    already joins the officer (Flask-Admin's own search would join it a second time)."""

    search_placeholder_text = _l("National code, user code or name")

    def init_search(self):
        return True

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, query = super().get_list(page, sort_column, sort_desc, None, filters, execute=False, page_size=page_size)
        if search:
            query = query.where(officer_search(search))
            count = query.order_by().limit(None).offset(None).count() if count is not None else None
        return count, (list(query) if execute else query)


def officer_search(text: str):
    """National code or user code (Persian digits accepted), or a part of the name."""
    value = persian.to_ascii_digits(persian.normalize_text(text))
    digits = value.replace(" ", "")
    if digits.isdigit():
        return (Officer.national_code == persian.normalize_national_code(digits)) | (Officer.user_code == digits)
    clause = None
    for word in value.split():
        term = (Officer.first_name.contains(word)) | (Officer.last_name.contains(word))
        clause = term if clause is None else clause & term
    return clause if clause is not None else (Officer.id == -1)
