"""Machine-to-machine API clients: tokens issued by the directorate to a distributor, a
university or the directorate itself, stored hashed, scoped, revocable, rate-limited; and
the ``Idempotency-Key`` records that let a client repeat a POST safely.

A token authenticates to the same :class:`~models.base.Actor` the web knows for its holder
(a distributor's token acts as that distributor, a university's as a reviewer of that
university), so the API calls the same operations and visibility predicates as the pages.
Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import time

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, IntegerField, IntegrityError, TextField

from . import ratelimit
from .accounts import Distributor
from .audit import audit
from .base import N_, Actor, BaseModel, ConflictError, DomainError, PermissionDenied, db, utcnow
from .officer_rules import ValidationFailed
from .reference import University, find_university
from .tick import register_job

HOLDER_KINDS = ("distributor", "university", "directorate")

# What each scope lets a token do, and which holders may be given it.
SCOPES = {
    "branches:read": ("distributor",),
    "branches:write": ("distributor",),
    "nominations:write": ("distributor",),
    "cooperations:read": ("distributor",),
    "cooperations:write": ("distributor",),
    "requests:read": ("university", "directorate"),
    "officers:read": ("directorate",),
    "events:read": ("directorate",),
}
SCOPE_LABELS = {
    "branches:read": N_("Read the distributor's branches"),
    "branches:write": N_("Define the distributor's branches"),
    "nominations:write": N_("Nominate officers for branches"),
    "cooperations:read": N_("Read cooperations"),
    "cooperations:write": N_("Withdraw nominations"),
    "requests:read": N_("Read the cartable's requests"),
    "officers:read": N_("Read officers' records"),
    "events:read": N_("Read the event feed"),
}
TOKEN_PREFIX = "otr_"
DEFAULT_RATE_PER_MINUTE = 120
MINUTE = 60
# How long a stored answer to an Idempotency-Key is replayed.
IDEMPOTENCY_DAYS = 1

HOLDER_REQUIRED = N_("Name the holder: the distributor's user name or the university's name.")
NO_SUCH_DISTRIBUTOR = N_("No active distributor has this user name.")
NO_SUCH_UNIVERSITY = N_("No university has this name.")
NO_HOLDER_FOR_DIRECTORATE = N_("A token of the directorate has no holder; leave the field empty.")
UNKNOWN_HOLDER_KIND = N_("Choose the kind of holder.")
NAME_REQUIRED = N_("Give the token a name that says which system uses it.")
SCOPE_NOT_FOR_HOLDER = N_("This permission cannot be given to this kind of holder.")
NO_SCOPE = N_("Choose at least one permission.")
ONLY_DIRECTORATE = N_("Only the directorate issues and revokes API tokens.")
ALREADY_REVOKED = N_("This token was already revoked.")
THROTTLED = N_("Too many requests with this token. Wait a minute and try again.")
KEY_IN_PROGRESS = N_("A request with this Idempotency-Key is still being processed.")
KEY_REUSED = N_("This Idempotency-Key was used for a different request.")


class ApiThrottled(DomainError):
    """A token went past its requests per minute."""


class ApiClient(BaseModel):
    """One issued token. Only the SHA-256 of the token is kept (a token is 256 random
    bits, so a fast hash is enough; it cannot be guessed from the hash)."""

    name = CharField(max_length=120)
    holder_kind = CharField(max_length=12)
    distributor = ForeignKeyField(Distributor, null=True, backref="+", on_delete="RESTRICT", index=True)
    university = ForeignKeyField(University, null=True, backref="+", on_delete="RESTRICT", index=True)
    scopes = TextField(default="")  # space-separated
    token_hash = CharField(max_length=64, unique=True)
    token_hint = CharField(max_length=12, default="")  # the first characters, to tell tokens apart
    rate_per_minute = IntegerField(default=DEFAULT_RATE_PER_MINUTE)
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(max_length=120, default="")
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_client"

    def __str__(self):
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split() if scope]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def holder_name(self) -> str:
        if self.holder_kind == "distributor" and self.distributor_id:
            return self.distributor.username
        if self.holder_kind == "university" and self.university_id:
            return self.university.name
        return ""

    def as_actor(self, ip=None) -> Actor:
        """The actor the web knows for this token's holder."""
        extra = {"api_client": self.id}
        if self.holder_kind == "distributor":
            return Actor(kind="distributor", id=self.distributor_id, name=self.distributor.name, ip=ip, extra=extra)
        if self.holder_kind == "university":
            return Actor(
                kind="staff", role="university", university_id=self.university_id, name=self.name, ip=ip, extra=extra
            )
        return Actor(kind="staff", role="directorate", name=self.name, ip=ip, extra=extra)


class ApiIdempotency(BaseModel):
    """The answer given to one (client, Idempotency-Key): replayed when the same request
    comes again, refused for a different one. ``status`` 0 while the first is running."""

    client = ForeignKeyField(ApiClient, backref="+", on_delete="CASCADE")
    key = CharField(max_length=200)
    fingerprint = CharField(max_length=64)
    status = IntegerField(default=0)
    body = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "api_idempotency"
        indexes = ((("client", "key"), True),)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scopes_for(holder_kind: str) -> list[str]:
    """Every scope a holder of this kind may be given, in a stable order."""
    return [scope for scope, holders in SCOPES.items() if holder_kind in holders]


