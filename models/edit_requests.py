"""Edit requests: after the first approval, reviewed fields (name, field and degree,
province and city) and documents change only through a request that the university
holding the officer's file reviews with the same loop as qualification requests."""

from __future__ import annotations

import json

from peewee import ForeignKeyField, TextField

from persian import to_persian_digits

from .accounts import Officer
from .audit import audit
from .base import N_, ConflictError, DomainError, PermissionDenied, db, translate
from .cooperation import active_cooperation_of
from .notices import queue_sms
from .officer_rules import FIELDS_BY_NAME, FREE_FIELDS, REVIEWED_FIELDS, clean_fields
from .reference import City, DegreeLevel, FieldOfStudy, Province, route_id
from .registration import check_officers_new_mobile, set_mobile
from .review import NEW, ReviewedRequest, ReviewFlow, Transition, is_owner, record_document, review_transitions
from .vocabulary import Action, State

EDITABLE_FIELDS = REVIEWED_FIELDS + FREE_FIELDS
REFERENCE_FIELDS = {"province": Province, "city": City, "field_of_study": FieldOfStudy, "degree_level": DegreeLevel}


class EditRequest(ReviewedRequest):
    # The stored code (history, documents, audit) and the back office's endpoint: one
    # word, unlike the table's name, because rows already carry it.
    REQUEST_TYPE = "editrequest"
    TITLE = N_("Edit requests")
    HAS_DOCUMENTS = True

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

    def message_params(self) -> dict:
        """What an approval applied and what it skipped (set by the approval itself)."""
        applied = getattr(self, "applied_fields", None)
        skipped = getattr(self, "skipped_fields", None) or []
        return {
            "applied": _labels(applied) if applied else translate(N_("the new documents")),
            "skipped": translate(
                N_(" Not applied, because you changed them yourself after filing the request: %(fields)s."),
                fields=_labels(skipped),
            )
            if skipped
            else "",
        }

    def comparison(self) -> list[tuple[str, str, str]]:
        """(field, old shown value, new shown value) for the side-by-side review."""
        rows = []
        previous = self.previous_map
        for field, new in self.change_map.items():
            rows.append((field, display_value(field, previous.get(field)), display_value(field, new)))
        return rows


