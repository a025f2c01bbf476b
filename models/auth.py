"""Signing in: server-side sessions, login throttling, password change and reset.

The accounts themselves (and password hashing) are :mod:`models.accounts`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, IntegerField

from persian import normalize_national_code, normalize_text, to_ascii_digits

from .accounts import ACCOUNT_MODELS, Officer, burn_password_check, hash_password, kind_of, password_problem
from .audit import audit
from .base import N_, BaseModel, DomainError, anonymous_actor, db, translate, utcnow
from .notices import queue_sms
from .officer_rules import ValidationFailed
from .prepared import Prepared
from .profile_completion import note_login_password, password_changed


class LoginThrottled(DomainError):
    """Too many failed logins for an account or from an address."""


def find_officer_for_login(username: str):
    """An officer by user code or national code (Persian digits accepted)."""
    value = to_ascii_digits(normalize_text(username)).replace(" ", "")
    if not value:
        return None
    query = Officer.select().where(
        (Officer.user_code == value) | (Officer.national_code == normalize_national_code(value))
    )
    return query.first()


class LoginSession(BaseModel):
    """A server-side session: logout, a password change or a disabled account end it,
    so a copied cookie stops working."""

    token = CharField(max_length=64, unique=True)
    account_kind = CharField(max_length=12)
    account_id = IntegerField()
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    ip = CharField(max_length=45, default="")

    class Meta:
        table_name = "login_session"
        indexes = ((("account_kind", "account_id"), False),)


def start_session(account_kind: str, account_id: int, ip: str = "") -> str:
    token = secrets.token_urlsafe(32)
    LoginSession.create(token=token, account_kind=account_kind, account_id=account_id, ip=ip or "")
    return token


def _session_with_account(token):
    # The session and its account in one statement: the account table is the one its
    # kind names, each LEFT JOINed under "<kind>_account" (the others come back empty).
    query = LoginSession.select(LoginSession, *ACCOUNT_MODELS.values())
    for kind, model in ACCOUNT_MODELS.items():
        query = query.join(
            model,
            JOIN.LEFT_OUTER,
            attr=f"{kind}_account",
            on=((LoginSession.account_kind == kind) & (LoginSession.account_id == model.id)),
        )
        query = query.switch(LoginSession)
    return query.where(LoginSession.token == token).limit(1)


SESSION_WITH_ACCOUNT = Prepared(_session_with_account)


def load_session(token: str, idle: _dt.timedelta, absolute: _dt.timedelta):
    """The account behind a live session token, or None (and the session is ended)."""
    if not token:
        return None
    session = SESSION_WITH_ACCOUNT.first(token)
    if session is None or session.ended_at is not None:
        return None
    now = utcnow()
    if now - session.last_seen_at > idle or now - session.created_at > absolute:
        end_session(token)
        return None
    account = (
        getattr(session, f"{session.account_kind}_account", None) if session.account_kind in ACCOUNT_MODELS else None
    )
    if account is None or not account.is_active:
        end_session(token)
        return None
    # Touch at most once a minute so reading pages does not write on every request.
    if now - session.last_seen_at > _dt.timedelta(minutes=1):
        LoginSession.update(last_seen_at=now).where(LoginSession.id == session.id).execute()
    return account


def end_session(token: str) -> None:
    LoginSession.update(ended_at=utcnow()).where(
        (LoginSession.token == token) & LoginSession.ended_at.is_null()
    ).execute()


def end_all_sessions(account_kind: str, account_id: int, keep_token: str | None = None) -> int:
    query = LoginSession.update(ended_at=utcnow()).where(
        (LoginSession.account_kind == account_kind)
        & (LoginSession.account_id == account_id)
        & LoginSession.ended_at.is_null()
    )
    if keep_token:
        query = query.where(LoginSession.token != keep_token)
    return query.execute()


def change_password(account, current: str, new: str, keep_token: str | None = None, confirm: str | None = None):
    """Change a password after checking the current one; other sessions end. Every
    mistake is reported at once (a ``ValidationFailed`` naming ``current_password``,
    ``new_password`` and, when ``confirm`` is given, ``new_password_confirm``)."""
    errors = {}
    if not account.check_password(current):
        errors["current_password"] = (N_("The current password is not correct."), {})
    problem = password_problem(new)
    if problem:
        errors["new_password"] = (problem, {})
    if confirm is not None and confirm != new:
        errors["new_password_confirm"] = (N_("The two passwords are not the same."), {})
    if errors:
        raise ValidationFailed(errors)
    kind = kind_of(account)
    with db.atomic():
        account.set_password(new)
        type(account).update(password_hash=account.password_hash).where(type(account).id == account.id).execute()
        password_changed(account)
        end_all_sessions(kind, account.id, keep_token=keep_token)
        queue_sms(mobile_of(account), translate(PASSWORD_CHANGED))
        audit(account.as_actor(), "password_changed", account)


# The owner hears of every password change, so a stolen session or code shows at once.
PASSWORD_CHANGED = N_(
    "The password of your account in the technical officers registry was changed. If it was not you, call the directorate."  # noqa: E501  (one message id)
)


def mobile_of(account) -> str:
    """Where an account's SMS go: the officer's mobile, the distributor's manager's; staff's own."""
    return getattr(account, "manager_mobile", None) or getattr(account, "mobile", "") or ""


class LoginFailure(BaseModel):
    """Failed logins, counted per account and per address across every worker process."""

    at = DateTimeField(default=utcnow)
    account_key = CharField(max_length=80)
    ip = CharField(max_length=45, default="")

    class Meta:
        table_name = "login_failure"
        indexes = ((("account_key", "at"), False), (("ip", "at"), False))


