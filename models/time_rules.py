"""The time-based rules ``flask tick`` runs (see :mod:`models.tick`): nominations expire,
overdue requests are escalated, officers are reminded of deficiencies they have not
fixed, and branches without a technical officer are chased.

Each rule is idempotent: what it sends, it sends once (:func:`models.tick.once`, in the
transaction of the notice), keyed by the moment the situation began, so a request that
becomes overdue again after a new submission, or a branch that loses a second officer,
is told again.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from peewee import JOIN, fn

from .accounts import Distributor, Officer
from .base import N_, SYSTEM, db, tehran_today, translate
from .cooperation import Branch, Cooperation, expire_nominations
from .notices import queue_sms
from .reference import City
from .request_types import REVIEWED_TYPES
from .review import RequestEvent, record_event
from .sla import holidays_between, is_working_day, setting_days, weekend_days
from .staff_notices import notify_directorate, notify_university
from .tick import once, register_job
from .vocabulary import Action, State

REMINDER_DAYS = (7, 14)
REMINDER = N_("Request #%(id)s has waited %(days)s days for you to fix its deficiencies; fix and resubmit it.")


def as_datetime(value):
    """An aggregate's timestamp: SQLite answers ``MAX(at)`` as text, PostgreSQL as a datetime."""
    if isinstance(value, str):
        return _dt.datetime.fromisoformat(value)
    return value


# ------------------------------------------------------------------ escalation


def working_days_before(day: _dt.date, days: int) -> _dt.date:
    """The latest date from which ``days`` working days have passed by ``day``: a due
    date on or before it is ``days`` working days late."""
    weekend = weekend_days()
    holidays = holidays_between(day - _dt.timedelta(days=days * 3 + 60), day)
    current, remaining = day, max(0, days)
    while remaining > 0:
        if is_working_day(current, holidays, weekend):
            remaining -= 1
        current -= _dt.timedelta(days=1)
    return current


def escalation_cutoff(today: _dt.date | None = None) -> _dt.date:
    """Requests due on or before this date are escalated to the directorate."""
    return working_days_before(today or tehran_today(), setting_days("escalation_working_days"))


def escalated(model, today: _dt.date | None = None):
    """The requests of a type the directorate must look at: still waiting on their
    university ``escalation_working_days`` working days after the due date."""
    return model.select().where(
        model.status.in_(model.FLOW.waiting_states) & (model.due_on <= escalation_cutoff(today))
    )


def _title(model, request) -> str:
    return f"{translate(model.TITLE)} #{request.id}"


def escalate_overdue(now: _dt.datetime) -> int:
    """At the due date, the university's reviewers are told; after a further
    ``escalation_working_days`` working days, the directorate is, and the request's
    history says so."""
    today = tehran_today(now)
    cutoff = escalation_cutoff(today)
    sent = 0
    for model in REVIEWED_TYPES:
        due = model.select().where(model.status.in_(model.FLOW.waiting_states) & (model.due_on <= today))
        for request in due.order_by(model.id):
            key = f"{model.REQUEST_TYPE}:{request.id}:{request.due_on.isoformat()}"
            with db.atomic():
                if request.university_id is not None and once("due_reviewers", key):
                    notify_university(
                        request.university_id,
                        translate(N_("A request is due today")),
                        translate(
                            N_("%(request)s is due for a decision on %(due)s."),
                            request=_title(model, request),
                            due=request.due_on.isoformat(),
                        ),
                    )
                    sent += 1
            if request.due_on > cutoff:
                continue
            with db.atomic():
                if once("escalate_directorate", key):
                    record_event(request, Action.ESCALATE, request.status, request.status, SYSTEM)
                    notify_directorate(
                        translate(N_("An overdue request was escalated")),
                        translate(
                            N_("%(request)s of %(university)s was due on %(due)s and is still waiting."),
                            request=_title(model, request),
                            university=request.university.name if request.university_id else "",
                            due=request.due_on.isoformat(),
                        ),
                    )
                    sent += 1
    return sent


# ------------------------------------------------------------------ deficiency reminders


