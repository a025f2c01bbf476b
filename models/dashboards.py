"""The aggregate numbers of the dashboards. Every number is one SQL aggregate; no rows
are loaded into Python to be counted. Reporting only: no operation imports this."""

from __future__ import annotations

import datetime as _dt

from peewee import SQL, Case, fn

from .accounts import Officer
from .base import is_sqlite, sql_persian_order, utcnow
from .cooperation import Branch, Cooperation
from .reference import Province, University
from .review import RequestEvent
from .vocabulary import REASONED_ACTIONS, State


def _days_between(start, end):
    if is_sqlite():
        return fn.julianday(end) - fn.julianday(start)
    return fn.date_part("epoch", end - start) / 86400.0


def counts_by_state_and_university(model, university_id=None):
    """[(university name, status, count)]."""
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
    query = (
        model.select(model, Officer)
        .join(Officer, on=(model.officer == Officer.id))
        .where(model.status.in_(model.FLOW.waiting_states))
        .order_by(model.last_submitted_at.asc())
        .limit(limit)
    )
    if university_id:
        query = query.where(model.university == university_id)
    return list(query)


def reasons_used(university_id=None, limit: int = 10):
    """[(reason code, count)] of the standard reasons given for deficiencies and rejections."""
    query = (
        RequestEvent.select(RequestEvent.reason, fn.COUNT(RequestEvent.id))
        .where(RequestEvent.action.in_(REASONED_ACTIONS) & (RequestEvent.reason != ""))
        .group_by(RequestEvent.reason)
        .order_by(fn.COUNT(RequestEvent.id).desc())
        .limit(limit)
    )
    if university_id:
        query = query.where(RequestEvent.university_id == university_id)
    return list(query.tuples())


def active_cooperations_per_province(university_id=None):
    """[(province name, active cooperations)], most first."""
    query = (
        Province.select(Province.name, fn.COUNT(Cooperation.id))
        .join(Branch, on=(Branch.province == Province.id))
        .join(Cooperation, on=((Cooperation.branch == Branch.id) & (Cooperation.status == State.ACTIVE)))
        .group_by(Province.name)
        .order_by(fn.COUNT(Cooperation.id).desc())
    )
    if university_id:
        query = query.where(Cooperation.university == university_id)
    return list(query.tuples())


def branches_with_officer_elsewhere(university_id=None, distributor_id=None):
    """Active cooperations whose officer now lives in another province than the branch
    (D12: a move approved by an edit request), as (branch name, officer name, cooperation id)."""
    query = (
        Cooperation.select(Branch.name, Officer.first_name, Officer.last_name, Cooperation.id)
        .join(Branch, on=(Cooperation.branch == Branch.id))
        .switch(Cooperation)
        .join(Officer, on=(Cooperation.officer == Officer.id))
        .where((Cooperation.status == State.ACTIVE) & (Officer.province != Branch.province))
        .order_by(Branch.name)
    )
    if university_id:
        query = query.where(Cooperation.university == university_id)
    if distributor_id:
        query = query.where(Cooperation.distributor == distributor_id)
    return [(branch, Officer.name_of(first, last), cid) for branch, first, last, cid in query.tuples()]
