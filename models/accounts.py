"""Accounts of the four kinds of user, passwords, login sessions and the audit log."""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from persian import age_on, normalize_text

from .base import N_, BaseModel, DomainError, Prepared, db, translate, utcnow
from .reference import City, DegreeLevel, FieldOfStudy, Province, University, route, split_city_ids

# argon2id with OWASP's first recommended profile (m=19 MiB, t=2, p=1): strong, and
# cheap enough that a login burst does not exhaust a two-core server's memory.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
LEGACY_PREFIX = "legacy-aspnet-sha1$"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (Django's list, BSD licence), lower-cased."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def password_problem(password: str) -> str | None:
    """Why a new password is refused, as a message id, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("The password must be at least 8 characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("The password must be at most 128 characters long.")
    if password.lower() in common_passwords() or len(set(password)) < 3:
        return N_("This password is too common; choose one that is harder to guess.")
    return None


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def aspnet_membership_hash(password: str, salt_b64: str) -> str:
    """ASP.NET Membership 'Hashed' format: base64(SHA-1(salt bytes + UTF-16LE password))."""
    digest = hashlib.sha1(base64.b64decode(salt_b64) + password.encode("utf-16-le")).digest()
    return base64.b64encode(digest).decode("ascii")


def wrap_legacy_hash(legacy_hash_b64: str, salt_b64: str) -> str:
    """Store a legacy SHA-1 hash only inside argon2id, so no bare SHA-1 stays in the database."""
    return LEGACY_PREFIX + salt_b64 + "$" + PASSWORD_HASHER.hash(legacy_hash_b64)


def verify_password(stored: str, password: str) -> tuple[bool, str | None]:
    """Check a password; return (ok, new_hash) where new_hash replaces a legacy or stale hash."""
    if not stored or not password:
        return False, None
    if stored.startswith(LEGACY_PREFIX):
        salt_b64, _, wrapped = stored[len(LEGACY_PREFIX) :].partition("$")
        try:
            candidate = aspnet_membership_hash(password, salt_b64)
            PASSWORD_HASHER.verify(wrapped, candidate)
        except (VerificationError, InvalidHashError, ValueError):
            return False, None
        return True, hash_password(password)
    try:
        PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (hash_password(password) if PASSWORD_HASHER.check_needs_rehash(stored) else None)


# A hash of a random password, verified when an account is unknown so that a
# missing user code takes as long to refuse as a wrong password.
_DUMMY_HASH = None


def burn_password_check(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    verify_password(_DUMMY_HASH, password or "x")


class AccountMixin:
    """Shared password handling for the three account tables."""

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        ok, new_hash = verify_password(self.password_hash, password)
        if ok and new_hash:
            type(self).update(password_hash=new_hash).where(type(self).id == self.id).execute()
            self.password_hash = new_hash
        return ok


GENDERS = ("male", "female")


class Officer(AccountMixin, BaseModel):
    """A technical officer (مسئول فنی)."""

    user_code = CharField(max_length=12, unique=True)
    national_code = CharField(max_length=10, unique=True)
    birth_date = DateField()
    first_name = CharField(max_length=60)
    last_name = CharField(max_length=80)
    father_name = CharField(max_length=60, default="")
    gender = CharField(max_length=6, default="")
    id_card_number = CharField(max_length=20, default="")
    mobile = CharField(max_length=11, index=True)
    phone = CharField(max_length=11, default="")
    email = CharField(max_length=254, default="")
    address = TextField(default="")
    postal_code = CharField(max_length=10, default="")
    province = ForeignKeyField(Province, on_delete="RESTRICT", index=True)
    city = ForeignKeyField(City, on_delete="RESTRICT", index=True)
    # The municipal district (منطقه) when the city is split between universities (Tehran).
    district = IntegerField(null=True)
    field_of_study = ForeignKeyField(FieldOfStudy, on_delete="RESTRICT", index=True)
    degree_level = ForeignKeyField(DegreeLevel, on_delete="RESTRICT", index=True)
    password_hash = CharField(max_length=255)
    is_active = BooleanField(default=True)
    # The university that holds the officer's file: set at the first approval,
    # moved by an approved change of city.
    university = ForeignKeyField(University, null=True, on_delete="RESTRICT", index=True)
    qualified_at = DateTimeField(null=True)
    qualification_number = CharField(max_length=20, null=True, unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    legacy = BooleanField(default=False)

    class Meta:
        indexes = ((("last_name", "first_name"), False),)

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.name_of(self.first_name, self.last_name)

    @staticmethod
    def name_of(first_name, last_name) -> str:
        """An officer's name as shown everywhere: first name, then last name."""
        return f"{first_name or ''} {last_name or ''}".strip()

    @property
    def is_qualified(self) -> bool:
        return self.qualified_at is not None

    def can_edit_reviewed_fields_directly(self) -> bool:
        """Name, field/degree and place are reviewed with the first request, then locked."""
        return self.qualified_at is None

    def reviewing_university(self):
        """The university whose cartable receives this officer's requests: the file's holder
        once there is one, else the university covering the officer's (city, district)."""
        if self.university_id:
            return self.university
        return route(self.city, self.district)

    def needs_district(self) -> bool:
        """An officer of a split city who has not told their district (the first release
        did not ask): asked for it at login."""
        return self.district is None and self.city_id in split_city_ids()

    def as_actor(self, ip=None):
        from .base import Actor

        return Actor(kind="officer", id=self.id, name=self.full_name, ip=ip)


class StaffUser(AccountMixin, BaseModel):
    """A back-office account: directorate staff or a university reviewer."""

    ROLES = ("directorate", "university")

    username = CharField(max_length=60, unique=True)
    full_name = CharField(max_length=120, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=20)
    university = ForeignKeyField(University, null=True, on_delete="RESTRICT", index=True)
    mobile = CharField(max_length=11, default="")
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "staff_user"

    def __str__(self):
        return self.full_name or self.username

    def as_actor(self, ip=None):
        from .base import Actor

        return Actor(kind="staff", id=self.id, role=self.role, university_id=self.university_id, name=str(self), ip=ip)


class Distributor(AccountMixin, BaseModel):
    """A medical-device distributor: a company (شرکت) or a guild member (صنف)."""

    KINDS = ("company", "guild")

    username = CharField(max_length=60, unique=True)
    password_hash = CharField(max_length=255)
    name = CharField(max_length=200)
    kind = CharField(max_length=10, default="company")
    national_id = CharField(max_length=20, default="")
    manager_name = CharField(max_length=120, default="")
    manager_mobile = CharField(max_length=11, default="")
    legacy_id = CharField(max_length=40, null=True, unique=True)
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    def __str__(self):
        return self.name

    def as_actor(self, ip=None):
        from .base import Actor

        return Actor(kind="distributor", id=self.id, name=self.name, ip=ip)


ACCOUNT_MODELS = {"officer": Officer, "staff": StaffUser, "distributor": Distributor}


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


def mask_national_code(code: str) -> str:
    """Enough to recognise a record in a log, not enough to identify a person."""
    return f"{code[:3]}****{code[-3:]}" if code and len(code) >= 6 else "***"


class AuditLog(BaseModel):
    """Logins, failures, denials, decisions and data changes; read by the directorate."""

    at = DateTimeField(default=utcnow, index=True)
    actor_kind = CharField(max_length=12)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=120, default="")
    ip = CharField(max_length=45, default="")
    action = CharField(max_length=60, index=True)
    object_type = CharField(max_length=40, default="")
    object_id = IntegerField(null=True)
    detail = TextField(default="")

    class Meta:
        table_name = "audit_log"
        indexes = ((("object_type", "object_id"), False),)


