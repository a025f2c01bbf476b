"""The service-level clock: a university has a number of working days (Fridays and
official holidays excluded) to decide a request. The clock runs while a request waits
on the university, pauses while it waits on the applicant, and stops at the decision.

Which states are "waiting on the university" is each request type's business (its
flow's ``waiting_states``); this module only counts days.
"""

from __future__ import annotations

import datetime as _dt

from peewee import CharField, DateField

from .base import BaseModel, utcnow

DEFAULT_TARGET_DAYS = 10
FRIDAY = 4  # date.weekday(): Monday 0 ... Friday 4


class Setting(BaseModel):
    """Settings the directorate edits in the back office."""

    key = CharField(max_length=60, unique=True)
    value = CharField(max_length=200)

    def __str__(self):
        return self.key


class Holiday(BaseModel):
    """An official holiday: no working day for the service-level clock."""

    date = DateField(unique=True)
    name = CharField(max_length=120, default="")

    def __str__(self):
        return self.name or self.date.isoformat()


def target_working_days() -> int:
    row = Setting.get_or_none(Setting.key == "sla_working_days")
    try:
        return max(1, int(row.value)) if row else DEFAULT_TARGET_DAYS
    except ValueError:
        return DEFAULT_TARGET_DAYS


def holidays_between(start: _dt.date, end: _dt.date) -> set:
    return {h.date for h in Holiday.select(Holiday.date).where(Holiday.date.between(start, end))}


def is_working_day(day: _dt.date, holidays: set) -> bool:
    return day.weekday() != FRIDAY and day not in holidays


def add_working_days(start: _dt.date, days: int, holidays: set | None = None) -> _dt.date:
    """The date on which ``days`` working days after ``start`` have passed."""
    if holidays is None:
        holidays = holidays_between(start, start + _dt.timedelta(days=days * 2 + 60))
    current, remaining = start, max(0, days)
    while remaining > 0:
        current += _dt.timedelta(days=1)
        if is_working_day(current, holidays):
            remaining -= 1
    return current


def working_days_between(start: _dt.date, end: _dt.date, holidays: set | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    if holidays is None:
        holidays = holidays_between(start, end)
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + _dt.timedelta(days=i), holidays))


def clock_changes(request, source: str, target: str, now: _dt.datetime, waiting_states) -> dict:
    """How a transition from ``source`` to ``target`` moves the clock of ``request``: it
    runs in ``waiting_states`` (waiting on the university), pauses while the request
    waits on the applicant (deficient), and stops at the decision."""
    model = type(request)
    today = now.date()
    if target in waiting_states and source not in waiting_states:
        remaining = target_working_days() - (request.clock_used_days or 0)
        return {model.due_on: add_working_days(today, remaining)}
    if source in waiting_states and target not in waiting_states:
        waited_since = (request.last_submitted_at or request.submitted_at or now).date()
        used = (request.clock_used_days or 0) + working_days_between(waited_since, today)
        return {model.clock_used_days: used, model.due_on: None}
    return {}


def overdue(model, today: _dt.date | None = None):
    """The requests of a reviewed type still waiting on a university after their due date."""
    today = today or utcnow().date()
    return model.select().where(model.status.in_(model.FLOW.waiting_states) & (model.due_on < today))
