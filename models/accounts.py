"""The three account tables (officers, staff, distributors) and their passwords.

Signing in, sessions, login throttling and password reset are :mod:`models.auth`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from persian import normalize_mobile, normalize_text

from .audit import audit
from .base import N_, Actor, BaseModel, DomainError, db, utcnow
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
    if not password:
        return N_("Enter a password.")
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


def wrap_legacy_hash(legacy_hash_b64: str, salt_b64: str, hasher: PasswordHasher | None = None) -> str:
    """Store a legacy SHA-1 hash only inside argon2id, so no bare SHA-1 stays in the database.

    ``hasher`` defaults to the production profile; the legacy import passes its own."""
    return LEGACY_PREFIX + salt_b64 + "$" + (hasher or PASSWORD_HASHER).hash(legacy_hash_b64)


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
    # Null only for a migrated officer whose old record lacked them (or named them in a way
    # the reference data does not know): the officer fills them in at the first login.
    province = ForeignKeyField(Province, null=True, on_delete="RESTRICT", index=True)
    city = ForeignKeyField(City, null=True, on_delete="RESTRICT", index=True)
    # The municipal district (منطقه) when the city is split between universities (Tehran).
    district = IntegerField(null=True)
    field_of_study = ForeignKeyField(FieldOfStudy, null=True, on_delete="RESTRICT", index=True)
    degree_level = ForeignKeyField(DegreeLevel, null=True, on_delete="RESTRICT", index=True)
    password_hash = CharField(max_length=255)
    is_active = BooleanField(default=True)
    # The university that holds the officer's file: set at the first approval,
    # moved by an approved change of city.
    university = ForeignKeyField(University, null=True, on_delete="RESTRICT", index=True)
    qualified_at = DateTimeField(null=True)
    qualification_number = CharField(max_length=20, null=True, unique=True)
    # Carried by the certificate's QR code: a scan of the real certificate, told apart
    # from someone trying numbers (L1).
    verification_token = CharField(max_length=32, null=True, unique=True)
    # "" while the qualification (if any) is in force; "suspended" or "revoked" by the
    # directorate (models/account_admin.py). qualified_at stays: the history is kept.
    qualification_hold = CharField(max_length=10, default="")
    created_at = DateTimeField(default=utcnow, index=True)
    legacy = BooleanField(default=False)
    # Migrated with fields today's forms would refuse: sent to /officer/profile/complete.
    profile_incomplete = BooleanField(default=False)
    # Logged in with a password today's rules refuse: must change it before anything else.
    must_change_password = BooleanField(default=False)
    # Migrated with an active contract but no qualification here: must file a request
    # before the directorate's deadline (``models.legacy_followup``).
    qualification_due = BooleanField(default=False, index=True)
    qualification_reminders = IntegerField(default=0)  # reminders sent so far
    # When a migrated officer confirmed what came over (``models.legacy_claim``); until
    # then the first login leads to the confirmation page.
    legacy_confirmed_at = DateTimeField(null=True)

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
        """Qualified once (by an approved request), whatever happened since."""
        return self.qualified_at is not None

    @property
    def qualification_in_force(self) -> bool:
        """Qualified, active, and neither suspended nor revoked: what /verify and a
        nomination ask."""
        return self.qualified_at is not None and not self.qualification_hold and bool(self.is_active)

    def can_edit_reviewed_fields_directly(self) -> bool:
        """Name, field/degree and place are reviewed with the first request, then locked."""
        return self.qualified_at is None

    def can_manage(self, actor) -> bool:
        """The officer themself: their requests, documents, cooperations and profile."""
        return actor.is_officer(self.id)

    def reviewing_university(self):
        """The university whose cartable receives this officer's requests: the file's holder
        once there is one, else the university covering the officer's (city, district)."""
        if self.university_id:
            return self.university
        return route(self.city, self.district) if self.city_id else None

    def needs_district(self) -> bool:
        """An officer of a split city who has not told their district (the first release
        did not ask): asked for it at login."""
        return self.district is None and self.city_id is not None and self.city_id in split_city_ids()

    def as_actor(self, ip=None):
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
        return Actor(kind="distributor", id=self.id, name=self.name, ip=ip)

    @property
    def needs_manager_mobile(self) -> bool:
        """Migrated without a manager mobile: asked for it before anything else (the SMS
        about the branches' officers go to it)."""
        return not self.manager_mobile


def give_manager_mobile(distributor, value: str, actor) -> str:
    """Record the manager mobile a migrated distributor lacked; the audit keeps who gave it.
    Only while it is missing: this is not a way to change a recorded one."""
    if not distributor.needs_manager_mobile:
        raise DomainError(N_("The manager's mobile is already recorded."), field="manager_mobile")
    mobile = normalize_mobile(value)
    if not mobile:
        raise DomainError(N_("Enter a mobile number like 09121234567."), field="manager_mobile")
    with db.atomic():
        Distributor.update(manager_mobile=mobile).where(
            (Distributor.id == distributor.id) & (Distributor.manager_mobile == "")
        ).execute()
        distributor.manager_mobile = mobile
        audit(actor, "manager_mobile_given", distributor, detail=mobile)
    return mobile


ACCOUNT_MODELS = {"officer": Officer, "staff": StaffUser, "distributor": Distributor}


def kind_of(account) -> str:
    """``officer``, ``staff`` or ``distributor``: the kind of an account row."""
    return {model: kind for kind, model in ACCOUNT_MODELS.items()}[type(account)]


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
