"""Edit requests: after the first approval, reviewed fields (name, field and degree,
province and city) and documents change only through a request that the university
holding the officer's file reviews with the same loop as qualification requests."""

from __future__ import annotations

import json

from peewee import ForeignKeyField, IntegrityError, TextField

from persian import to_persian_digits

from .accounts import Officer, audit
from .base import N_, ConflictError, DomainError, PermissionDenied, db, translate, utcnow
from .notices import notify_officer
from .officer_rules import FREE_FIELDS, REVIEWED_FIELDS, clean_fields
from .oversight import add_working_days, target_working_days
from .qualification import QualificationRequest
from .reference import City, DegreeLevel, DocumentKind, FieldOfStudy, Province, route_id
from .review import (
    OPEN_STATES,
    Document,
    ReviewedRequest,
    ReviewFlow,
    is_owner,
    record_document,
    record_event,
    review_transitions,
)

EDITABLE_FIELDS = REVIEWED_FIELDS + FREE_FIELDS
REFERENCE_FIELDS = {"province": Province, "city": City, "field_of_study": FieldOfStudy, "degree_level": DegreeLevel}


class EditRequest(ReviewedRequest):
    REQUEST_TYPE = "editrequest"

    officer = ForeignKeyField(Officer, backref="edit_requests", on_delete="RESTRICT", index=True)
    # {field: new value} (ids for reference fields) and the values they replace.
    changes = TextField(default="{}")
    previous = TextField(default="{}")

    class Meta:
        table_name = "edit_request"
        indexes = (
            (("university", "status", "last_submitted_at"), False),
            # Cartable filters and sorts, each ordered by the last submission (migration 002).
            (("university", "last_submitted_at"), False),
            (("status", "last_submitted_at"), False),
            (("reviewer", "last_submitted_at"), False),
            (("last_submitted_at",), False),
        )

    def __str__(self):
        return f"#{self.id}"

    @property
    def change_map(self) -> dict:
        return json.loads(self.changes or "{}")

    @property
    def previous_map(self) -> dict:
        return json.loads(self.previous or "{}")

    def comparison(self) -> list[tuple[str, str, str]]:
        """(field, old shown value, new shown value) for the side-by-side review."""
        rows = []
        previous = self.previous_map
        for field, new in self.change_map.items():
            rows.append((field, display_value(field, previous.get(field)), display_value(field, new)))
        return rows


EditRequest.add_index(
    EditRequest.index(
        EditRequest.officer,
        unique=True,
        where=EditRequest.status.in_(OPEN_STATES),
        name="editrequest_one_open_per_officer",
    )
)

FLOW = ReviewFlow("editrequest", review_transitions())
EditRequest.FLOW = FLOW


def display_value(field: str, value) -> str:
    if value in (None, ""):
        return ""
    model = REFERENCE_FIELDS.get(field)
    if model is not None:
        row = model.get_or_none(model.id == value)
        return row.name if row else ""
    if field == "gender":
        return {"male": "مرد", "female": "زن"}.get(value, value)
    if field == "district":
        return translate(N_("District %(number)s"), number=to_persian_digits(value))
    return str(value)


def _storable(field, value):
    return value.id if field in REFERENCE_FIELDS else value


def changed_values(officer, data: dict) -> tuple[dict, dict]:
    """Clean the submitted fields and keep those that differ from the profile.

    Locked fields (national code, birth date) are never read, whatever is posted."""
    present = [
        f
        for f in EDITABLE_FIELDS
        if f in data and str(data.get(f) or "").strip() != "" or (f in ("phone", "email") and f in data)
    ]
    if "city" in present and "province" not in present:
        data = dict(data, province=str(officer.province_id))
        present.append("province")
    if "city" in present and "district" not in present:
        present.append("district")  # a new city takes its district, or none (then it is empty)
    clean = clean_fields(data, present, officer=officer)
    changes, previous = {}, {}
    for field, value in clean.items():
        stored = _storable(field, value)
        current = getattr(officer, field + "_id") if field in REFERENCE_FIELDS else getattr(officer, field)
        if stored != current:
            changes[field], previous[field] = stored, current
    if "province" in changes and "city" not in changes:
        raise DomainError(N_("Choose a city in the new province."), field="city")
    return changes, previous


def open_edit_request(officer):
    return EditRequest.select().where((EditRequest.officer == officer.id) & EditRequest.status.in_(OPEN_STATES)).first()


