"""What every reviewed request leaves behind: the lines of its history
(:class:`RequestEvent`, written by :func:`record_event` with its audit row) and its
documents (:class:`Document`, attached by :func:`record_document` under the upload
quotas). The review lifecycle (:mod:`models.review`) writes them; the pages read them
through the two compiled queries :data:`HISTORY` and :data:`CURRENT_DOCUMENTS`."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .accounts import Officer
from .audit import audit
from .base import N_, BaseModel, DomainError, db, utcnow
from .prepared import Prepared
from .reference import DocumentKind
from .uploads import replace_and_check
from .vocabulary import Action


class RequestEvent(BaseModel):
    """One line of a request's history: who did what, when, from which state to which."""

    request_type = CharField(max_length=20)
    request_id = IntegerField()
    action = CharField(max_length=30)
    from_status = CharField(max_length=20, default="")
    to_status = CharField(max_length=20, default="")
    actor_kind = CharField(max_length=12)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=120, default="")
    note = TextField(default="")
    # A standard reason code (rejections and deficiencies), counted by the dashboards.
    reason = CharField(max_length=30, default="")
    university_id = IntegerField(null=True, index=True)
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "request_event"
        indexes = ((("request_type", "request_id", "at"), False),)


# The ``request_type`` of a document the legacy import brought over (``documents.csv``):
# it belongs to no request (``request_id`` is the officer's id) and is in force from the start.
LEGACY_DOCUMENTS = "legacy"


class Document(BaseModel):
    """An uploaded file attached to a request (or brought over by the legacy import,
    :data:`LEGACY_DOCUMENTS`); replaced documents stay, marked superseded."""

    officer = ForeignKeyField(Officer, backref="documents", on_delete="RESTRICT", index=True)
    request_type = CharField(max_length=20)
    request_id = IntegerField()
    kind = ForeignKeyField(DocumentKind, on_delete="RESTRICT")
    storage_name = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    uploaded_at = DateTimeField(default=utcnow)
    superseded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("request_type", "request_id"), False),)


def record_document(request, kind_code: str, stored) -> Document:
    """Attach a stored file to a request as its document of a kind. The previous one of
    that kind is deleted if no reviewer saw it, else kept and marked superseded; quotas
    apply (:mod:`models.uploads`). ``document.removed_storage_names`` names the files
    whose rows went, for the caller to delete."""
    kind = DocumentKind.get_or_none(DocumentKind.code == kind_code)
    if kind is None:
        raise DomainError(N_("Unknown document kind."))
    with db.atomic():
        removed = replace_and_check(Document, request, kind, stored)
        document = Document.create(
            officer=request.officer_id,
            request_type=request.REQUEST_TYPE,
            request_id=request.id,
            kind=kind,
            storage_name=stored.storage_name,
            display_name=stored.display_name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
        )
    document.removed_storage_names = removed
    return document


def record_event(request, action, source, target, actor, note="", reason=""):
    """One line of the request's history, and its audit row. ``action`` must be one of
    the vocabulary's actions, so that every line of every history has a label."""
    action = Action(action)
    RequestEvent.create(
        request_type=request.REQUEST_TYPE,
        request_id=request.id,
        action=action.value,
        from_status=source,
        to_status=target,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=(actor.name or "")[:120],
        note=note,
        reason=reason or "",
        university_id=request.university_id,
    )
    audit(actor, f"{request.REQUEST_TYPE}_{action.value}", request, detail=note[:200], object_type=request.REQUEST_TYPE)


# Read on every request page: compiled once (see Prepared).
HISTORY = Prepared(
    lambda request_type, request_id: (
        RequestEvent.select()
        .where((RequestEvent.request_type == request_type) & (RequestEvent.request_id == request_id))
        .order_by(RequestEvent.at, RequestEvent.id)
    )
)
CURRENT_DOCUMENTS = Prepared(
    lambda request_type, request_id: (
        Document.select(Document, DocumentKind)
        .join(DocumentKind)
        .where(
            (Document.request_type == request_type)
            & (Document.request_id == request_id)
            & Document.superseded_at.is_null()
        )
        .order_by(DocumentKind.sort_order)
    )
)
