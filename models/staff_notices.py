"""Notices to back-office staff: to a university's reviewers, or to the directorate.

Written in the transaction of what they report (a request returned to the pool, an
escalation), shown on the back-office dashboard, and sent by SMS to each active account
of that audience that has a mobile number.
"""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from .accounts import StaffUser
from .base import BaseModel, utcnow
from .notices import queue_sms
from .reference import University


class StaffNotice(BaseModel):
    """One notice to a university's reviewers (``university`` set) or to the directorate."""

    university = ForeignKeyField(University, null=True, on_delete="RESTRICT", index=True)
    subject = CharField(max_length=200)
    body = TextField()
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "staff_notice"

    def __str__(self):
        return self.subject


def _audience(university_id):
    if university_id is None:
        return StaffUser.select().where((StaffUser.role == "directorate") & (StaffUser.is_active == True))  # noqa: E712
    return StaffUser.select().where(
        (StaffUser.role == "university") & (StaffUser.university == university_id) & (StaffUser.is_active == True)  # noqa: E712
    )


def _notify(university_id, subject: str, body: str) -> StaffNotice:
    notice = StaffNotice.create(university=university_id, subject=subject[:200], body=body)
    for staff in _audience(university_id):
        if staff.mobile:
            queue_sms(staff.mobile, f"{subject}: {body}"[:600])
    return notice


def notify_university(university_id: int, subject: str, body: str) -> StaffNotice:
    """A notice to every reviewer of a university."""
    return _notify(university_id, subject, body)


def notify_directorate(subject: str, body: str) -> StaffNotice:
    """A notice to the directorate."""
    return _notify(None, subject, body)


def notices_for(actor, limit: int = 20):
    """The newest notices an account of the back office may read: a reviewer their
    university's, the directorate its own."""
    if actor is None or actor.kind != "staff":
        return []
    if actor.is_directorate:
        clause = StaffNotice.university.is_null()
    elif actor.university_id is not None:
        clause = StaffNotice.university == actor.university_id
    else:
        return []
    return list(
        StaffNotice.select().where(clause).order_by(StaffNotice.created_at.desc(), StaffNotice.id.desc()).limit(limit)
    )
