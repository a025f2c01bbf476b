"""Qualification requests (احراز صلاحیت): the seed's notes 1-8."""

from __future__ import annotations

import jdatetime
from peewee import JOIN, CharField, ForeignKeyField, IntegerField, IntegrityError

from .accounts import Officer
from .base import N_, ConflictError, DomainError, PermissionDenied, Prepared, db, translate, utcnow
from .notices import notify_officer
from .reference import City, DegreeLevel, DocumentKind, FieldOfStudy, University
from .review import (
    OPEN_STATES,
    REJECT_REASONS,
    ReviewedRequest,
    ReviewFlow,
    Transition,
    is_owner,
    record_document,
    review_transitions,
)


class QualificationRequest(ReviewedRequest):
    REQUEST_TYPE = "qualification"

    officer = ForeignKeyField(Officer, backref="qualification_requests", on_delete="RESTRICT", index=True)
    # Snapshots at submission, so the cartable filters without joining the officer.
    city = ForeignKeyField(City, null=True, backref="+", on_delete="RESTRICT", index=True)
    district = IntegerField(null=True)  # the city's municipal district, when it is split
    field_of_study = ForeignKeyField(FieldOfStudy, null=True, backref="+", on_delete="RESTRICT", index=True)
    degree_level = ForeignKeyField(DegreeLevel, null=True, backref="+", on_delete="RESTRICT", index=True)
    qualification_number = CharField(max_length=20, null=True)

    class Meta:
        table_name = "qualification_request"
        indexes = (
            (("university", "status", "submitted_at"), False),
            # Cartable filters and sorts, each ordered by submission (migration 002).
            (("university", "submitted_at", "status", "id"), False),
            (("submitted_at", "id"), False),
            (("status", "submitted_at"), False),
            (("city", "submitted_at"), False),
            (("field_of_study", "submitted_at"), False),
            (("degree_level", "submitted_at"), False),
            (("reviewer", "submitted_at"), False),
            (("status", "last_submitted_at"), False),
        )

    def __str__(self):
        return f"#{self.id}"


# One open request per officer, enforced by the database as well as by the code.
QualificationRequest.add_index(
    QualificationRequest.index(
        QualificationRequest.officer,
        unique=True,
        where=QualificationRequest.status.in_(OPEN_STATES),
        name="qualification_one_open_per_officer",
    )
)


FLOW = ReviewFlow("qualification", {("draft", "submit"): Transition("submitted", is_owner), **review_transitions()})
QualificationRequest.FLOW = FLOW


OPEN_REQUEST = Prepared(
    lambda officer_id: (
        QualificationRequest.select()
        .where((QualificationRequest.officer == officer_id) & QualificationRequest.status.in_(OPEN_STATES))
        .limit(1)
    )
)
OWN_REQUEST = Prepared(
    lambda request_id, officer_id: (
        QualificationRequest.select(QualificationRequest, University)
        .join(University, JOIN.LEFT_OUTER, on=(QualificationRequest.university == University.id))
        .where((QualificationRequest.id == request_id) & (QualificationRequest.officer == officer_id))
        .limit(1)
    )
)


def open_request(officer):
    """The officer's request that is not decided yet (at most one), or None."""
    return OPEN_REQUEST.first(officer.id)


def own_request(officer, request_id: int):
    """The officer's own request with this id (with its university), or None."""
    return OWN_REQUEST.first(int(request_id), officer.id)


