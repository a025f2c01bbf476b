"""Who decides a request when its reviewer cannot: reassignment by the directorate (one
request or many), and the return to the pool of every request bound to a reviewer who
leaves (deactivated, or moved to another university).

The rule held here: **no open request is bound to an inactive account, or to a reviewer
of another university.** Deactivating or moving a reviewer returns their open requests
to their (old) university's pool, where any reviewer there may decide them, with a line
in each request's history, an audit row and a notice to that university's reviewers.
"""

from __future__ import annotations

from .accounts import StaffUser
from .audit import audit
from .auth import end_all_sessions
from .base import N_, ConflictError, DomainError, PermissionDenied, db, is_sqlite, translate
from .request_types import REVIEWED_TYPES, reviewed_type
from .review import CHANGED_MEANWHILE, record_event, same_reviewer
from .staff_notices import notify_university
from .vocabulary import Action

BULK_LIMIT = 500


def _locked(query):
    """The query locking its rows until the transaction ends: PostgreSQL's FOR UPDATE;
    SQLite's IMMEDIATE transactions already hold the one write lock."""
    return query if is_sqlite() else query.for_update()


def _check_reviewer(reviewer, university):
    if reviewer is None:
        return
    if reviewer.role != "university" or reviewer.university_id != university.id:
        raise DomainError(N_("The reviewer must belong to the chosen university."), field="reviewer")
    if not reviewer.is_active:
        raise DomainError(N_("This account is deactivated; choose an active reviewer."), field="reviewer")


def reassign(request, actor, university=None, reviewer=None, note: str = ""):
    """The directorate moves a pending request to another university and/or reviewer
    (``reviewer=None``: to the university's pool)."""
    if not actor.is_directorate:
        raise PermissionDenied(N_("Only the directorate can reassign requests."))
    if request.status not in request.FLOW.reassignable_states:
        raise ConflictError(N_("Only a request waiting for review can be reassigned."))
    university = university or request.university
    _check_reviewer(reviewer, university)
    model = type(request)
    with db.atomic():
        if reviewer is not None:
            # Locks the account's row: a deactivation running now waits, then finds this request.
            fresh = _locked(StaffUser.select().where(StaffUser.id == reviewer.id)).first()
            if fresh is None or not fresh.is_active:
                raise DomainError(N_("This account is deactivated; choose an active reviewer."), field="reviewer")
        # A new version: a review page opened before the move is out of date (issue 14).
        version = (request.version or 0) + 1
        updated = (
            model.update(university=university, reviewer=reviewer, version=version)
            .where((model.id == request.id) & (model.status == request.status) & same_reviewer(model, request))
            .execute()
        )
        if updated != 1:
            raise ConflictError(CHANGED_MEANWHILE)
        request.university, request.reviewer, request.version = university, reviewer, version
        detail = f"{university.name}" + (f" / {reviewer}" if reviewer else "")
        record_event(request, Action.REASSIGN, request.status, request.status, actor, (note + " " + detail).strip())
    return request


def bulk_reassign(request_type: str, ids, actor, university=None, reviewer=None, note: str = "") -> dict:
    """Reassign many requests of one type at once (to a reviewer, or to the pool):
    ``{"done": n, "skipped": [(id, message id), ...]}``. Each request moves in its own
    transaction, so one that changed meanwhile is skipped and reported, not fatal."""
    if not actor.is_directorate:
        raise PermissionDenied(N_("Only the directorate can reassign requests."))
    model = reviewed_type(request_type)
    ids = sorted({int(i) for i in ids})
    if not ids:
        raise DomainError(N_("Choose at least one request."))
    if len(ids) > BULK_LIMIT:
        raise DomainError(N_("Choose at most %(limit)s requests at once."), limit=BULK_LIMIT)
    done, skipped = 0, []
    for request in model.select().where(model.id.in_(ids)):
        try:
            reassign(request, actor, university=university or request.university, reviewer=reviewer, note=note)
        except DomainError as error:
            if error.field == "reviewer":
                raise
            skipped.append((request.id, error.msgid))
        else:
            done += 1
    found = set(model.select(model.id).where(model.id.in_(ids)).tuples())
    skipped += [(i, N_("No such request.")) for i in ids if (i,) not in found]
    return {"done": done, "skipped": skipped}


def bound_to(staff_id: int):
    """``[(type, request)]``: the open requests bound to this reviewer, every type."""
    bound = []
    for model in REVIEWED_TYPES:
        query = model.select().where((model.reviewer == staff_id) & model.status.in_(model.FLOW.open_states))
        bound += [(model, request) for request in query]
    return bound


def return_to_pool(staff, actor, why: str) -> int:
    """Unbind every open request bound to ``staff``; each goes back to its university's
    pool with a history line, and the university's reviewers get one notice. Call inside
    the transaction that deactivates or moves the account."""
    count = 0
    universities = {}
    for model, request in bound_to(staff.id):
        updated = (
            model.update(reviewer=None, version=model.version + 1)
            .where((model.id == request.id) & (model.reviewer == staff.id) & (model.status == request.status))
            .execute()
        )
        if updated != 1:
            continue
        request.reviewer = None
        record_event(request, Action.RETURN_TO_POOL, request.status, request.status, actor, why)
        universities.setdefault(request.university_id, []).append(f"{model.REQUEST_TYPE} #{request.id}")
        count += 1
    for university_id, names in universities.items():
        notify_university(
            university_id,
            translate(N_("Requests returned to your pool")),
            translate(
                N_(
                    "%(count)s requests bound to %(name)s came back to the pool; any reviewer may decide them: %(list)s"
                ),
                count=len(names),
                name=str(staff),
                list=", ".join(names),
            ),
        )
    return count


def deactivate_staff(staff, actor, reason: str = "") -> int:
    """The account can no longer log in; its sessions end; its requests return to the
    pool (how many is returned). Running it again changes nothing."""
    if not (actor.is_directorate or actor.kind == "system"):
        raise PermissionDenied(N_("Only the directorate can deactivate accounts."))
    with db.atomic():
        _locked(StaffUser.select().where(StaffUser.id == staff.id)).first()
        StaffUser.update(is_active=False).where(StaffUser.id == staff.id).execute()
        staff.is_active = False
        end_all_sessions("staff", staff.id)
        returned = return_to_pool(staff, actor, reason or translate(N_("The reviewer's account was deactivated.")))
        audit(actor, "staff_deactivated", staff, detail=f"{reason} ({returned})".strip())
    return returned


def staff_changed(staff, actor, was_active: bool, old_university_id) -> int:
    """After the back office saved a staff account: a reviewer deactivated, or moved to
    another university (or made directorate), no longer holds any request."""
    left = (was_active and not staff.is_active) or (
        old_university_id is not None and staff.university_id != old_university_id
    )
    if not left:
        return 0
    why = (
        translate(N_("The reviewer's account was deactivated."))
        if not staff.is_active
        else translate(N_("The reviewer moved to another university."))
    )
    with db.atomic():
        returned = return_to_pool(staff, actor, why)
        audit(actor, "staff_requests_returned", staff, detail=str(returned))
    return returned
