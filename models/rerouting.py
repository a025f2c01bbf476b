"""Every file under way of a city moved to the university that covers it now (D10); one
request is reassigned by :func:`models.reassignment.reassign`.

Changing a city's university in the reference data routes *new* files there at once.
What is already under way stays with the university that holds it until the directorate
moves it: the city's page says how many files that is, and :func:`move_files_of_city`
moves them all in one audited transaction:

* open qualification and edit requests waiting on the old university (to the new
  university's pool: a reviewer of the old one may no longer decide them),
* cooperations of the city's branches waiting on or held by the old university,
* the files (``Officer.university``) of the qualified officers who live in the city.
"""

from __future__ import annotations

from .accounts import Officer
from .audit import audit
from .base import N_, PermissionDenied, db
from .cooperation import Branch, Cooperation
from .edit_requests import EditRequest
from .qualification import QualificationRequest
from .review import record_event
from .vocabulary import Action, State


def _elsewhere(model, university_id):
    return model.university.is_null() | (model.university != university_id)


def _qualification_requests(city):
    return QualificationRequest.select().where(
        (QualificationRequest.city == city.id)
        & QualificationRequest.status.in_(QualificationRequest.FLOW.reassignable_states)
        & _elsewhere(QualificationRequest, city.university_id)
    )


def _edit_requests(city):
    officers = Officer.select(Officer.id).where(Officer.city == city.id)
    return EditRequest.select().where(
        EditRequest.officer.in_(officers)
        & EditRequest.status.in_(EditRequest.FLOW.reassignable_states)
        & _elsewhere(EditRequest, city.university_id)
    )


def _cooperations(city, states):
    branches = Branch.select(Branch.id).where(Branch.city == city.id)
    return Cooperation.select().where(
        Cooperation.branch.in_(branches) & Cooperation.status.in_(states) & _elsewhere(Cooperation, city.university_id)
    )


def _officers(city):
    return Officer.select().where(
        (Officer.city == city.id) & Officer.qualified_at.is_null(False) & _elsewhere(Officer, city.university_id)
    )


def files_of_city(city) -> dict:
    """How many files under way in ``city`` are still held by another university than
    the one that covers the city now."""
    return {
        "qualification_requests": _qualification_requests(city).count(),
        "edit_requests": _edit_requests(city).count(),
        "pending_cooperations": _cooperations(city, Cooperation.FLOW.reassignable_states).count(),
        "active_cooperations": _cooperations(city, (State.ACTIVE,)).count(),
        "officers": _officers(city).count(),
    }


def move_files_of_city(city, actor) -> dict:
    """Move every file counted by :func:`files_of_city` to the city's university, in one
    transaction, with a history line on each moved request and one audit row."""
    if not actor.is_directorate:
        raise PermissionDenied(N_("Only the directorate can reassign requests."))
    moved = files_of_city(city)
    with db.atomic():
        waiting = (
            list(_qualification_requests(city))
            + list(_edit_requests(city))
            + list(_cooperations(city, Cooperation.FLOW.reassignable_states))
        )
        for request in waiting:
            type(request).update(university=city.university_id, reviewer=None, version=type(request).version + 1).where(
                type(request).id == request.id
            ).execute()
            request.university_id, request.reviewer_id = city.university_id, None
            record_event(request, Action.REASSIGN, request.status, request.status, actor, f"city {city.name}")
        active = _cooperations(city, (State.ACTIVE,))
        Cooperation.update(university=city.university_id).where(Cooperation.id.in_([c.id for c in active])).execute()
        officers = [o.id for o in _officers(city)]
        Officer.update(university=city.university_id).where(Officer.id.in_(officers)).execute()
        audit(
            actor,
            "city_files_moved",
            city,
            detail=f"to university {city.university_id}: " + ", ".join(f"{k}={v}" for k, v in moved.items()),
        )
    return moved
