"""Signing in: server-side sessions, login throttling, password change and reset (by SMS,
for officers and distributors).

The accounts themselves (and password hashing) are :mod:`models.accounts`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, IntegerField, fn

from persian import normalize_national_code, normalize_text, to_ascii_digits

from . import ratelimit
from .accounts import (
    ACCOUNT_MODELS,
    Distributor,
    Officer,
    burn_password_check,
    hash_password,
    kind_of,
    password_problem,
)
from .audit import audit
from .base import N_, BaseModel, DomainError, anonymous_actor, db, utcnow
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


def change_password(
    account, current: str, new: str, keep_token: str | None = None, confirm: str | None = None, ip: str = ""
) -> None:
    """Change a password after checking the current one; other sessions end. Every
    mistake is reported at once (a ``ValidationFailed`` naming ``current_password``,
    ``new_password`` and, when ``confirm`` is given, ``new_password_confirm``).

    A wrong current password counts as a failed login of the account, so a stolen
    session cannot try passwords faster than the login page allows."""
    kind = kind_of(account)
    key = throttle_key(kind, account)
    if login_blocked(key, ip):
        _audit_throttled_once(kind, key, ip, account)
        raise _throttled(field="current_password")
    errors = {}
    if not account.check_password(current):
        record_login_failure(key, ip)
        audit(account.as_actor(ip=ip), "password_change_failed", account)
        errors["current_password"] = (
            (N_("The current password is not correct."), {}) if current else (N_("Enter your current password."), {})
        )
    problem = password_problem(new)
    if problem:
        errors["new_password"] = (problem, {})
    if confirm is not None and confirm != new:
        errors["new_password_confirm"] = (N_("The two passwords are not the same."), {})
    if errors:
        raise ValidationFailed(errors)
    with db.atomic():
        account.set_password(new)
        type(account).update(password_hash=account.password_hash).where(type(account).id == account.id).execute()
        password_changed(account)
        end_all_sessions(kind, account.id, keep_token=keep_token)
        clear_login_failures(key)
        queue_sms(mobile_of(account), PASSWORD_CHANGED)
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
# Failures an account may have in FAILURE_MEMORY before each further attempt waits.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30
FAILURE_MEMORY = _dt.timedelta(hours=1)
# The wait after the 5th failure; it doubles with each further failure, up to the cap.
FIRST_DELAY = _dt.timedelta(seconds=30)
MAX_DELAY = _dt.timedelta(minutes=15)
_LOGIN_SEPARATORS = str.maketrans("", "", " -_./\u200c")


def normalised_login_name(kind: str, username: str) -> str:
    """What a typed user name means once spelling is set aside: for an officer, ASCII
    digits without separators, a national code padded to 10 digits; otherwise lower case."""
    if kind != "officer":
        return (username or "").strip().lower()
    value = to_ascii_digits(normalize_text(username or "")).translate(_LOGIN_SEPARATORS).lower()
    return normalize_national_code(value) if value.isascii() and value.isdigit() else value


def throttle_key(kind: str, account=None, username: str = "") -> str:
    """The key failures are counted under: the account once it is known, so that every
    spelling that logs in to it shares one counter; else the normalised name typed."""
    if account is not None:
        return f"{kind}#{account.id}"
    return f"{kind}:{normalised_login_name(kind, username)}"[:80]


def account_delay(failures: int) -> _dt.timedelta:
    """How long an account waits after its last failure, given its recent failures:
    nothing up to the 5th, then 30 s doubling each time, never more than 15 minutes.
    A delay rather than a hard block, so that a stranger cannot keep staff out for long."""
    if failures < MAX_FAILURES_PER_ACCOUNT:
        return _dt.timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - MAX_FAILURES_PER_ACCOUNT, 16), MAX_DELAY)


def account_waiting(account_key: str, now=None) -> bool:
    """True while the account's progressive delay after its recent failures runs."""
    now = now or utcnow()
    count, last = (
        LoginFailure.select(fn.COUNT(LoginFailure.id), fn.MAX(LoginFailure.at))
        .where((LoginFailure.account_key == account_key) & (LoginFailure.at > now - FAILURE_MEMORY))
        .tuples()
        .first()
    )
    if not count or count < MAX_FAILURES_PER_ACCOUNT:
        return False
    if isinstance(last, str):  # SQLite hands back an aggregate's datetime as text
        last = _dt.datetime.fromisoformat(last)
    if last.tzinfo is None and now.tzinfo is not None:
        last = last.replace(tzinfo=now.tzinfo)
    return now < last + account_delay(count)


