"""The officers' inbox (directorate notices and decision notices) and the SMS outbox."""

from __future__ import annotations

import json
import re

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, fn

from persian import normalize_national_code, normalize_text

from .accounts import Officer, StaffUser
from .audit import audit
from .base import N_, BaseModel, DomainError, PermissionDenied, db, translate, utcnow
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


# Parameters of an SMS that are secrets (one-time codes): rendered only when the message
# is handed to the gateway, shown masked everywhere else, and wiped once it has left.
SECRET_SMS_PARAMS = frozenset({"code"})
SMS_MASK = "••••••"


class SmsOutbox(BaseModel):
    """An SMS waiting to be sent, written in the same transaction as the change it reports.

    The message is kept as a template (``msgid``) and its parameters; the text the
    gateway gets is rendered at send time. ``text`` is what people may read: the same
    message with every secret parameter masked."""

    STATUSES = ("pending", "sent", "failed")

    to = CharField(max_length=11)
    text = TextField()
    msgid = TextField(default="")
    params = TextField(default="")
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

    @property
    def secret_wiped(self) -> bool:
        """True once the secret parameters are gone: the message can no longer be sent."""
        return any(value == SMS_MASK for key, value in self.parameters().items() if key in SECRET_SMS_PARAMS)

    def parameters(self) -> dict:
        return json.loads(self.params) if self.params else {}

    def render(self) -> str:
        """The text to hand to the gateway, secrets included (rows from before templates
        carry their text only)."""
        if not self.msgid:
            return self.text
        return translate(self.msgid, **self.parameters())


# The messages that carried a code, as the text just before it (English, Persian), for the
# texts written before templates (migration 017 keeps its own frozen copy).
_CODE_PREFIXES = (
    "Your password recovery code: ",
    "کد بازیابی گذرواژه شما: ",
    "Your registration code: ",
    "کد ثبت‌نام شما: ",
    "Your code to confirm this number as your mobile: ",
    "کد تأیید این شماره به عنوان شماره همراه شما: ",
    "Your code to confirm this number as the distributor manager's mobile: ",
    "کد تأیید این شماره به‌عنوان همراه مدیر توزیع‌کننده: ",
)
_CODE_IN_TEXT = re.compile("(" + "|".join(re.escape(p) for p in _CODE_PREFIXES) + ")[0-9۰-۹٠-٩]{4,8}")


def mask_sms_codes(text: str) -> str:
    """``text`` (an SMS as sent) with the one-time code of a code message masked."""
    return _CODE_IN_TEXT.sub(lambda match: match.group(1) + SMS_MASK, text)


def _masked(params: dict) -> dict:
    return {key: (SMS_MASK if key in SECRET_SMS_PARAMS else value) for key, value in params.items()}


def queue_sms(to: str, msgid: str, /, **params):
    """Queue an SMS: a message id (``N_``) and its parameters, rendered in Persian when it
    is sent. A parameter named ``code`` is a secret, never shown in the back office and
    wiped once the message has left. Call inside the transaction of the change it reports."""
    if not to:
        return None
    params = {key: value if isinstance(value, int | float) else str(value) for key, value in params.items()}
    return SmsOutbox.create(
        to=to,
        msgid=msgid,
        params=json.dumps(params, ensure_ascii=False) if params else "",
        text=translate(msgid, **_masked(params)),
    )


def wipe_sms_secrets(sms_id: int) -> None:
    """Forget the secret parameters of a message that has left the outbox (sent, or
    failed for good): a code must not stay readable in the database or a backup."""
    sms = SmsOutbox.get_or_none(SmsOutbox.id == sms_id)
    if sms is None or not sms.params:
        return
    params = sms.parameters()
    if SECRET_SMS_PARAMS & params.keys():
        SmsOutbox.update(params=json.dumps(_masked(params), ensure_ascii=False)).where(SmsOutbox.id == sms_id).execute()


def notify_officer(officer, subject: str, body: str, /, sms_text: str | None = None, about=None, **params):
    """A decision notice in the officer's inbox, and the same news by SMS; ``about`` is the
    request it is about (the inbox links to it).

    ``subject``, ``body`` and ``sms_text`` are message ids filled with ``params`` (a text
    already rendered works too: it is its own message id)."""
    Notice.create(
        subject=translate(subject, **params),
        body=translate(body, **params),
        audience="officer",
        officer=officer,
        kind="decision",
        request_type=about.REQUEST_TYPE if about is not None else "",
        request_id=about.id if about is not None else None,
    )
    queue_sms(officer.mobile, sms_text or body, **params)
