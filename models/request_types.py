"""The reviewed request types, declared once.

The back office registers a cartable for each, the dashboard counts each, an officer's
history lists each, and an officer's documents in force come from each that carries
documents, all by iterating :data:`REVIEWED_TYPES`. Adding a type means writing its
module (model, flow, hooks) and listing it here.
"""

from __future__ import annotations

from .cooperation import Cooperation
from .edit_requests import EditRequest
from .qualification import QualificationRequest
from .reference import DocumentKind
from .request_records import LEGACY_DOCUMENTS
from .review import Document
from .vocabulary import State

# In the order the back office shows them.
REVIEWED_TYPES = (QualificationRequest, Cooperation, EditRequest)

# The states in which some type's requests wait on a university (the clock runs).
WAITING_STATES = tuple(dict.fromkeys(state for model in REVIEWED_TYPES for state in model.FLOW.waiting_states))


def reviewed_type(code: str):
    """The type whose ``REQUEST_TYPE`` is ``code``; KeyError for any other."""
    return {model.REQUEST_TYPE: model for model in REVIEWED_TYPES}[code]


def officer_requests(officer) -> dict:
    """``{request type code: the officer's requests of that type, oldest first}``."""
    return {
        model.REQUEST_TYPE: list(model.select().where(model.officer == officer.id).order_by(model.created_at))
        for model in REVIEWED_TYPES
    }


def officer_documents(officer) -> dict:
    """The officer's documents in force: the latest of each kind from approved requests and
    from the old system (the legacy import's documents, reviewed there)."""
    approved = Document.request_type == LEGACY_DOCUMENTS
    for model in REVIEWED_TYPES:
        if not model.HAS_DOCUMENTS:
            continue
        ids = model.select(model.id).where((model.officer == officer.id) & (model.status == State.APPROVED))
        clause = (Document.request_type == model.REQUEST_TYPE) & Document.request_id.in_(ids)
        approved = approved | clause
    query = (
        Document.select(Document, DocumentKind)
        .join(DocumentKind)
        .where((Document.officer == officer.id) & Document.superseded_at.is_null() & approved)
        .order_by(Document.uploaded_at)
    )
    latest = {}
    for document in query:
        latest[document.kind.code] = document
    return latest
