"""What the machine-to-machine API reads that the pages do not already offer: keyset
pages (a cursor, never an offset), the directorate's event feed, and an officer's record
by national code. Lists go through the same ``visible_to`` predicates and cartable tabs
as the pages. Imports no Flask.

The event feed is read from the audit log, which every operation writes in its own
transaction: each qualification and cooperation transition (``qualification_approve``,
``cooperation_withdraw``...), and the changes of an officer's account listed in
:data:`OFFICER_EVENTS`. The cursor is the audit row's id.
"""

from __future__ import annotations

from dataclasses import dataclass

from persian import is_valid_national_code, normalize_national_code

from . import cartable
from .accounts import Officer
from .audit import AuditLog
from .base import N_, PermissionDenied
from .cooperation import Branch, Cooperation, active_cooperation_of
from .qualification import QualificationRequest
from .reference import City, DegreeLevel, FieldOfStudy, Province
from .request_types import reviewed_type

MAX_PAGE = 200
DEFAULT_PAGE = 50
REQUEST_EVENT_TYPES = ("qualification", "cooperation")
OFFICER_EVENTS = (
    "officer_registered",
    "officer_deactivated",
    "officer_reactivated",
    "qualification_suspended",
    "qualification_revoked",
    "qualification_reinstated",
    "profile_changed",
    "district_set",
    "mobile_changed",
    "mobile_changed_by_directorate",
    "identity_correction_confirmed",
)
ONLY_DIRECTORATE = N_("Only the directorate may read this.")


@dataclass(frozen=True)
class Page:
    rows: list
    next_after: int | None  # the cursor of the next page, None on the last one


def page_size(value) -> int:
    """A page size asked for, kept within 1..MAX_PAGE (DEFAULT_PAGE when absent)."""
    return max(1, min(int(value or DEFAULT_PAGE), MAX_PAGE))


def keyset_page(query, id_field, after: int, limit) -> Page:
    """The rows of ``query`` after the id ``after``, in id order, one page of them."""
    limit = page_size(limit)
    rows = list(query.where(id_field > after).order_by(id_field.asc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more else None)


# ------------------------------------------------------------------ a distributor's lists


def _branches(actor):
    return Branch.visible_to(actor, Branch.select(Branch, Province, City).join(Province).switch(Branch).join(City))


def branches_page(actor, after: int = 0, limit=None) -> Page:
    """The actor's branches (``Branch.visible_to``), with their place."""
    return keyset_page(_branches(actor), Branch.id, after, limit)


def find_branch(actor, branch_id: int):
    """One of the actor's branches, with its place, or None (another distributor's: None)."""
    return _branches(actor).where(Branch.id == branch_id).first()


def cooperations_page(actor, after: int = 0, limit=None, status: str = "") -> Page:
    """The actor's cooperations (``Cooperation.visible_to``), with officer and branch."""
    query = Cooperation.visible_to(
        actor, Cooperation.select(Cooperation, Officer, Branch).join(Officer).switch(Cooperation).join(Branch)
    )
    if status:
        query = query.where(Cooperation.status == status)
    return keyset_page(query, Cooperation.id, after, limit)


# ------------------------------------------------------------------ the cartable


def requests_page(actor, request_type: str, status: str = "", after: int = 0, limit=None) -> Page:
    """The cartable's requests of ``request_type`` that ``actor`` may see (its "all" tab:
    the same rows as the back office's list), optionally of one status."""
    model = reviewed_type(request_type)
    query = cartable.tab_query(
        model, actor, "all", model.select(model, Officer).join(Officer, on=(model.officer == Officer.id))
    )
    if status:
        query = query.where(model.status == status)
    return keyset_page(query, model.id, after, limit)


def find_request(actor, request_type: str, request_id: int):
    """One request the actor may see in the cartable, or None (another holder's: None)."""
    model = reviewed_type(request_type)
    return cartable.tab_query(model, actor, "all").where(model.id == request_id).first()


# ------------------------------------------------------------------ the directorate


def _require_directorate(actor) -> None:
    if actor is None or not actor.is_directorate:
        raise PermissionDenied(ONLY_DIRECTORATE)


@dataclass(frozen=True)
class OfficerFile:
    officer: Officer
    cooperation: Cooperation | None  # the active one


def officer_by_national_code(actor, national_code: str) -> OfficerFile | None:
    """The officer and their active cooperation, for the directorate; None if unknown."""
    _require_directorate(actor)
    code = normalize_national_code(national_code or "")
    if not is_valid_national_code(code):
        return None
    officer = (
        Officer.select(Officer, FieldOfStudy, DegreeLevel, Province, City)
        .join(FieldOfStudy)
        .switch(Officer)
        .join(DegreeLevel)
        .switch(Officer)
        .join(Province)
        .switch(Officer)
        .join(City)
        .where(Officer.national_code == code)
        .first()
    )
    if officer is None:
        return None
    return OfficerFile(officer, active_cooperation_of(officer))


@dataclass(frozen=True)
class FeedEvent:
    id: int
    at: object
    type: str
    object_type: str
    object_id: int | None
    national_code: str


def _feed_clause():
    return AuditLog.object_type.in_(REQUEST_EVENT_TYPES) | (
        (AuditLog.object_type == "officer") & AuditLog.action.in_(OFFICER_EVENTS)
    )


def events_page(actor, after: int = 0, limit=None) -> Page:
    """The feed's events after the cursor ``after``, oldest first, each naming the
    officer concerned by national code (what other registries key on)."""
    _require_directorate(actor)
    page = keyset_page(AuditLog.select().where(_feed_clause()), AuditLog.id, after, limit)
    officer_of = _officers_of(page.rows)
    codes = {
        officer.id: officer.national_code
        for officer in Officer.select(Officer.id, Officer.national_code).where(
            Officer.id.in_(list(set(officer_of.values())) or [0])
        )
    }
    events = [
        FeedEvent(
            id=row.id,
            at=row.at,
            type=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            national_code=codes.get(officer_of.get((row.object_type, row.object_id)), ""),
        )
        for row in page.rows
    ]
    return Page(events, page.next_after)


def _officers_of(rows) -> dict:
    """``{(object type, object id): officer id}`` for the rows of a feed page."""
    found = {("officer", row.object_id): row.object_id for row in rows if row.object_type == "officer"}
    for model in (QualificationRequest, Cooperation):
        ids = {row.object_id for row in rows if row.object_type == model.REQUEST_TYPE and row.object_id}
        if ids:
            for request_id, officer_id in model.select(model.id, model.officer).where(model.id.in_(ids)).tuples():
                found[(model.REQUEST_TYPE, request_id)] = officer_id
    return found
