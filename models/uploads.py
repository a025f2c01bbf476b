"""Limits on what an officer may store (finding M4): a draft's replaced file is deleted,
not kept for ever; a request and an officer have byte quotas; uploads are counted per
day. Imports no Flask; the doors delete the files of the rows removed here."""

from __future__ import annotations

from peewee import fn

from . import ratelimit
from .base import N_, DomainError, utcnow

MAX_REQUEST_BYTES = 25 * 1024 * 1024
MAX_OFFICER_BYTES = 100 * 1024 * 1024
UPLOADS_PER_DAY = 60
DAY = 24 * 3600


def replace_and_check(document_model, request, kind, stored) -> list[str]:
    """Before a new document of ``kind`` is recorded on ``request``: delete the current one
    if no reviewer has seen it (uploaded since the last submission), mark it superseded
    otherwise, and refuse the new file past a quota. Returns the storage names whose rows
    were deleted (the caller removes the files once the transaction has committed)."""
    same_kind = (
        (document_model.request_type == request.REQUEST_TYPE)
        & (document_model.request_id == request.id)
        & (document_model.kind == kind)
        & document_model.superseded_at.is_null()
    )
    seen_since = getattr(request, "last_submitted_at", None)
    unseen = same_kind if seen_since is None else same_kind & (document_model.uploaded_at > seen_since)
    removed = [name for (name,) in document_model.select(document_model.storage_name).where(unseen).tuples()]
    if removed:
        document_model.delete().where(document_model.storage_name.in_(removed)).execute()
    document_model.update(superseded_at=utcnow()).where(same_kind).execute()
    _check_quotas(document_model, request, stored)
    return removed


def _check_quotas(document_model, request, stored) -> None:
    on_request = (
        document_model.select(fn.COALESCE(fn.SUM(document_model.size), 0))
        .where(
            (document_model.request_type == request.REQUEST_TYPE)
            & (document_model.request_id == request.id)
            & document_model.superseded_at.is_null()
        )
        .scalar()
    )
    if on_request + stored.size > MAX_REQUEST_BYTES:
        raise DomainError(
            N_("The documents of one request may take at most %(mb)d MB."),
            code="request_quota",
            mb=MAX_REQUEST_BYTES // (1024 * 1024),
        )
    held = (
        document_model.select(fn.COALESCE(fn.SUM(document_model.size), 0))
        .where(document_model.officer == request.officer_id)
        .scalar()
    )
    if held + stored.size > MAX_OFFICER_BYTES:
        raise DomainError(
            N_("Your documents take %(mb)d MB, the most an account may hold. Ask the directorate for help."),
            code="officer_quota",
            mb=MAX_OFFICER_BYTES // (1024 * 1024),
        )
    if ratelimit.hit(f"uploads:officer:{request.officer_id}", DAY) > UPLOADS_PER_DAY:
        raise DomainError(
            N_("You have uploaded %(count)d files today, the most a day allows. Try again tomorrow."),
            code="upload_rate",
            count=UPLOADS_PER_DAY,
        )
