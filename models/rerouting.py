"""Every file under way of a city moved to the university that covers it now (D10); one
request is reassigned by :func:`models.reassignment.reassign`.

Changing a city's university (or a district's, in a city split between universities)
in the reference data routes *new* files there at once. What is already under way stays
with the university that holds it until the directorate moves it: the city's page says
how many files that is, and :func:`move_files_of_city` moves them all in one audited
transaction, each to the university covering its (city, district) now:

* open qualification and edit requests waiting on another university (to the right
  university's pool: a reviewer of the old one may no longer decide them),
* cooperations of the city's branches waiting on or held by another university,
* the files (``Officer.university``) of the qualified officers who live in the city.
"""

from __future__ import annotations

from .accounts import Officer
from .audit import audit
from .base import N_, PermissionDenied, db
from .cooperation import Branch, Cooperation
from .edit_requests import EditRequest
from .qualification import QualificationRequest
from .reference import CityDistrict, route_id
from .review import record_event
from .vocabulary import Action, State


def _coverage(city) -> tuple[list[tuple[int, int]], int]:
    """``([(district, university id)], the city's own university id)``: who covers each
    part of the city (no districts for a city that is not split)."""
    districts = list(
        CityDistrict.select(CityDistrict.number, CityDistrict.university).where(CityDistrict.city == city.id).tuples()
    )
    return districts, city.university_id


def _misplaced(university_column, district_column, city):
    """The rows whose university is not the one covering their (city, district) now."""

    def elsewhere(university_id):
        return university_column.is_null() | (university_column != university_id)

    districts, default = _coverage(city)
    if not districts:
        return elsewhere(default)
    numbers = [number for number, _university in districts]
    clause = (district_column.is_null() | district_column.not_in(numbers)) & elsewhere(default)
    for number, university_id in districts:
        clause |= (district_column == number) & elsewhere(university_id)
    return clause


def _qualification_requests(city):
    return QualificationRequest.select().where(
        (QualificationRequest.city == city.id)
        & QualificationRequest.status.in_(QualificationRequest.FLOW.reassignable_states)
        & _misplaced(QualificationRequest.university, QualificationRequest.district, city)
    )


def _edit_requests(city):
    return (
        EditRequest.select(EditRequest, Officer.district)
        .join(Officer, on=(EditRequest.officer == Officer.id))
        .where(
            (Officer.city == city.id)
            & EditRequest.status.in_(EditRequest.FLOW.reassignable_states)
            & _misplaced(EditRequest.university, Officer.district, city)
        )
    )


def _cooperations(city, states):
    return (
        Cooperation.select(Cooperation, Branch.district)
        .join(Branch, on=(Cooperation.branch == Branch.id))
        .where(
            (Branch.city == city.id)
            & Cooperation.status.in_(states)
            & _misplaced(Cooperation.university, Branch.district, city)
        )
    )


def _officers(city):
    return Officer.select().where(
        (Officer.city == city.id)
        & Officer.qualified_at.is_null(False)
        & _misplaced(Officer.university, Officer.district, city)
    )


def files_of_city(city) -> dict:
    """How many files under way in ``city`` are still held by another university than
    the one that covers their place (city, district) now."""
    return {
        "qualification_requests": _qualification_requests(city).count(),
        "edit_requests": _edit_requests(city).count(),
        "pending_cooperations": _cooperations(city, Cooperation.FLOW.reassignable_states).count(),
        "active_cooperations": _cooperations(city, (State.ACTIVE,)).count(),
        "officers": _officers(city).count(),
    }


def _district_of(row):
    """The district a joined row carries (the officer's or the branch's), or its own."""
    joined = getattr(row, "officer", None) if isinstance(row, EditRequest) else None
    if isinstance(row, Cooperation):
        joined = row.branch
    return getattr(joined if joined is not None else row, "district", None)


def move_files_of_city(city, actor) -> dict:
    """Move every file counted by :func:`files_of_city` to the university covering its
    (city, district), in one transaction, with a history line on each moved request and
    one audit row."""
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
            model, target = type(request), route_id(city, _district_of(request))
            model.update(university=target, reviewer=None, version=model.version + 1).where(
                model.id == request.id
            ).execute()
            request.university_id, request.reviewer_id = target, None
            record_event(request, Action.REASSIGN, request.status, request.status, actor, f"city {city.name}")
        for cooperation in _cooperations(city, (State.ACTIVE,)):
            target = route_id(city, cooperation.branch.district)
            Cooperation.update(university=target).where(Cooperation.id == cooperation.id).execute()
        for officer in _officers(city):
            Officer.update(university=route_id(city, officer.district)).where(Officer.id == officer.id).execute()
        audit(
            actor,
            "city_files_moved",
            city,
            detail="to the universities covering it now: " + ", ".join(f"{k}={v}" for k, v in moved.items()),
        )
    return moved