def _one_line(text: str) -> str:
    # A log line must not be forged by a CR/LF inside a user-supplied value.
    return str(text).replace("\r", " ").replace("\n", " ")[:1000]


def audit(actor, action: str, obj=None, detail: str = "", object_type: str = "", object_id=None):
    """Write one audit row; inside the caller's transaction when there is one."""
    return AuditLog.create(
        actor_kind=getattr(actor, "kind", "system"),
        actor_id=getattr(actor, "id", None),
        actor_name=_one_line(getattr(actor, "name", ""))[:120],
        ip=getattr(actor, "ip", None) or "",
        action=action,
        object_type=object_type or (type(obj).__name__.lower() if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=_one_line(detail),
    )


def change_password(account, current: str, new: str, keep_token: str | None = None) -> None:
    """Change a password after checking the current one; other sessions end."""
    if not account.check_password(current):
        raise DomainError(N_("The current password is not correct."), field="current_password")
    problem = password_problem(new)
    if problem:
        raise DomainError(problem, field="new_password")
    kind = {Officer: "officer", StaffUser: "staff", Distributor: "distributor"}[type(account)]
    with db.atomic():
        account.set_password(new)
        type(account).update(password_hash=account.password_hash).where(type(account).id == account.id).execute()
        end_all_sessions(kind, account.id, keep_token=keep_token)
        audit(account.as_actor(), "password_changed", account)


def new_user_code() -> str:
    """An 8-digit user code that is hard to guess (codes are never deleted, so never reused)."""
    return str(secrets.randbelow(90_000_000) + 10_000_000)


def create_staff(username: str, password: str, role: str, university=None, full_name: str = ""):
    if role not in StaffUser.ROLES:
        raise DomainError(N_("Unknown role."), field="role")
    if role == "university" and university is None:
        raise DomainError(N_("A university reviewer must belong to a university."), field="university")
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password")
    staff = StaffUser(
        username=username.strip(),
        role=role,
        full_name=normalize_text(full_name),
        university=university if role == "university" else None,
    )
    staff.set_password(password)
    try:
        with db.atomic():
            staff.save()
    except IntegrityError:
        raise DomainError(N_("This user name is taken."), field="username") from None
    return staff


def create_distributor(username, password, name, kind, manager_mobile, manager_name="", national_id=""):
    from persian import normalize_mobile

    if kind not in Distributor.KINDS:
        raise DomainError(N_("The kind must be company or guild."), field="kind")
    mobile = normalize_mobile(manager_mobile)
    if not mobile:
        raise DomainError(N_("Enter a mobile number like 09121234567."), field="manager_mobile")
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password")
    distributor = Distributor(
        username=username.strip(),
        name=normalize_text(name),
        kind=kind,
        manager_mobile=mobile,
        manager_name=normalize_text(manager_name),
        national_id=national_id,
    )
    distributor.set_password(password)
    try:
        with db.atomic():
            distributor.save()
    except IntegrityError:
        raise DomainError(N_("This user name is taken."), field="username") from None
    return distributor


def is_adult(birth_date, today, minimum_age: int = 18) -> bool:
    return age_on(birth_date, today) >= minimum_age


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
    from .officer_rules import find_officer_for_login

    key = f"{kind}:{(username or '').strip().lower()}"[:80]
    if login_blocked(key, ip):
        audit(SYSTEM_ACTOR(ip), "login_throttled", detail=key.split(":")[0], object_type=kind)
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
        audit(SYSTEM_ACTOR(ip), "login_failed", object_type=kind, object_id=account.id if account is not None else None)
        raise DomainError(N_("The user name or the password is not correct."))
    clear_login_failures(key)
    audit(account.as_actor(ip=ip), "login", account)
    return account


class LoginThrottled(DomainError):
    pass


def SYSTEM_ACTOR(ip=""):
    from .base import Actor

    return Actor(kind="system", name="anonymous", ip=ip)


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
    from .notices import queue_sms
    from .officer_rules import find_officer_for_login

    officer = find_officer_for_login(username)
    if officer is None or not officer.is_active:
        audit(SYSTEM_ACTOR(ip), "password_reset_unknown", object_type="officer")
        return
    recent = (
        PasswordReset.select()
        .where((PasswordReset.officer == officer.id) & (PasswordReset.created_at > utcnow() - _dt.timedelta(hours=1)))
        .count()
    )
    if recent >= RESETS_PER_HOUR:
        audit(SYSTEM_ACTOR(ip), "password_reset_throttled", officer)
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
        audit(SYSTEM_ACTOR(ip), "password_reset_requested", officer)


def reset_password(username: str, code: str, new_password: str, ip: str = "") -> None:
    """Check a one-time code (short expiry, limited attempts, single use) and set the password."""
    from persian import to_ascii_digits

    from .officer_rules import find_officer_for_login

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
        audit(SYSTEM_ACTOR(ip), "password_reset_failed", officer)
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
        end_all_sessions("officer", officer.id)
        clear_login_failures(f"officer:{(username or '').strip().lower()}"[:80])
        audit(SYSTEM_ACTOR(ip), "password_reset_done", officer)