LOGIN_WINDOW = _dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30


def login_blocked(account_key: str, ip: str) -> bool:
    """Too many recent failures for this account or from this address."""
    since = utcnow() - LOGIN_WINDOW
    recent = LoginFailure.select().where(LoginFailure.at > since)
    if recent.where(LoginFailure.account_key == account_key).count() >= MAX_FAILURES_PER_ACCOUNT:
        return True
    return bool(ip) and recent.where(LoginFailure.ip == ip).count() >= MAX_FAILURES_PER_ADDRESS


def record_login_failure(account_key: str, ip: str) -> None:
    LoginFailure.create(account_key=account_key[:80], ip=ip or "")


def clear_login_failures(account_key: str) -> None:
    LoginFailure.delete().where(LoginFailure.account_key == account_key).execute()


def authenticate(kind: str, username: str, password: str, ip: str = ""):
    """Check a login; return the account or raise DomainError with a message that does
    not tell whether the user name exists."""
    key = f"{kind}:{(username or '').strip().lower()}"[:80]
    if login_blocked(key, ip):
        audit(anonymous_actor(ip), "login_throttled", detail=key.split(":")[0], object_type=kind)
        raise LoginThrottled(N_("Too many failed attempts. Wait 15 minutes and try again."))
    if kind == "officer":
        account = find_officer_for_login(username)
    else:
        model = ACCOUNT_MODELS[kind]
        account = model.get_or_none(model.username == (username or "").strip())
    if account is None:
        burn_password_check(password)
    if account is None or not account.check_password(password) or not account.is_active:
        record_login_failure(key, ip)
        audit(
            anonymous_actor(ip), "login_failed", object_type=kind, object_id=account.id if account is not None else None
        )
        raise DomainError(N_("The user name or the password is not correct."))
    clear_login_failures(key)
    if kind == "officer":
        note_login_password(account, password)
    audit(account.as_actor(ip=ip), "login", account)
    return account


class PasswordReset(BaseModel):
    """A one-time code sent by SMS to an officer's registered mobile."""

    officer = ForeignKeyField(Officer, on_delete="RESTRICT", index=True)
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "password_reset"


RESET_CODE_LIFETIME = _dt.timedelta(minutes=10)
RESET_MAX_ATTEMPTS = 5
RESETS_PER_HOUR = 3


def _code_digest(officer_id: int, code: str) -> str:
    return hashlib.sha256(f"{officer_id}:{code}".encode()).hexdigest()


def request_password_reset(username: str, ip: str = "") -> None:
    """Send a one-time code to the officer's registered mobile.

    Says nothing about whether the account exists; at most three codes an hour."""
    officer = find_officer_for_login(username)
    if officer is None or not officer.is_active:
        audit(anonymous_actor(ip), "password_reset_unknown", object_type="officer")
        return
    recent = (
        PasswordReset.select()
        .where((PasswordReset.officer == officer.id) & (PasswordReset.created_at > utcnow() - _dt.timedelta(hours=1)))
        .count()
    )
    if recent >= RESETS_PER_HOUR:
        audit(anonymous_actor(ip), "password_reset_throttled", officer)
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    with db.atomic():
        # A new code replaces any earlier one.
        PasswordReset.update(used_at=utcnow()).where(
            (PasswordReset.officer == officer.id) & PasswordReset.used_at.is_null()
        ).execute()
        PasswordReset.create(
            officer=officer, code_hash=_code_digest(officer.id, code), expires_at=utcnow() + RESET_CODE_LIFETIME
        )
        queue_sms(
            officer.mobile,
            translate(N_("Your password recovery code: %(code)s. It is valid for 10 minutes."), code=code),
        )
        audit(anonymous_actor(ip), "password_reset_requested", officer)


def reset_password(username: str, code: str, new_password: str, ip: str = "") -> None:
    """Check a one-time code (short expiry, limited attempts, single use) and set the password."""
    failure = DomainError(N_("The code is not valid or has expired. Request a new code."), field="code")
    officer = find_officer_for_login(username)
    reset = None
    if officer is not None:
        reset = (
            PasswordReset.select()
            .where(
                (PasswordReset.officer == officer.id)
                & PasswordReset.used_at.is_null()
                & (PasswordReset.expires_at > utcnow())
            )
            .order_by(PasswordReset.id.desc())
            .first()
        )
    if reset is None or reset.attempts >= RESET_MAX_ATTEMPTS:
        raise failure
    PasswordReset.update(attempts=PasswordReset.attempts + 1).where(PasswordReset.id == reset.id).execute()
    typed = to_ascii_digits((code or "").strip())
    if not hmac.compare_digest(_code_digest(officer.id, typed), reset.code_hash):
        audit(anonymous_actor(ip), "password_reset_failed", officer)
        raise failure
    problem = password_problem(new_password)
    if problem:
        raise DomainError(problem, field="new_password")
    with db.atomic():
        used = (
            PasswordReset.update(used_at=utcnow())
            .where((PasswordReset.id == reset.id) & PasswordReset.used_at.is_null())
            .execute()
        )
        if used != 1:
            raise failure
        Officer.update(password_hash=hash_password(new_password)).where(Officer.id == officer.id).execute()
        password_changed(officer)
        end_all_sessions("officer", officer.id)
        queue_sms(officer.mobile, translate(PASSWORD_CHANGED))
        clear_login_failures(f"officer:{(username or '').strip().lower()}"[:80])
        audit(anonymous_actor(ip), "password_reset_done", officer)
