"""The documents of reviewed requests: uploaded files attached to a request, the ones in
force, and recording a new one (the previous one of its kind replaced or superseded).
Below :mod:`models.review`, which every reviewed type's request reads them through.
Imports no Flask."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from .accounts import Officer
from .base import N_, BaseModel, DomainError, db, utcnow
from .prepared import Prepared
from .reference import DocumentKind
from .uploads import replace_and_check


class Document(BaseModel):
    """An uploaded file attached to a request; replaced documents stay, marked superseded."""

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


# Read on every request page: compiled once (see Prepared).
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
