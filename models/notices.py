"""The officers' inbox (directorate notices and decision notices) and the SMS outbox."""

from __future__ import annotations

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, fn

from persian import normalize_national_code, normalize_text

from .accounts import Officer, StaffUser
from .audit import audit
from .base import N_, BaseModel, DomainError, PermissionDenied, db, utcnow
from .prepared import Prepared
from .reference import Province

AUDIENCES = ("officer", "province", "all")


class Notice(BaseModel):
    """One notice, whatever its audience: a notice to all officers is one row, not 100,000."""

    subject = CharField(max_length=200)
    body = TextField()
    audience = CharField(max_length=10, index=True)
    officer = ForeignKeyField(Officer, null=True, on_delete="RESTRICT", index=True)
    province = ForeignKeyField(Province, null=True, on_delete="RESTRICT", index=True)
    sender = ForeignKeyField(StaffUser, null=True, on_delete="RESTRICT")
    # 'directorate' for what staff wrote, 'decision' for what the system sent about a request.
    kind = CharField(max_length=12, default="directorate")
    created_at = DateTimeField(default=utcnow, index=True)
    # A decision notice's request (its type code and id), which the inbox links to.
    request_type = CharField(max_length=20, default="")
    request_id = IntegerField(null=True)

    def __str__(self):
        return self.subject


class NoticeRead(BaseModel):
    notice = ForeignKeyField(Notice, on_delete="RESTRICT")
    officer = ForeignKeyField(Officer, on_delete="RESTRICT", index=True)
    read_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "notice_read"
        indexes = ((("notice", "officer"), True),)


def _visible_to(officer):
    return _visible_to_officer(officer.id, officer.province_id)


def _visible_to_officer(officer_id, province_id):
    return (
        (Notice.audience == "all")
        | ((Notice.audience == "province") & (Notice.province == province_id))
        | ((Notice.audience == "officer") & (Notice.officer == officer_id))
    )


def inbox(officer):
    """The officer's notices, newest first, each with ``is_read`` set; one query."""
    read = NoticeRead.alias()
    query = (
        Notice.select(Notice, read.read_at.alias("read_at"))
        .join(read, JOIN.LEFT_OUTER, on=((read.notice == Notice.id) & (read.officer == officer.id)))
        .where(_visible_to(officer))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )
    # .objects(): read_at lands on the notice itself, not on a joined NoticeRead.
    return query.objects()


def _unread(officer_id, province_id):
    read = NoticeRead.alias()
    return (
        Notice.select(fn.COUNT(Notice.id))
        .join(read, JOIN.LEFT_OUTER, on=((read.notice == Notice.id) & (read.officer == officer_id)))
        .where(_visible_to_officer(officer_id, province_id) & read.id.is_null())
        .tuples()
    )


UNREAD = Prepared(_unread)  # on every officer dashboard


def unread_count(officer) -> int:
    """How many of the officer's notices are not read yet."""
    return UNREAD.first(officer.id, officer.province_id)[0]


def open_notice(officer, notice_id: int):
    """The notice if the officer may see it (marking it read), else None."""
    notice = Notice.select().where((Notice.id == notice_id) & _visible_to(officer)).first()
    if notice is None:
        return None
    NoticeRead.insert(notice=notice, officer=officer, read_at=utcnow()).on_conflict_ignore().execute()
    return notice


def send_notice(sender_actor, subject: str, body: str, audience: str, officer_national_code: str = "", province=None):
    """Write a directorate notice to one officer, a province's officers, or everyone."""
    if not sender_actor.is_directorate:
        raise PermissionDenied(N_("Only the directorate can send notices."))
    subject, body = normalize_text(subject), (body or "").strip()
    if not subject:
        raise DomainError(N_("Write a subject."), field="subject")
    if not body:
        raise DomainError(N_("Write the text of the notice."), field="body")
    if audience not in AUDIENCES:
        raise DomainError(N_("Choose who receives the notice."), field="audience")
    officer = None
    if audience == "officer":
        code = normalize_national_code(officer_national_code)
        officer = Officer.get_or_none(Officer.national_code == code)
        if officer is None:
            raise DomainError(N_("No officer is registered with this national code."), field="officer_national_code")
    if audience == "province" and province is None:
        raise DomainError(N_("Choose the province."), field="province")
    with db.atomic():
        notice = Notice.create(
            subject=subject,
            body=body,
            audience=audience,
            officer=officer,
            province=province if audience == "province" else None,
            sender=sender_actor.id,
        )
        audit(sender_actor, "notice_sent", notice, detail=audience)
    return notice


class SmsOutbox(BaseModel):
    """An SMS waiting to be sent, written in the same transaction as the change it reports."""

    STATUSES = ("pending", "sent", "failed")

    to = CharField(max_length=11)
    text = TextField()
    status = CharField(max_length=10, default="pending", index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    provider_id = CharField(max_length=60, default="")
    # Set while a worker sends it, so two workers never send one message twice.
    locked_until = DateTimeField(null=True)

    class Meta:
        table_name = "sms_outbox"


def queue_sms(to: str, text: str):
    """Queue an SMS; call inside the transaction of the change it reports."""
    if not to:
        return None
    return SmsOutbox.create(to=to, text=text)


def notify_officer(officer, subject: str, body: str, sms_text: str | None = None, about=None):
    """A decision notice in the officer's inbox, and the same news by SMS; ``about`` is the
    request it is about (the inbox links to it)."""
    Notice.create(
        subject=subject,
        body=body,
        audience="officer",
        officer=officer,
        kind="decision",
        request_type=about.REQUEST_TYPE if about is not None else "",
        request_id=about.id if about is not None else None,
    )
    queue_sms(officer.mobile, sms_text or body)