def _holder(holder_kind: str, holder: str) -> dict:
    holder = (holder or "").strip()
    if holder_kind not in HOLDER_KINDS:
        raise ValidationFailed({"holder_kind": (UNKNOWN_HOLDER_KIND, {})})
    if holder_kind == "directorate":
        if holder:
            raise ValidationFailed({"holder": (NO_HOLDER_FOR_DIRECTORATE, {})})
        return {}
    if not holder:
        raise ValidationFailed({"holder": (HOLDER_REQUIRED, {})})
    if holder_kind == "distributor":
        found = Distributor.get_or_none((Distributor.username == holder) & (Distributor.is_active == True))  # noqa: E712
        if found is None:
            raise ValidationFailed({"holder": (NO_SUCH_DISTRIBUTOR, {})})
        return {"distributor": found}
    university = find_university(holder)
    if university is None:
        raise ValidationFailed({"holder": (NO_SUCH_UNIVERSITY, {})})
    return {"university": university}


def issue_client(actor, name: str, holder_kind: str, holder: str, scopes=None, rate_per_minute=None):
    """Issue a token (the directorate only). Returns ``(client, token)``: the token in clear
    exists only in this return value; it is shown once and never stored."""
    if not actor.is_directorate:
        raise PermissionDenied(ONLY_DIRECTORATE)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": (NAME_REQUIRED, {})})
    holder_fields = _holder(holder_kind, holder)
    chosen = list(scopes) if scopes else scopes_for(holder_kind)
    if any(holder_kind not in SCOPES.get(scope, ()) for scope in chosen):
        raise ValidationFailed({"scopes": (SCOPE_NOT_FOR_HOLDER, {})})
    if not chosen:
        raise ValidationFailed({"scopes": (NO_SCOPE, {})})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.atomic():
        client = ApiClient.create(
            name=name[:120],
            holder_kind=holder_kind,
            scopes=" ".join(sorted(set(chosen))),
            token_hash=token_digest(token),
            token_hint=token[: len(TOKEN_PREFIX) + 4],
            rate_per_minute=rate_per_minute or DEFAULT_RATE_PER_MINUTE,
            created_by=actor.name[:120],
            **holder_fields,
        )
        audit(actor, "api_client_issued", client, detail=f"{holder_kind} {client.scopes}")
    return client, token


def revoke_client(client: ApiClient, actor) -> ApiClient:
    """The token stops working at once (the directorate only)."""
    if not actor.is_directorate:
        raise PermissionDenied(ONLY_DIRECTORATE)
    with db.atomic():
        changed = (
            ApiClient.update(revoked_at=utcnow())
            .where((ApiClient.id == client.id) & ApiClient.revoked_at.is_null())
            .execute()
        )
        if not changed:
            raise ConflictError(ALREADY_REVOKED)
        audit(actor, "api_client_revoked", client)
    return ApiClient.get_by_id(client.id)


def authenticate(token: str, now: _dt.datetime | None = None):
    """The client of a bearer token, or None (unknown, revoked, or its holder deactivated).
    Marks the last use (at most once a minute, to spare a write per call)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    client = (
        ApiClient.select(ApiClient, Distributor)
        .join(Distributor, join_type=JOIN.LEFT_OUTER, on=(ApiClient.distributor == Distributor.id))
        .where((ApiClient.token_hash == token_digest(token)) & ApiClient.revoked_at.is_null())
        .first()
    )
    if client is None or (client.holder_kind == "distributor" and not client.distributor.is_active):
        return None
    now = now or utcnow()
    if client.last_used_at is None or client.last_used_at < now - _dt.timedelta(minutes=1):
        ApiClient.update(last_used_at=now).where(ApiClient.id == client.id).execute()
        client.last_used_at = now
    return client


def count_request(client: ApiClient) -> int:
    """Count one call against the token's limit; past it, :class:`ApiThrottled` (with the
    seconds to wait in ``retry_after``)."""
    count = ratelimit.hit(f"api:client:{client.id}", MINUTE)
    if count > client.rate_per_minute:
        _, ends = ratelimit.current(f"api:client:{client.id}")
        raise ApiThrottled(THROTTLED, code="throttled", retry_after=max(1, int(ends - time.time())))
    return count


# ------------------------------------------------------------------ idempotency


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def reserve_key(client: ApiClient, key: str, print_: str):
    """Claim ``key`` for a new request; returns ``(record, None)`` to run it, or
    ``(None, record)`` with the stored answer to replay. Refuses (ConflictError) a key
    still running or used for a different request."""
    try:
        with db.atomic():
            return ApiIdempotency.create(client=client, key=key[:200], fingerprint=print_), None
    except IntegrityError:
        pass
    found = ApiIdempotency.get_or_none((ApiIdempotency.client == client.id) & (ApiIdempotency.key == key[:200]))
    if found is None:  # purged between the two statements: try once more
        return reserve_key(client, key, print_)
    if found.fingerprint != print_:
        raise ValidationFailed({"Idempotency-Key": (KEY_REUSED, {})})
    if not found.status:
        raise ConflictError(KEY_IN_PROGRESS)
    return None, found


def complete_key(record: ApiIdempotency, status: int, body: str) -> None:
    """Keep the answer (status and JSON text) of a request that ran, for replay."""
    ApiIdempotency.update(status=status, body=body).where(ApiIdempotency.id == record.id).execute()


def release_key(record: ApiIdempotency) -> None:
    """Forget a claim whose request failed on our side, so the client may try again."""
    ApiIdempotency.delete().where((ApiIdempotency.id == record.id) & (ApiIdempotency.status == 0)).execute()


def purge_idempotency(now: _dt.datetime) -> int:
    """Forget stored answers older than a day (tick's job)."""
    cutoff = now - _dt.timedelta(days=IDEMPOTENCY_DAYS)
    return ApiIdempotency.delete().where(ApiIdempotency.created_at < cutoff).execute()


register_job("api_idempotency_purge", purge_idempotency, every=_dt.timedelta(hours=1))