def remind_deficient(now: _dt.datetime) -> int:
    """An officer whose request has waited on them (deficient) for 7 and for 14 days gets
    an SMS each time; a tick that missed the 7th day sends only the 14-day one."""
    sent = 0
    for model in REVIEWED_TYPES:
        if State.DEFICIENT not in model.FLOW.states:
            continue
        since = fn.MAX(RequestEvent.at)
        rows = (
            model.select(model, Officer, since.alias("deficient_since"))
            .join(Officer)
            .switch(model)
            .join(
                RequestEvent,
                on=(
                    (RequestEvent.request_type == model.REQUEST_TYPE)
                    & (RequestEvent.request_id == model.id)
                    & (RequestEvent.action == Action.DEFICIENCY)
                ),
            )
            .where(model.status == State.DEFICIENT)
            .group_by(model, Officer)
            .objects()
        )
        for request in rows:
            deficient_since = as_datetime(request.deficient_since)
            waited = now - deficient_since
            due = [days for days in REMINDER_DAYS if waited >= _dt.timedelta(days=days)]
            if not due:
                continue
            stamp = deficient_since.isoformat(timespec="seconds")
            with db.atomic():
                fresh = [
                    days
                    for days in due
                    if once("remind_deficient", f"{model.REQUEST_TYPE}:{request.id}:{stamp}:{days}")
                ]
                if max(due) in fresh:
                    queue_sms(
                        request.officer.mobile,
                        translate(REMINDER, id=request.id, days=max(due)),
                    )
                    sent += 1
    return sent


# ------------------------------------------------------------------ branches without an officer


@dataclass(frozen=True)
class Vacancy:
    """A branch without a technical officer: since when, and the days of grace left."""

    branch: Branch
    since: _dt.datetime
    days_left: int
    lost_officer: bool

    @property
    def non_compliant(self) -> bool:
        return self.days_left < 0


def vacancies(now: _dt.datetime, distributor_id=None, university_id=None) -> list[Vacancy]:
    """Active branches with no active cooperation, oldest vacancy first, within a
    distributor's or a university's scope (both None: every branch). A branch that never
    had an officer counts from its creation."""
    grace = setting_days("branch_grace_days")
    active = Cooperation.alias()
    ended = Cooperation.alias()
    last_end = ended.select(fn.MAX(ended.ended_at)).where((ended.branch == Branch.id) & (ended.status == State.ENDED))
    query = (
        Branch.select(Branch, City, last_end.alias("last_end"))
        .join(City)
        .switch(Branch)
        .join(active, JOIN.LEFT_OUTER, on=((active.branch == Branch.id) & (active.status == State.ACTIVE)))
        .where((Branch.is_active == True) & active.id.is_null())  # noqa: E712
    )
    if distributor_id is not None:
        query = query.where(Branch.distributor == distributor_id)
    if university_id is not None:
        query = query.where(City.university == university_id)
    today = tehran_today(now)
    found = []
    for branch in query:
        ended_at = as_datetime(branch.last_end)
        since = ended_at or branch.created_at
        elapsed = (today - tehran_today(since)).days
        found.append(Vacancy(branch, since, grace - elapsed, ended_at is not None))
    return sorted(found, key=lambda v: (v.days_left, v.branch.id))


def chase_vacancies(now: _dt.datetime) -> int:
    """A branch that lost its officer: the distributor's manager and the branch's
    university are told, and the grace period runs; past it, the branch is non-compliant
    and the directorate is told too."""
    sent = 0
    for vacancy in vacancies(now):
        branch = vacancy.branch
        key = f"{branch.id}:{vacancy.since.isoformat(timespec='seconds')}"
        manager = Distributor.get_by_id(branch.distributor_id).manager_mobile
        with db.atomic():
            if vacancy.lost_officer and once("branch_vacant", key):
                text = translate(
                    N_("The branch %(branch)s has no technical officer. Name one within %(days)s days."),
                    branch=branch.name,
                    days=max(vacancy.days_left, 0),
                )
                queue_sms(manager, text)
                if branch.city.university_id:
                    notify_university(
                        branch.city.university_id, translate(N_("A branch has no technical officer")), text
                    )
                sent += 1
        if not vacancy.non_compliant:
            continue
        with db.atomic():
            if once("branch_non_compliant", key):
                text = translate(
                    N_(
                        "The branch %(branch)s is non-compliant: it has had no technical officer past the grace period."
                    ),  # noqa: E501  (one message id)
                    branch=branch.name,
                )
                queue_sms(manager, text)
                if branch.city.university_id:
                    notify_university(branch.city.university_id, translate(N_("A branch is non-compliant")), text)
                notify_directorate(translate(N_("A branch is non-compliant")), text)
                sent += 1
    return sent


register_job("expire_nominations", expire_nominations, every=_dt.timedelta(minutes=10))
register_job("escalate_overdue", escalate_overdue, every=_dt.timedelta(hours=1))
register_job("remind_deficient", remind_deficient, every=_dt.timedelta(hours=1))
register_job("chase_vacancies", chase_vacancies, every=_dt.timedelta(minutes=30))
