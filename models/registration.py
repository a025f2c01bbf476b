"""Registration with a verified mobile, and changing the mobile (the recovery channel).

Both send a 6-digit code to the mobile and act only once it is typed back: valid 10
minutes, 5 tries (the counter moves in one conditional UPDATE, so parallel guesses cannot
pass the limit), stored hashed. A registration first passes the identity checks
(:mod:`models.identity`); the account exists only after the code is confirmed.

Anything an anonymous person can trigger here is limited per address, per mobile and per
national code (:data:`REGISTRATION_LIMITS`), counted in the database so every worker and
host shares the limit. Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import secrets

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from persian import normalize_mobile, to_ascii_digits

from . import ratelimit
from .accounts import Officer, StaffUser, hash_password
from .audit import audit
from .base import N_, BaseModel, DomainError, anonymous_actor, db, utcnow
from .identity import IdentityAdapter, IdentityRefused, check_identity
from .notices import queue_sms
from .officer_rules import (
    ALREADY_REGISTERED,
    REGISTRATION_FIELDS,
    ValidationFailed,
    clean_fields,
    create_officer,
    validate_registration,
)
from .tick import register_job

CODE_LIFETIME = _dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
PENDING = "pending"
REGISTRATION = "registration"
MOBILE_CHANGE = "mobile_change"
PURPOSES = (REGISTRATION, MOBILE_CHANGE)

# (what is counted, how many, per how many seconds): codes sent and registrations started.
REGISTRATION_LIMITS = (
    ("ip", 10, 3600),
    ("mobile", 3, 3600),
    ("mobile", 6, 86400),
    ("national_code", 5, 86400),
)
MOBILE_CHANGE_LIMITS = (("officer", 3, 3600), ("mobile", 3, 3600), ("mobile", 6, 86400))


class MobileVerification(BaseModel):
    """A pending registration or mobile change, waiting for the code sent to ``mobile``."""

    token = CharField(max_length=64, unique=True)
    purpose = CharField(max_length=20)
    officer = ForeignKeyField(Officer, null=True, on_delete="CASCADE", index=True)
    national_code = CharField(max_length=10, index=True)
    mobile = CharField(max_length=11)
    # A registration's cleaned form (never the password: password_hash holds its argon2id hash).
    payload = TextField(default="{}")
    password_hash = CharField(max_length=255, default="")
    code_hash = CharField(max_length=64)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    confirmed_at = DateTimeField(null=True)
    ip = CharField(max_length=45, default="")

    class Meta:
        table_name = "mobile_verification"


class IdentityClaim(BaseModel):
    """A person whose identity checks pass found their national code registered with a
    mobile Shahkar does not give them: the directorate decides (usually by changing the
    account's mobile to the claimant's)."""

    officer = ForeignKeyField(Officer, on_delete="RESTRICT", index=True)
    national_code = CharField(max_length=10)
    mobile = CharField(max_length=11)
    first_name = CharField(max_length=60)
    last_name = CharField(max_length=80)
    status = CharField(max_length=10, default=PENDING, index=True)
    created_at = DateTimeField(default=utcnow)
    resolved_by = ForeignKeyField(StaffUser, null=True, on_delete="RESTRICT", backref="+")
    resolved_at = DateTimeField(null=True)
    note = TextField(default="")

    class Meta:
        table_name = "identity_claim"


def open_claims(officer=None):
    """Claims waiting for the directorate, oldest first (of one officer if named)."""
    query = IdentityClaim.select().where(IdentityClaim.status == PENDING).order_by(IdentityClaim.created_at)
    return query.where(IdentityClaim.officer == officer.id) if officer is not None else query


class Throttled(DomainError):
    """A limit on codes or registrations was reached."""


def _digest(token: str, code: str) -> str:
    return hashlib.sha256(f"{token}:{code}".encode()).hexdigest()


def _enforce(limits, values: dict, ip: str) -> None:
    """Count one hit on every limit; refuse if any is over (every counter still moves, so a
    refused burst keeps the window closed)."""
    over = False
    for what, most, seconds in limits:
        value = values.get(what)
        if value and ratelimit.hit(f"verify:{what}:{seconds}:{value}", seconds) > most:
            over = True
    if over:
        audit(anonymous_actor(ip), "verification_throttled", object_type="mobile_verification")
        raise Throttled(
            N_("Too many codes were requested for this number or from this address. Try again in an hour."),
            code="throttled",
        )


def _send_code(verification_kwargs: dict, message: str) -> MobileVerification:
    """Store a pending verification with a fresh code and queue the code's SMS (one transaction)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    token = secrets.token_urlsafe(24)
    now = utcnow()
    with db.atomic():
        verification = MobileVerification.create(
            token=token,
            code_hash=_digest(token, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            **verification_kwargs,
        )
        queue_sms(verification.mobile, message, code=code)
    return verification


def start_registration(data: dict, identity: IdentityAdapter, ip: str = "") -> MobileVerification:
    """Check the form and the person, then send a code to the typed mobile.

    Raises ValidationFailed (the form's fields), Throttled, IdentityRefused (with the field
    to mark) or IdentityUnavailable; in each case nothing is stored."""
    try:
        clean = validate_registration(data)
    except ValidationFailed as failed:
        if set(failed.errors) == {"national_code"} and failed.errors["national_code"][0] == ALREADY_REGISTERED:
            _claim_if_squatted(data, identity, ip)
        raise
    _enforce(REGISTRATION_LIMITS, {"ip": ip, "mobile": clean["mobile"], "national_code": clean["national_code"]}, ip)
    try:
        check_identity(
            identity,
            clean["national_code"],
            clean["birth_date"],
            clean["first_name"],
            clean["last_name"],
            clean["mobile"],
        )
    except IdentityRefused as refused:
        audit(anonymous_actor(ip), "identity_refused", object_type="officer", detail=refused.code or "")
        raise
    typed = {name: str(data.get(name) or "") for name in REGISTRATION_FIELDS}
    verification = _send_code(
        dict(
            purpose=REGISTRATION,
            national_code=clean["national_code"],
            mobile=clean["mobile"],
            payload=json.dumps(typed, ensure_ascii=False),
            password_hash=hash_password(data.get("password") or ""),
            ip=ip or "",
        ),
        N_("Your registration code: %(code)s. It is valid for 10 minutes. Do not give it to anyone."),
    )
    audit(anonymous_actor(ip), "registration_code_sent", verification)
    return verification


def _claim_if_squatted(data: dict, identity: IdentityAdapter, ip: str) -> None:
    """The national code is taken. If this person passes both checks and the account's
    mobile is not the holder's line, someone else registered it: file a claim for the
    directorate (once per number) and say so. Otherwise the usual "already registered"."""
    if not identity.checks_identity:
        return
    clean = clean_fields(data, ("national_code", "birth_date", "first_name", "last_name", "mobile"))
    _enforce(REGISTRATION_LIMITS, {"ip": ip, "mobile": clean["mobile"], "national_code": clean["national_code"]}, ip)
    check_identity(
        identity, clean["national_code"], clean["birth_date"], clean["first_name"], clean["last_name"], clean["mobile"]
    )
    officer = Officer.get(Officer.national_code == clean["national_code"])
    if officer.mobile == clean["mobile"] or identity.mobile_belongs_to(officer.national_code, officer.mobile):
        return
    with db.atomic():
        if not open_claims(officer).where(IdentityClaim.mobile == clean["mobile"]).exists():
            claim = IdentityClaim.create(
                officer=officer,
                national_code=officer.national_code,
                mobile=clean["mobile"],
                first_name=clean["first_name"],
                last_name=clean["last_name"],
            )
            audit(anonymous_actor(ip), "identity_claim_filed", officer, detail=f"claim {claim.id}")
    raise DomainError(
        N_(
            "Your identity was confirmed, but this national code was registered with a mobile that is not yours. "
            "Your claim was sent to the directorate; they will contact you at this mobile number."
        ),
        code="claim_filed",
    )


def pending(token: str, purpose: str, officer=None) -> MobileVerification | None:
    """The open verification of this token (not confirmed, not expired, tries left), or None."""
    query = MobileVerification.select().where(
        (MobileVerification.token == (token or ""))
        & (MobileVerification.purpose == purpose)
        & MobileVerification.confirmed_at.is_null()
        & (MobileVerification.expires_at > utcnow())
        & (MobileVerification.attempts < MAX_ATTEMPTS)
    )
    if officer is not None:
        query = query.where(MobileVerification.officer == officer.id)
    return query.first()


ENDED = N_("This attempt has ended (10 minutes passed or 5 wrong codes). Start again.")


def _check_code(token: str, purpose: str, code: str, ip: str, officer=None) -> MobileVerification:
    """Spend one try on ``code``; return the verification when it is right."""
    verification = pending(token, purpose, officer)
    if verification is None:
        raise DomainError(ENDED, code="verification_ended")
    # One try is spent before comparing, in one conditional statement.
    spent = (
        MobileVerification.update(attempts=MobileVerification.attempts + 1)
        .where(
            (MobileVerification.id == verification.id)
            & (MobileVerification.attempts < MAX_ATTEMPTS)
            & MobileVerification.confirmed_at.is_null()
        )
        .execute()
    )
    if spent != 1:
        raise DomainError(ENDED, code="verification_ended")
    typed = to_ascii_digits((code or "").strip())
    if not hmac.compare_digest(_digest(verification.token, typed), verification.code_hash):
        audit(anonymous_actor(ip), "verification_code_wrong", verification)
        left = MAX_ATTEMPTS - verification.attempts - 1
        if left <= 0:
            raise DomainError(ENDED, code="verification_ended")
        raise DomainError(
            N_("The code is not correct. %(left)s tries left."), field="code", code="wrong_code", left=left
        )
    return verification


def _mark_confirmed(verification) -> None:
    done = (
        MobileVerification.update(confirmed_at=utcnow())
        .where((MobileVerification.id == verification.id) & MobileVerification.confirmed_at.is_null())
        .execute()
    )
    if done != 1:
        raise DomainError(ENDED, code="verification_ended")


def confirm_registration(token: str, code: str, ip: str = "") -> Officer:
    """The code typed back: create the account (with the form as it was checked)."""
    verification = _check_code(token, REGISTRATION, code, ip)
    data = json.loads(verification.payload)
    try:
        clean = validate_registration(data, with_password=False)
    except ValidationFailed as failed:
        # Someone registered this national code meanwhile, or the reference data changed.
        raise DomainError(next(iter(failed.errors.values()))[0], code="registration_invalid") from None
    with db.atomic():
        _mark_confirmed(verification)
        officer = Officer(**clean, password_hash=verification.password_hash)
        create_officer(officer)
        # The pending row no longer needs the password hash.
        MobileVerification.update(password_hash="", officer=officer.id).where(
            MobileVerification.id == verification.id
        ).execute()
    return officer


def start_mobile_change(officer: Officer, password: str, new_mobile, identity: IdentityAdapter, ip: str = ""):
    """The officer asks to move the recovery channel: the password again, Shahkar for the
    new number, then a code to it. Nothing changes until the code is confirmed."""
    mobile = normalize_mobile(new_mobile)
    if not mobile:
        raise DomainError(N_("Enter a mobile number like 09121234567."), field="mobile", code="invalid")
    if mobile == officer.mobile:
        raise DomainError(N_("This is already your mobile number."), field="mobile", code="unchanged")
    # Counted before the password is checked: a stolen session gets 3 guesses an hour here.
    _enforce(MOBILE_CHANGE_LIMITS, {"officer": str(officer.id), "mobile": mobile}, ip)
    if not officer.check_password(password or ""):
        audit(officer.as_actor(ip=ip), "mobile_change_bad_password", officer)
        raise DomainError(N_("The current password is not correct."), field="current_password")
    identity.check_mobile(officer.national_code, mobile)
    verification = _send_code(
        dict(
            purpose=MOBILE_CHANGE, officer=officer.id, national_code=officer.national_code, mobile=mobile, ip=ip or ""
        ),
        N_("Your code to confirm this number as your mobile: %(code)s. It is valid for 10 minutes."),
    )
    audit(officer.as_actor(ip=ip), "mobile_change_code_sent", officer)
    return verification


def confirm_mobile_change(officer: Officer, token: str, code: str, ip: str = "") -> str:
    """The code typed back: the new mobile takes effect and the old one is told."""
    verification = _check_code(token, MOBILE_CHANGE, code, ip, officer=officer)
    old = officer.mobile
    with db.atomic():
        _mark_confirmed(verification)
        set_mobile(officer, verification.mobile, officer.as_actor(ip=ip), "mobile_changed")
    return old


MOBILE_CHANGED = N_(
    "The mobile number of your technical officer account was changed. If you did not ask for this, call the directorate."  # noqa: E501  (one message id)
)


# Shahkar questions a logged-in officer's filings may ask (edit requests carrying a mobile).
MOBILE_CHECKS_PER_HOUR = 10


def check_officers_new_mobile(officer: Officer, mobile: str, identity: IdentityAdapter) -> None:
    """Shahkar must give ``mobile`` to the officer's national code, as at registration:
    IdentityRefused (the mobile marked) or IdentityUnavailable ("try again later") otherwise.
    At most :data:`MOBILE_CHECKS_PER_HOUR` questions an hour for one officer."""
    if ratelimit.hit(f"shahkar:officer:{officer.id}", 3600) > MOBILE_CHECKS_PER_HOUR:
        audit(officer.as_actor(), "mobile_check_throttled", officer)
        raise Throttled(
            N_("Too many mobile numbers were checked for this account. Try again in an hour."),
            field="mobile",
            code="throttled",
        )
    identity.check_mobile(officer.national_code, mobile)


def set_mobile(officer: Officer, mobile: str, actor, action: str, detail: str = "") -> None:
    """Change the mobile (inside the caller's transaction) and tell the old number."""
    old = officer.mobile
    Officer.update(mobile=mobile).where(Officer.id == officer.id).execute()
    officer.mobile = mobile
    queue_sms(old, MOBILE_CHANGED)
    # The changed field, not the numbers (I3): the audit log is read and exported by staff.
    audit(actor, action, officer, detail=detail or "mobile")


def purge_ended_verifications(now: _dt.datetime | None = None) -> int:
    """Delete verifications that ended more than a day ago (they hold a password hash and a
    typed form). Run hourly by ``flask tick`` (the job of the same name)."""
    cutoff = (now or utcnow()) - _dt.timedelta(days=1)
    return MobileVerification.delete().where(MobileVerification.expires_at < cutoff).execute()


register_job("purge_ended_verifications", purge_ended_verifications, every=_dt.timedelta(hours=1))
