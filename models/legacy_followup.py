"""After the legacy import: working officers who have no qualification here (issue 18).

The old system had no qualification review, so an officer's active contract migrates
active whatever the old ``qualified`` column says; the officer is flagged
``qualification_due`` and must file a qualification request before the directorate's
deadline (the setting ``legacy_qualification_deadline``, a Jalali date). This module
lists who is still to file (:func:`officers_left`, :func:`left_per_province` for the
directorate's dashboard) and sends the reminders (:func:`send_qualification_reminders`,
idempotent: one reminder per step, whatever the number of runs or hosts; it is meant to
run from ``flask tick``). No Flask here.
"""

from __future__ import annotations

import datetime as _dt

from peewee import JOIN, fn

from persian import TEHRAN, format_jalali_date, parse_jalali_date

from .accounts import Officer
from .base import N_, db, translate
from .notices import notify_officer
from .qualification import QualificationRequest
from .reference import Province
from .sla import LEGACY_DEADLINE_SETTING, Setting
from .tick import register_job
from .vocabulary import State

DEADLINE_SETTING = LEGACY_DEADLINE_SETTING
# Reminders go out when this many days (or fewer) are left; -1: the deadline has passed.
REMINDER_DAYS = (30, 7, 1, -1)
# A request in these states counts as filed: the officer did what was asked.
_FILED = (State.SUBMITTED.value, State.DEFICIENT.value)


def qualification_deadline() -> _dt.date | None:
    """The deadline set by the directorate (Jalali ``YYYY/MM/DD`` in the settings), or None."""
    row = Setting.get_or_none(Setting.key == DEADLINE_SETTING)
    return parse_jalali_date(row.value) if row else None


def officers_left():
    """Flagged officers, active, not qualified, with no request under review."""
    filed = QualificationRequest.select(QualificationRequest.officer).where(QualificationRequest.status.in_(_FILED))
    return Officer.select().where(
        Officer.qualification_due & Officer.is_active & Officer.qualified_at.is_null() & Officer.id.not_in(filed)
    )


def left_per_province() -> list[tuple[str, int]]:
    """[(province name, officers still to file)], most first; one aggregate query."""
    filed = QualificationRequest.select(QualificationRequest.officer).where(QualificationRequest.status.in_(_FILED))
    query = (
        Officer.select(fn.COALESCE(Province.name, "-"), fn.COUNT(Officer.id))
        .join(Province, JOIN.LEFT_OUTER, on=(Officer.province == Province.id))
        .where(
            Officer.qualification_due & Officer.is_active & Officer.qualified_at.is_null() & Officer.id.not_in(filed)
        )
        .group_by(Province.name)
        .order_by(fn.COUNT(Officer.id).desc(), Province.name)
    )
    return list(query.tuples())


def reminder_step(days_left: int) -> int:
    """How many reminders are due when ``days_left`` days are left (0 to len(REMINDER_DAYS))."""
    return sum(1 for limit in REMINDER_DAYS if days_left <= limit)


def send_qualification_reminders(now: _dt.datetime) -> int:
    """Remind each officer still to file, once per step of ``REMINDER_DAYS``; return how
    many were sent. Idempotent: the step is claimed by a conditional UPDATE in the same
    transaction as the notice and the SMS, so a second run (or host) sends nothing."""
    deadline = qualification_deadline()
    if deadline is None:
        return 0
    today = (now.replace(tzinfo=_dt.UTC) if now.tzinfo is None else now).astimezone(TEHRAN).date()
    step = reminder_step((deadline - today).days)
    if step == 0:
        return 0
    sent = 0
    for officer in officers_left().where(Officer.qualification_reminders < step).order_by(Officer.id):
        with db.atomic():
            claimed = (
                Officer.update(qualification_reminders=step)
                .where((Officer.id == officer.id) & (Officer.qualification_reminders < step))
                .execute()
            )
            if claimed != 1:
                continue
            date = format_jalali_date(deadline)
            if today > deadline:
                subject = translate(N_("The deadline for your qualification request has passed"))
                body = translate(
                    N_(
                        "Your contract came over from the old system, but you have no qualification in the new"
                        " registry. The deadline (%(date)s) has passed: file a qualification request now."
                    ),
                    date=date,
                )
            else:
                subject = translate(N_("File your qualification request"))
                body = translate(
                    N_(
                        "Your contract came over from the old system, but you have no qualification in the new"
                        " registry. File a qualification request before %(date)s."
                    ),
                    date=date,
                )
            notify_officer(officer, subject, body)
            sent += 1
    return sent


# Twice a day is enough for reminders counted in days; each step is claimed once (above).
register_job("remind_legacy_officers", send_qualification_reminders, every=_dt.timedelta(hours=12))