def start_request(officer, actor):
    """The officer's open request, or a new draft (one open request at a time)."""
    if not is_owner_actor(officer, actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    if officer.is_qualified:
        raise DomainError(N_("You are already qualified."))
    existing = open_request(officer)
    if existing:
        return existing
    try:
        with db.atomic():
            return QualificationRequest.create(officer=officer, status="draft")
    except IntegrityError:
        # A second tab created it a moment ago.
        return open_request(officer)


def is_owner_actor(officer, actor) -> bool:
    return actor.kind == "officer" and actor.id == officer.id


def can_change_documents(request, actor) -> bool:
    return request.status in ("draft", "deficient") and is_owner(request, actor)


def attach_document(request, actor, kind_code: str, stored):
    """Record an uploaded file (already on disk) as the request's document of a kind."""
    if not can_change_documents(request, actor):
        raise ConflictError(N_("Documents can be changed only while the request is a draft or deficient."))
    return record_document(request, kind_code, stored)


def missing_documents(request) -> list:
    present = {d.kind_id for d in request.current_documents()}
    return [
        k
        for k in DocumentKind.select()
        .where(DocumentKind.required == True)  # noqa: E712
        .order_by(DocumentKind.sort_order)
        if k.id not in present
    ]


@FLOW.on("submit")
def _on_submit(request, actor, note, **_):
    _require_documents(request)
    officer = request.officer
    now = utcnow()
    return {
        QualificationRequest.university: officer.reviewing_university(),
        QualificationRequest.city: officer.city_id,
        QualificationRequest.district: officer.district,
        QualificationRequest.field_of_study: officer.field_of_study_id,
        QualificationRequest.degree_level: officer.degree_level_id,
        QualificationRequest.submitted_at: now,
        QualificationRequest.last_submitted_at: now,
    }


@FLOW.on("resubmit")
def _on_resubmit(request, actor, note, **_):
    _require_documents(request)
    return {QualificationRequest.last_submitted_at: utcnow(), QualificationRequest.applicant_comment: note}


def _require_documents(request):
    missing = missing_documents(request)
    if missing:
        raise DomainError(
            N_("Upload the required documents first: %(kinds)s"), kinds="، ".join(k.name for k in missing)
        )


@FLOW.on("deficiency")
def _on_deficiency(request, actor, note, **_):
    return {QualificationRequest.reviewer: actor.id, QualificationRequest.decision_note: note}


@FLOW.on("reject")
def _on_reject(request, actor, note, reason: str = "other", **_):
    if reason not in dict(REJECT_REASONS):
        reason = "other"
    return {
        QualificationRequest.decided_at: utcnow(),
        QualificationRequest.decision_note: note,
        QualificationRequest.reject_reason: reason,
        QualificationRequest.reviewer: request.reviewer_id or actor.id,
    }


@FLOW.on("approve")
def _on_approve(request, actor, note, **_):
    return {
        QualificationRequest.decided_at: utcnow(),
        QualificationRequest.decision_note: note,
        QualificationRequest.qualification_number: qualification_number_for(request),
        QualificationRequest.reviewer: request.reviewer_id or actor.id,
    }


def qualification_number_for(request) -> str:
    """``<Jalali year>-<request id>``: unique because request ids are."""
    year = jdatetime.date.fromgregorian(date=utcnow().date()).year
    return f"{year}-{request.id:06d}"


@FLOW.on("after_approve")
def _after_approve(request, actor, note, **_):
    officer = request.officer
    updated = (
        Officer.update(
            qualified_at=request.decided_at,
            qualification_number=request.qualification_number,
            university=request.university_id,
        )
        .where((Officer.id == officer.id) & Officer.qualified_at.is_null())
        .execute()
    )
    if updated != 1:
        raise ConflictError(N_("This officer is already qualified."))
    _tell_officer(
        request,
        N_("Your qualification request was approved"),
        N_("Your qualification request number %(id)s was approved. Qualification number: %(number)s."),
        number=request.qualification_number,
    )


@FLOW.on("after_reject")
def _after_reject(request, actor, note, **_):
    _tell_officer(
        request,
        N_("Your qualification request was rejected"),
        N_("Your qualification request number %(id)s was rejected. Reason: %(note)s. You may file a new request."),
        note=note,
    )


@FLOW.on("after_deficiency")
def _after_deficiency(request, actor, note, **_):
    _tell_officer(
        request,
        N_("Your qualification request needs corrections"),
        N_("Deficiencies were declared on your qualification request number %(id)s: %(note)s. Fix them and resubmit."),
        note=note,
    )


def _tell_officer(request, subject_id, body_id, **params):
    officer = request.officer
    subject = translate(subject_id)
    body = translate(body_id, id=request.id, **params)
    notify_officer(officer, subject, body)