def file_edit_request(officer, actor, data: dict, uploads: list) -> EditRequest:
    """File an edit request with changed values and/or new documents (already stored)."""
    if actor.kind != "officer" or actor.id != officer.id:
        raise PermissionDenied(N_("You may not do this on this request."))
    if officer.can_edit_reviewed_fields_directly():
        raise DomainError(N_("Until your first qualification is approved, edit your information directly."))
    if open_edit_request(officer) is not None:
        raise ConflictError(N_("You already have an edit request under review."))
    changes, previous = changed_values(officer, data)
    if not changes and not uploads:
        raise DomainError(N_("Change at least one item or attach a new document."))
    now = utcnow()
    try:
        with db.atomic():
            request = EditRequest.create(
                officer=officer,
                status="submitted",
                due_on=add_working_days(now.date(), target_working_days()),
                university=officer.reviewing_university(),
                changes=json.dumps(changes, ensure_ascii=False),
                previous=json.dumps(_jsonable(previous), ensure_ascii=False),
                submitted_at=now,
                last_submitted_at=now,
            )
            for kind_code, stored in uploads:
                record_document(request, kind_code, stored)
            record_event(request, "submit", "", "submitted", actor)
    except IntegrityError:
        raise ConflictError(N_("You already have an edit request under review.")) from None
    return request


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def revise(request, actor, data: dict, uploads: list):
    """While deficient, the officer changes the requested values or documents."""
    if not (request.status == "deficient" and is_owner(request, actor)):
        raise ConflictError(N_("Documents can be changed only while the request is a draft or deficient."))
    officer = Officer.get_by_id(request.officer_id)
    changes, previous = changed_values(officer, data)
    with db.atomic():
        merged = dict(request.change_map, **changes)
        merged_previous = dict(request.previous_map, **_jsonable(previous))
        EditRequest.update(
            changes=json.dumps(merged, ensure_ascii=False), previous=json.dumps(merged_previous, ensure_ascii=False)
        ).where(EditRequest.id == request.id).execute()
        request.changes, request.previous = json.dumps(merged, ensure_ascii=False), json.dumps(merged_previous)
        for kind_code, stored in uploads:
            record_document(request, kind_code, stored)


@FLOW.on("resubmit")
def _on_resubmit(request, actor, note, **_):
    return {EditRequest.last_submitted_at: utcnow(), EditRequest.applicant_comment: note}


@FLOW.on("deficiency")
def _on_deficiency(request, actor, note, **_):
    return {EditRequest.reviewer: actor.id, EditRequest.decision_note: note}


@FLOW.on("reject")
def _on_reject(request, actor, note, **_):
    return {
        EditRequest.decided_at: utcnow(),
        EditRequest.decision_note: note,
        EditRequest.reviewer: request.reviewer_id or actor.id,
    }


@FLOW.on("approve")
def _on_approve(request, actor, note, **_):
    return {
        EditRequest.decided_at: utcnow(),
        EditRequest.decision_note: note,
        EditRequest.reviewer: request.reviewer_id or actor.id,
    }


@FLOW.on("after_approve")
def _after_approve(request, actor, note, **_):
    """Apply every change at once; a new city moves the file to its university."""
    officer = Officer.get_by_id(request.officer_id)
    changes = request.change_map
    # Re-check eligibility and places against today's reference data.
    data = {k: ("" if v is None else str(v)) for k, v in changes.items()}
    if "city" in changes and "province" not in changes:
        data["province"] = str(officer.province_id)
    if "city" in changes and "district" not in changes:
        data["district"] = "" if officer.district is None else str(officer.district)
    clean = clean_fields(data, list(data), officer=officer)
    update = {getattr(Officer, field): value for field, value in clean.items() if field in changes}
    if "city" in changes or "district" in changes:
        update[Officer.university] = route_id(clean.get("city", officer.city), clean.get("district", officer.district))
    Officer.update(update).where(Officer.id == officer.id).execute()
    previous = request.previous_map
    audit(
        actor,
        "profile_changed",
        officer,
        detail=f"edit request #{request.id}: "
        + "; ".join(f"{f}: {display_value(f, previous.get(f))} → {display_value(f, v)}" for f, v in changes.items()),
    )
    _tell(
        request,
        N_("Your edit request was approved"),
        N_("Your edit request number %(id)s was approved and your profile was updated."),
    )


@FLOW.on("after_reject")
def _after_reject(request, actor, note, **_):
    _tell(
        request,
        N_("Your edit request was rejected"),
        N_("Your edit request number %(id)s was rejected. Reason: %(note)s"),
        note=note,
    )


@FLOW.on("after_deficiency")
def _after_deficiency(request, actor, note, **_):
    _tell(
        request,
        N_("Your edit request needs corrections"),
        N_("Deficiencies were declared on your edit request number %(id)s: %(note)s. Fix them and resubmit."),
        note=note,
    )


def _tell(request, subject_id, body_id, **params):
    officer = Officer.get_by_id(request.officer_id)
    notify_officer(officer, translate(subject_id), translate(body_id, id=request.id, **params))


def officer_documents(officer) -> dict:
    """The officer's documents in force: the latest of each kind from approved requests."""
    approved_q = [
        r.id
        for r in QualificationRequest.select(QualificationRequest.id).where(
            (QualificationRequest.officer == officer.id) & (QualificationRequest.status == "approved")
        )
    ]
    approved_e = [
        r.id
        for r in EditRequest.select(EditRequest.id).where(
            (EditRequest.officer == officer.id) & (EditRequest.status == "approved")
        )
    ]
    query = (
        Document.select(Document, DocumentKind)
        .join(DocumentKind)
        .where(
            (Document.officer == officer.id)
            & Document.superseded_at.is_null()
            & (
                ((Document.request_type == "qualification") & Document.request_id.in_(approved_q or [0]))
                | ((Document.request_type == "editrequest") & Document.request_id.in_(approved_e or [0]))
            )
        )
        .order_by(Document.uploaded_at)
    )
    latest = {}
    for document in query:
        latest[document.kind.code] = document
    return latest