# The cartable lists in queue order (``cartable.queue_order``), like the qualification one
# (models/qualification.py): each tab, filter and sort reads one of these in that order, from
# the first row of its range to the page's last (issue 23, migration 016).
QUEUE_INDEXES = (
    # the directorate's "all" and "decided" tabs (a walk in queue order), the due-date sort
    ("er_queue", ("due_on", "last_submitted_at", "status")),
    # "needs my decision", "waiting for the applicant", "overdue", the state and overdue
    # filters, the state sort
    ("er_queue_status", ("status", "due_on", "last_submitted_at")),
    # the same for a university's reviewers
    ("er_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("er_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    # "assigned to me"
    ("er_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    # a university's sort by submission (the directorate's reads edit_request_submitted_at)
    ("er_submitted_university", ("university_id", "submitted_at")),
)
for _name, _columns in QUEUE_INDEXES:
    EditRequest.add_index(EditRequest.index(*(EditRequest._meta.columns[column] for column in _columns), name=_name))


ALREADY_OPEN = N_("You already have an edit request under review.")

# An edit request is filed already submitted (NEW -> submitted), then reviewed like a
# qualification request.
FLOW = ReviewFlow(
    EditRequest,
    {
        (NEW, Action.SUBMIT): Transition(State.SUBMITTED, is_owner),
        **review_transitions(),
    },
    messages={
        Action.APPROVE: (
            N_("Your edit request was approved"),
            N_("Your edit request number %(id)s was approved. Applied: %(applied)s.%(skipped)s"),
        ),
        Action.REJECT: (
            N_("Your edit request was rejected"),
            N_("Your edit request number %(id)s was rejected. Reason: %(note)s"),
        ),
        Action.DEFICIENCY: (
            N_("Your edit request needs corrections"),
            N_("Deficiencies were declared on your edit request number %(id)s: %(note)s. Fix them and resubmit."),
        ),
    },
)

# One open request per officer. Migration 001 froze the predicate with "draft" in it, as
# for qualification requests, although an edit request is never a draft.
EditRequest.add_index(
    EditRequest.index(
        EditRequest.officer,
        unique=True,
        where=EditRequest.status.in_((State.DRAFT, *FLOW.open_states)),
        name="editrequest_one_open_per_officer",
    )
)


def display_value(field: str, value) -> str:
    if value in (None, ""):
        return ""
    model = REFERENCE_FIELDS.get(field)
    if model is not None:
        row = model.get_or_none(model.id == value)
        return row.name if row else ""
    choices = dict(FIELDS_BY_NAME[field].choices) if field in FIELDS_BY_NAME else {}
    if value in choices:
        return translate(choices[value])
    if field == "district":
        return translate(N_("District %(number)s"), number=to_persian_digits(value))
    return str(value)


def _labels(fields) -> str:
    return "، ".join(translate(FIELDS_BY_NAME[field].label) for field in fields)


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
    return (
        EditRequest.select()
        .where((EditRequest.officer == officer.id) & EditRequest.status.in_(FLOW.open_states))
        .first()
    )


def _check_new_mobile(officer, changes: dict, identity) -> None:
    """A new mobile (the recovery channel) is checked with Shahkar when it is filed, as at
    registration; a refusal or a silent service stores nothing."""
    if "mobile" not in changes:
        return
    if identity is None:
        raise ValueError("an edit request carrying a mobile needs the identity adapter")
    check_officers_new_mobile(officer, changes["mobile"], identity)


def file_edit_request(officer, actor, data: dict, uploads: list, identity=None) -> EditRequest:
    """File an edit request with changed values and/or new documents (already stored):
    it is created submitted, to the university holding the officer's file. A new mobile
    needs ``identity`` (the :mod:`models.identity` adapter) and Shahkar's yes."""
    if not officer.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    if officer.can_edit_reviewed_fields_directly():
        raise DomainError(N_("Until your first qualification is approved, edit your information directly."))
    if open_edit_request(officer) is not None:
        raise ConflictError(ALREADY_OPEN)
    changes, previous = changed_values(officer, data)
    if not changes and not uploads:
        raise DomainError(N_("Change at least one item or attach a new document."))
    _check_new_mobile(officer, changes, identity)
    request = EditRequest(
        officer=officer,
        university=officer.reviewing_university(),
        changes=_json(changes),
        previous=_json(_jsonable(previous)),
    )
    return FLOW.create(request, Action.SUBMIT, actor, conflict=ConflictError(ALREADY_OPEN), uploads=uploads)


@FLOW.on("after_" + Action.SUBMIT)
def _after_submit(request, actor, note, uploads=(), **_):
    for kind_code, stored in uploads:
        record_document(request, kind_code, stored)


def _json(values: dict) -> str:
    return json.dumps(values, ensure_ascii=False)


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def revise(request, actor, data: dict, uploads: list, identity=None):
    """While deficient, the officer changes the requested values or documents (a new
    mobile is checked as in :func:`file_edit_request`)."""
    if not (request.status == State.DEFICIENT and is_owner(request, actor)):
        raise ConflictError(N_("Documents can be changed only while the request is a draft or deficient."))
    officer = Officer.get_by_id(request.officer_id)
    changes, previous = changed_values(officer, data)
    if changes.get("mobile") != request.change_map.get("mobile"):
        _check_new_mobile(officer, changes, identity)
    with db.atomic():
        merged = _json(dict(request.change_map, **changes))
        merged_previous = _json(dict(request.previous_map, **_jsonable(previous)))
        EditRequest.update(changes=merged, previous=merged_previous).where(EditRequest.id == request.id).execute()
        request.changes, request.previous = merged, merged_previous
        for kind_code, stored in uploads:
            record_document(request, kind_code, stored)


def _tell_the_branch(officer, province, actor):
    """D12: a serving officer moved to another province. The distributor's manager gets
    an SMS and the branch's university a line in the audit; both dashboards flag the branch
    (``dashboards.branches_with_officer_elsewhere``)."""
    cooperation = active_cooperation_of(officer)
    if cooperation is None or cooperation.branch.province_id == province.id:
        return
    queue_sms(
        cooperation.distributor.manager_mobile,
        translate(
            N_(
                "The technical officer %(officer)s of %(branch)s now lives in %(province)s, outside the branch's province."  # noqa: E501  (one message id)
            ),
            officer=officer.full_name,
            branch=cooperation.branch.name,
            province=province.name,
        ),
    )
    audit(
        actor,
        "officer_moved_from_branch_province",
        cooperation,
        detail=f"officer {officer.id} now in {province.name}; branch {cooperation.branch_id}",
        object_type="cooperation",
    )


def changed_since_filing(request, officer) -> list[str]:
    """The free fields of the request that the officer changed directly after filing it:
    their newer value wins over the request's (D6)."""
    previous = request.previous_map
    return [
        field
        for field, requested in request.change_map.items()
        if field in FREE_FIELDS
        and _comparable(getattr(officer, field)) not in (_comparable(previous.get(field)), _comparable(requested))
    ]


def _comparable(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@FLOW.on("after_" + Action.APPROVE)
def _after_approve(request, actor, note, **_):
    """Apply the changes at once, except a free field the officer changed directly since
    filing (the newer value stays); a new city moves the file to its university."""
    officer = Officer.get_by_id(request.officer_id)
    skipped = changed_since_filing(request, officer)
    changes = {field: value for field, value in request.change_map.items() if field not in skipped}
    request.applied_fields, request.skipped_fields = list(changes), skipped
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
    new_mobile = update.pop(Officer.mobile, None)
    if update:
        Officer.update(update).where(Officer.id == officer.id).execute()
    if new_mobile is not None:
        set_mobile(officer, new_mobile, actor, "mobile_changed", detail=f"mobile, edit request #{request.id}")
    if "province" in clean and clean["province"].id != officer.province_id:
        _tell_the_branch(officer, clean["province"], actor)
    audit(
        actor,
        "profile_changed",
        officer,
        # Ids and field names only (I3): the old and new values stay in the request itself.
        detail=f"edit request #{request.id}: "
        + ", ".join(changes)
        + (f"; skipped (changed directly since filing): {', '.join(skipped)}" if skipped else ""),
    )
