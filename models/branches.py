"""Branches change: the distributor (or the directorate, for any distributor) edits a
branch and closes it (issue 15, "Branches change").

* :func:`edit_branch` changes the name, the address or the place. A new place decides where
  the branch's *next* requests go; nothing already decided moves. A nomination the officer
  has not answered yet (no university has seen it) follows the branch to the university of
  its new place; while a university is reviewing one, the place cannot change (as an
  officer's reviewed fields cannot while under review).
* :func:`close_branch` ends the branch's life in the registry in one transaction: its open
  nomination is withdrawn (by the distributor) or cancelled (by the directorate), its active
  cooperation ends (released, or ended by the directorate), each through the cooperation
  flow so the officer gets the flow's notice and the manager its SMS; the branch is no
  longer listed as vacant nor chased by ``flask tick``, nominates no one, and its public
  page answers 404.

And the manager's mobile, set by the directorate (:func:`change_manager_mobile_by_directorate`;
the distributor's own change, confirmed by a code, is in :mod:`models.registration`).

And :func:`serving_officers`, the active cooperation of each branch of a distributor (its dashboard).

All are audited. Imports no Flask.
"""

from __future__ import annotations

from persian import normalize_mobile

from .accounts import Officer
from .audit import audit
from .base import N_, ConflictError, DomainError, PermissionDenied, db, utcnow
from .branch_fields import BRANCH_FIELDS, PLACE_FIELDS, clean_branch
from .cooperation import BRANCH_CLOSED, Branch, Cooperation, branch_open_request, locked_open_branch
from .reference import route_id
from .registration import set_manager_mobile
from .vocabulary import Action, State

MIN_REASON = 5
UNDER_REVIEW = N_(
    "A university is reviewing a nomination for this branch, so its place cannot change now. "
    "Wait for the decision or withdraw the nomination first."
)


def serving_officers(distributor_id: int) -> dict:
    """``{branch id: its active cooperation, with the officer}`` for every branch of a
    distributor (at most one each, whatever the length of its history)."""
    return {
        c.branch_id: c
        for c in Cooperation.select(Cooperation, Officer)
        .join(Officer)
        .where((Cooperation.distributor == distributor_id) & (Cooperation.status == State.ACTIVE))
    }