def address_blocked(ip: str) -> bool:
    """Too many failures from one address in the window, whatever the account."""
    if not ip:
        return False
    since = utcnow() - LOGIN_WINDOW
    return LoginFailure.select().where((LoginFailure.at > since) & (LoginFailure.ip == ip)).count() >= (
        MAX_FAILURES_PER_ADDRESS
    )


def login_blocked(account_key: str, ip: str, known_device: bool = False) -> bool:
    """Too many recent failures from this address, or for this account (unless the
    attempt comes from a device that logged in to this account before)."""
    if address_blocked(ip):
        return True
    return not known_device and account_waiting(account_key)


def record_login_failure(account_key: str, ip: str) -> None:
    LoginFailure.create(account_key=account_key[:80], ip=ip or "")


def clear_login_failures(account_key: str) -> None:
    LoginFailure.delete().where(LoginFailure.account_key == account_key).execute()


def _audit_throttled_once(kind: str, account_key: str, ip: str, account=None) -> None:
    # One audit row per account (or address) and window, not one per refused attempt:
    # otherwise an anonymous loop writes the audit table at request speed.
    if ratelimit.hit(f"audit:login_throttled:{account_key}:{ip}", LOGIN_WINDOW.total_seconds()) == 1:
        audit(
            anonymous_actor(ip),
            "login_throttled",
            detail=kind,
            object_type=kind,
            object_id=account.id if account is not None else None,
        )


THROTTLED_MESSAGE = N_("Too many failed attempts. Wait a few minutes and try again.")


def _throttled(field: str | None = None) -> LoginThrottled:
    return LoginThrottled(THROTTLED_MESSAGE, field=field)


def find_login_account(kind: str, username: str):
    """The account a login names: an officer by user code or national code in any
    spelling, staff and distributors by their exact user name."""
    if kind == "officer":
        return find_officer_for_login(username)
    model = ACCOUNT_MODELS[kind]
    return model.get_or_none(model.username == (username or "").strip())


def authenticate(kind: str, username: str, password: str, ip: str = "", known_device=None):
    """Check a login; return the account or raise DomainError with a message that does
    not tell whether the user name exists.

    ``known_device(account)`` says whether this browser logged in to that account
    before; such a device is not held back by the account's delay (the address limit
    still applies)."""
    account = find_login_account(kind, username)
    key = throttle_key(kind, account, username)
    trusted = bool(account is not None and known_device is not None and known_device(account))
    if login_blocked(key, ip, known_device=trusted):
        _audit_throttled_once(kind, key, ip, account)
        raise _throttled()
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


DEVICE_COOKIE = "device"


# What a device key is derived for: a MAC made with it is never also a signature of
# something else made with the same SECRET_KEY (sessions, CSRF tokens).
_DEVICE_KEY_PURPOSE = b"officer-registry/device-token/v1"


def device_keys(secret: str, fallbacks=()) -> list[bytes]:
    """The keys of device tokens: derived from ``SECRET_KEY`` (which signs new tokens)
    and from each of Flask's ``SECRET_KEY_FALLBACKS`` (which still verify old ones), so
    that rotating the key does not forget every device at once."""
    return [hmac.new(s.encode(), _DEVICE_KEY_PURPOSE, hashlib.sha256).digest() for s in (secret, *fallbacks) if s]


