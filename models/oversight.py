"""The service-level clock (working days, Friday weekend, official holidays) and the
aggregate numbers of the dashboards. Every number is one SQL aggregate; no rows are
loaded into Python to be counted."""

from __future__ import annotations

import datetime as _dt

from peewee import SQL, Case, CharField, DateField, fn

from .base import BaseModel, is_sqlite, sql_persian_order, utcnow

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


WAITING_STATES = ("submitted", "pending_university")


def clock_changes(request, source: str, target: str, now: _dt.datetime) -> dict:
    """How a transition moves the clock: it runs while a request waits on the university,
    pauses while it waits on the applicant (deficient), and stops at the decision."""
    model = type(request)
    today = now.date()
    if target in WAITING_STATES and source not in WAITING_STATES:
        remaining = target_working_days() - (request.clock_used_days or 0)
        return {model.due_on: add_working_days(today, remaining)}
    if source in WAITING_STATES and target not in WAITING_STATES:
        waited_since = (request.last_submitted_at or request.submitted_at or now).date()
        used = (request.clock_used_days or 0) + working_days_between(waited_since, today)
        return {model.clock_used_days: used, model.due_on: None}
    return {}


def overdue(query_model, today: _dt.date | None = None):
    today = today or utcnow().date()
    return query_model.select().where(query_model.status.in_(WAITING_STATES) & (query_model.due_on < today))


# ------------------------------------------------------------------ dashboards


def _days_between(start, end):
    if is_sqlite():
        return fn.julianday(end) - fn.julianday(start)
    return fn.date_part("epoch", end - start) / 86400.0


def counts_by_state_and_university(model, university_id=None):
    """[(university name, status, count)]."""
    from .reference import University

    query = (
        model.select(University.name, model.status, fn.COUNT(model.id))
        .join(University, on=(model.university == University.id))
        .group_by(University.name, model.status)
        .order_by(sql_persian_order(University.name))
    )
    if university_id:
        query = query.where(model.university == university_id)
    return list(query.tuples())


def decided_per_week(model, university_id=None, weeks: int = 12):
    """[(week start date, count)] for the last ``weeks`` weeks (Saturday-based weeks)."""
    since = utcnow() - _dt.timedelta(weeks=weeks)
    if is_sqlite():
        # Iranian weeks start on Saturday: go back (weekday + 1) % 7 days (%w: Sunday 0).
        shift = SQL("'-' || ((CAST(strftime('%w', decided_at) AS INTEGER) + 1) % 7) || ' days'")
        week = fn.date(model.decided_at, shift)
    else:
        week = fn.date_trunc("week", model.decided_at + SQL("interval '2 days'")) - SQL("interval '2 days'")
    query = (
        model.select(week, fn.COUNT(model.id))
        .where(model.decided_at.is_null(False) & (model.decided_at >= since))
        .group_by(week)
        .order_by(week)
    )
    if university_id:
        query = query.where(model.university == university_id)
    return [(str(week_start)[:10], n) for week_start, n in query.tuples()]


def decision_time_percentiles(model, university_id=None):
    """[(university, decided count, median days, 90th percentile days)] via window functions."""
    from .reference import University

    days = _days_between(model.submitted_at, model.decided_at)
    ranked = model.select(
        model.university.alias("uid"),
        days.alias("days"),
        fn.ROW_NUMBER().over(partition_by=[model.university], order_by=[days]).alias("rn"),
        fn.COUNT(model.id).over(partition_by=[model.university]).alias("cnt"),
    ).where(model.decided_at.is_null(False) & model.submitted_at.is_null(False) & model.university.is_null(False))
    if university_id:
        ranked = ranked.where(model.university == university_id)
    ranked = ranked.alias("ranked")
    # Integer division on both databases: the lower median, and the ceiling of 0.9 * n.
    median_rank = (ranked.c.cnt + 1) / 2
    p90_rank = (ranked.c.cnt * 9 + 9) / 10
    query = (
        University.select(
            University.name,
            fn.MAX(ranked.c.cnt),
            fn.MAX(Case(None, [(ranked.c.rn == median_rank, ranked.c.days)], None)),
            fn.MAX(Case(None, [(ranked.c.rn == p90_rank, ranked.c.days)], None)),
        )
        .join(ranked, on=(ranked.c.uid == University.id))
        .group_by(University.name)
        .order_by(sql_persian_order(University.name))
    )
    return [
        (name, count, round(float(median or 0), 1), round(float(p90 or 0), 1))
        for name, count, median, p90 in query.tuples()
    ]


def longest_waiting(model, university_id=None, limit: int = 10):
    """The requests waiting longest on a university, with their officers (one query)."""
    from .accounts import Officer

    query = (
        model.select(model, Officer)
        .join(Officer, on=(model.officer == Officer.id))
        .where(model.status.in_(WAITING_STATES))
        .order_by(model.last_submitted_at.asc())
        .limit(limit)
    )
    if university_id:
        query = query.where(model.university == university_id)
    return list(query)


def reasons_used(university_id=None, limit: int = 10):
    """[(reason code, count)] of the standard reasons given for deficiencies and rejections."""
    from .review import RequestEvent

    query = (
        RequestEvent.select(RequestEvent.reason, fn.COUNT(RequestEvent.id))
        .where(RequestEvent.action.in_(("deficiency", "reject")) & (RequestEvent.reason != ""))
        .group_by(RequestEvent.reason)
        .order_by(fn.COUNT(RequestEvent.id).desc())
        .limit(limit)
    )
    if university_id:
        query = query.where(RequestEvent.university_id == university_id)
    return list(query.tuples())


def active_cooperations_per_province(university_id=None):
    from .cooperation import Branch, Cooperation
    from .reference import Province

    query = (
        Province.select(Province.name, fn.COUNT(Cooperation.id))
        .join(Branch, on=(Branch.province == Province.id))
        .join(Cooperation, on=((Cooperation.branch == Branch.id) & (Cooperation.status == "active")))
        .group_by(Province.name)
        .order_by(fn.COUNT(Cooperation.id).desc())
    )
    if university_id:
        query = query.where(Cooperation.university == university_id)
    return list(query.tuples())