def _changeable(branch, actor) -> Branch:
    """The branch as stored now, if ``actor`` may change it and it is open."""
    if not branch.can_change(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    current = Branch.get_by_id(branch.id)
    if not current.is_active:
        raise ConflictError(BRANCH_CLOSED)
    return current


def edit_branch(branch, actor, **fields) -> Branch:
    """Change some of the branch's fields and return the branch as stored.

    ``fields`` is any of ``name``, ``address`` (text), ``province``, ``city`` (reference
    rows, as :func:`models.cooperation.create_branch` takes them) and ``district`` (the
    municipal district's number, Persian digits read; required in Tehran, empty elsewhere).
    The fields not given keep their values, except the district when the city changes (a
    new city needs its own district, or none). A Tehran branch stored without a district
    (imported) must be given one with any edit.

    Raises PermissionDenied (not the branch's distributor nor the directorate),
    ConflictError (the branch is closed; or its place would change while a university is
    reviewing a nomination for it), ValidationFailed (the fields, as at creation), or
    DomainError for a field that is not one of the five.
    """
    unknown = set(fields) - set(BRANCH_FIELDS)
    if unknown:
        raise DomainError(N_("This field cannot be changed here."), field=sorted(unknown)[0])
    current = _changeable(branch, actor)
    wanted = {name: getattr(current, name) for name in BRANCH_FIELDS}
    if "city" in fields and "district" not in fields:
        fields = dict(fields, district="")
    wanted.update(fields)
    clean = clean_branch(
        wanted["name"],
        wanted["province"],
        wanted["city"],
        wanted["address"],
        "" if wanted["district"] is None else wanted["district"],
    )
    before = {
        "name": current.name,
        "address": current.address,
        "province": current.province_id,
        "city": current.city_id,
        "district": current.district,
    }
    after = {
        "name": clean["name"],
        "address": clean["address"],
        "province": clean["province"].id,
        "city": clean["city"].id,
        "district": clean["district"],
    }
    changed = [name for name in BRANCH_FIELDS if before[name] != after[name]]
    if not changed:
        return current
    moved = any(name in PLACE_FIELDS for name in changed)
    with db.atomic():
        if locked_open_branch(current.id) is None:  # closed a moment ago
            raise ConflictError(BRANCH_CLOSED)
        if moved:
            _follow_the_branch(current, actor, route_id(clean["city"], clean["district"]))
        updated = Branch.update(after).where((Branch.id == current.id) & (Branch.is_active == True)).execute()  # noqa: E712
        if updated != 1:
            raise ConflictError(BRANCH_CLOSED)
        # The changed fields, not their values (as the officers' change history, I3).
        audit(actor, "branch_edited", current, detail=", ".join(changed))
    return Branch.get_by_id(current.id)


def _follow_the_branch(branch, actor, university_id) -> None:
    """A moved branch: its unanswered nomination goes to the new place's university; one a
    university is reviewing stops the move."""
    waiting = branch_open_request(branch)
    if waiting is None:
        return
    if waiting.status != State.PENDING_OFFICER:
        raise ConflictError(UNDER_REVIEW, code="under_review")
    if waiting.university_id != university_id:
        moved = (
            Cooperation.update(university=university_id)
            .where((Cooperation.id == waiting.id) & (Cooperation.status == State.PENDING_OFFICER))
            .execute()
        )
        if moved != 1:  # the officer answered a moment ago: a university has it now
            raise ConflictError(UNDER_REVIEW, code="under_review")
        audit(actor, "cooperation_rerouted", waiting, detail=f"university {university_id}")


def close_branch(branch, actor, reason: str) -> Branch:
    """Close the branch for good (it is not reopened; a new branch is defined instead).

    ``actor`` is the branch's distributor or the directorate; ``reason`` (at least five
    characters) is kept on the branch, in the audit log, and in the notes of the requests it
    ends. In one transaction: the open nomination is withdrawn (distributor) or cancelled
    (directorate); the active cooperation is released (distributor) or ended by the
    directorate, its ``end_reason`` ``closed``; the officer gets the flow's notice and SMS,
    the manager the flow's SMS. Returns the closed branch.

    Raises PermissionDenied, DomainError (no reason, field ``reason``) or ConflictError (the
    branch is already closed).
    """
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise DomainError(N_("Write why the branch is closed."), field="reason", code="reason_required")
    current = _changeable(branch, actor)
    by_directorate = actor.is_directorate
    with db.atomic():
        # Locked first: a nomination being made now commits before, and is found below.
        if locked_open_branch(current.id) is None:
            raise ConflictError(BRANCH_CLOSED)
        closed = (
            Branch.update(is_active=False, closed_at=utcnow(), close_reason=reason[:2000])
            .where((Branch.id == current.id) & (Branch.is_active == True))  # noqa: E712
            .execute()
        )
        if closed != 1:
            raise ConflictError(BRANCH_CLOSED)
        waiting = branch_open_request(current)
        if waiting is not None:
            waiting.apply(Action.CANCEL if by_directorate else Action.WITHDRAW, actor, note=reason)
        serving = current.active_cooperation()
        if serving is not None:
            action = Action.DIRECTORATE_END if by_directorate else Action.RELEASE
            serving.apply(action, actor, note=reason, end_reason="closed")
        audit(actor, "branch_closed", current, detail=reason[:200])
    return Branch.get_by_id(current.id)


def change_manager_mobile_by_directorate(distributor, actor, mobile, reason: str) -> None:
    """The directorate sets a distributor's manager's mobile (a manager who left, a lost
    line) without a code: with a reason, audited, the old number told by SMS. The
    distributor changes it itself through
    :func:`models.registration.start_manager_mobile_change` (a code to the new number)."""
    if not actor.is_directorate:
        raise PermissionDenied(N_("You may not do this on this request."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise DomainError(N_("Write the reason for this action."), field="reason", code="reason_required")
    new = normalize_mobile(mobile)
    if not new:
        raise DomainError(N_("Enter a mobile number like 09121234567."), field="mobile", code="invalid")
    if new == distributor.manager_mobile:
        raise DomainError(N_("This is already the manager's mobile number."), field="mobile", code="unchanged")
    with db.atomic():
        set_manager_mobile(
            distributor, new, actor, "manager_mobile_changed_by_directorate", detail=f"{reason[:180]} (mobile)"
        )