def device_token(keys, kind: str, account) -> str:
    """A value a browser keeps after logging in, proving it did so for this account,
    signed with the first of ``keys``. It names the password it logged in with, so a
    password change forgets every device."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_device_mac(keys[0], kind, account, nonce)}"


def device_is_known(keys, tokens, kind: str, account) -> bool:
    """True if one of the browser's device tokens was issued for this account under one
    of ``keys``."""
    for token in tokens:
        nonce, _, mac = (token or "").partition(".")
        if nonce and mac and any(hmac.compare_digest(mac, _device_mac(k, kind, account, nonce)) for k in keys):
            return True
    return False


def _device_mac(key: bytes, kind: str, account, nonce: str) -> str:
    message = f"{kind}:{account.id}:{account.password_hash}:{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


class PasswordReset(BaseModel):
    """A one-time code sent by SMS to an account's mobile: an officer's registered mobile,
    or a distributor's manager's. Exactly one of ``officer`` and ``distributor`` is set."""

    officer = ForeignKeyField(Officer, null=True, on_delete="RESTRICT", index=True)
    distributor = ForeignKeyField(Distributor, null=True, on_delete="RESTRICT", index=True)
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "password_reset"

    def account(self):
        """The officer or distributor the code was sent to."""
        return self.officer if self.officer_id is not None else self.distributor


# The kinds of account that recover a password by SMS, and the column naming each one's codes.
RESET_OWNERS = {"officer": PasswordReset.officer, "distributor": PasswordReset.distributor}

RESET_CODE_LIFETIME = _dt.timedelta(minutes=10)
RESET_MAX_ATTEMPTS = 5
RESETS_PER_HOUR = 3


def _code_digest(kind: str, account_id: int, code: str) -> str:
    return hashlib.sha256(f"{kind}#{account_id}:{code}".encode()).hexdigest()


def request_password_reset(username: str, ip: str = "", kind: str = "officer") -> None:
    """Send a one-time code to the account's mobile (an officer names itself by user code or
    national code, a distributor by its user name; the code goes to the manager's mobile).

    Says nothing about whether the account exists; at most three codes an hour."""
    owner = RESET_OWNERS[kind]
    account = find_login_account(kind, username)
    if account is None or not account.is_active:
        audit(anonymous_actor(ip), "password_reset_unknown", object_type=kind)
        return
    if not mobile_of(account):  # migrated without a mobile: nowhere to send a code
        audit(anonymous_actor(ip), "password_reset_no_mobile", account)
        return
    recent = (
        PasswordReset.select()
        .where((owner == account.id) & (PasswordReset.created_at > utcnow() - _dt.timedelta(hours=1)))
        .count()
    )
    if recent >= RESETS_PER_HOUR:
        audit(anonymous_actor(ip), "password_reset_throttled", account)
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    with db.atomic():
        # A new code replaces any earlier one.
        PasswordReset.update(used_at=utcnow()).where((owner == account.id) & PasswordReset.used_at.is_null()).execute()
        PasswordReset.create(
            **{kind: account},
            code_hash=_code_digest(kind, account.id, code),
            expires_at=utcnow() + RESET_CODE_LIFETIME,
        )
        queue_sms(
            mobile_of(account), N_("Your password recovery code: %(code)s. It is valid for 10 minutes."), code=code
        )
        audit(anonymous_actor(ip), "password_reset_requested", account)


def reset_password(username: str, code: str, new_password: str, ip: str = "", kind: str = "officer") -> None:
    """Check a one-time code (short expiry, limited attempts, single use) and set the password
    of the account (``kind`` as for :func:`request_password_reset`)."""
    failure = DomainError(N_("The code is not valid or has expired. Request a new code."), field="code")
    owner = RESET_OWNERS[kind]
    account = find_login_account(kind, username)
    reset = None
    if account is not None and account.is_active:
        reset = (
            PasswordReset.select()
            .where((owner == account.id) & PasswordReset.used_at.is_null() & (PasswordReset.expires_at > utcnow()))
            .order_by(PasswordReset.id.desc())
            .first()
        )
    if reset is None:
        raise failure
    # Take one attempt in the same statement that checks the limit, so parallel guesses
    # cannot all read "4 attempts" and each compare a code.
    taken = (
        PasswordReset.update(attempts=PasswordReset.attempts + 1)
        .where((PasswordReset.id == reset.id) & (PasswordReset.attempts < RESET_MAX_ATTEMPTS))
        .execute()
    )
    if taken != 1:
        raise failure
    typed = to_ascii_digits((code or "").strip())
    if not hmac.compare_digest(_code_digest(kind, account.id, typed), reset.code_hash):
        audit(anonymous_actor(ip), "password_reset_failed", account)
        raise failure
    problem = password_problem(new_password)
    if problem:
        raise DomainError(problem, field="new_password")
    model = type(account)
    with db.atomic():
        used = (
            PasswordReset.update(used_at=utcnow())
            .where((PasswordReset.id == reset.id) & PasswordReset.used_at.is_null())
            .execute()
        )
        if used != 1:
            raise failure
        model.update(password_hash=hash_password(new_password)).where(model.id == account.id).execute()
        password_changed(account)
        end_all_sessions(kind, account.id)
        queue_sms(mobile_of(account), PASSWORD_CHANGED)
        clear_login_failures(throttle_key(kind, account))
        audit(anonymous_actor(ip), "password_reset_done", account)
