"""Qualification requests (احراز صلاحیت): the seed's notes 1-8.

The review loop is :mod:`models.review`'s; what is a qualification's own is here: the
documents a submission needs, the snapshot of the officer taken at submission, and the
qualification number an approval issues to the officer.
"""

from __future__ import annotations

from peewee import JOIN, CharField, ForeignKeyField, IntegerField, IntegrityError

from .accounts import Officer
from .base import N_, ConflictError, DomainError, PermissionDenied, db
from .numbers import issue_qualification_number, new_public_token
from .prepared import Prepared
from .reference import City, DegreeLevel, DocumentKind, FieldOfStudy, University
from .review import ReviewedRequest, ReviewFlow, Transition, is_owner, record_document, review_transitions
from .vocabulary import Action, State


class QualificationRequest(ReviewedRequest):
    REQUEST_TYPE = "qualification"
    TITLE = N_("Qualification requests")
    HAS_DOCUMENTS = True

    officer = ForeignKeyField(Officer, backref="qualification_requests", on_delete="RESTRICT", index=True)
    # Snapshots at submission, so the cartable filters without joining the officer.
    city = ForeignKeyField(City, null=True, backref="+", on_delete="RESTRICT", index=True)
    district = IntegerField(null=True)  # the city's municipal district, when it is split
    field_of_study = ForeignKeyField(FieldOfStudy, null=True, backref="+", on_delete="RESTRICT", index=True)
    degree_level = ForeignKeyField(DegreeLevel, null=True, backref="+", on_delete="RESTRICT", index=True)
    # The name the reviewer reviews: with the place, field and degree above, the snapshot
    # an approval qualifies (issue 14).
    first_name = CharField(max_length=60, null=True)
    last_name = CharField(max_length=80, null=True)
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

    def message_params(self) -> dict:
        return {"number": self.qualification_number or ""}

    def snapshot_differences(self, officer) -> list[str]:
        """The reviewed fields whose value on the officer's profile is no longer the one
        this request carries (empty while nothing changed)."""
        snapshot = {
            "first_name": (self.first_name, officer.first_name),
            "last_name": (self.last_name, officer.last_name),
            "city": (self.city_id, officer.city_id),
            # The district routes a split city's file (issue 19): part of what was reviewed.
            "district": (self.district, officer.district),
            "field_of_study": (self.field_of_study_id, officer.field_of_study_id),
            "degree_level": (self.degree_level_id, officer.degree_level_id),
        }
        # A request submitted before names were kept has none to compare.
        return [name for name, (kept, live) in snapshot.items() if kept is not None and kept != live]


FLOW = ReviewFlow(
    QualificationRequest,
    {
        (State.DRAFT, Action.SUBMIT): Transition(State.SUBMITTED, is_owner),
        **review_transitions(),
    },
    messages={
        Action.APPROVE: (
            N_("Your qualification request was approved"),
            N_("Your qualification request number %(id)s was approved. Qualification number: %(number)s."),
        ),
        Action.REJECT: (
            N_("Your qualification request was rejected"),
            N_("Your qualification request number %(id)s was rejected. Reason: %(note)s. You may file a new request."),
        ),
        Action.DEFICIENCY: (
            N_("Your qualification request needs corrections"),
            N_(
                "Deficiencies were declared on your qualification request number %(id)s: %(note)s. Fix them and resubmit."  # noqa: E501  (one message id)
            ),
        ),
    },
)

# One open request per officer, enforced by the database as well as by the code.
QualificationRequest.add_index(
    QualificationRequest.index(
        QualificationRequest.officer,
        unique=True,
        where=QualificationRequest.status.in_(FLOW.open_states),
        name="qualification_one_open_per_officer",
    )
)


# The cartable lists in queue order (``cartable.queue_order``: the nearest due date, then the
# longest waiting). Each tab, filter and sort the screens offer reads one of these in that
# order, from the first row of its range to the page's last (issue 23, migration 013): no
# page sorts the rows it matches, and none walks an index whose order it does not ask for.
QUEUE_INDEXES = (
    # the directorate's "all" tab (the state in the index: drafts are skipped without a row read)
    ("qr_queue", ("due_on", "last_submitted_at", "status")),
    # "needs my decision", "overdue" (a range of due dates), the state filter, the overdue filter
    ("qr_queue_status", ("status", "due_on", "last_submitted_at")),
    # the same for a university's reviewers
    ("qr_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("qr_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    # the filters on a reference column, in queue order
    ("qr_queue_city", ("city_id", "due_on", "last_submitted_at")),
    ("qr_queue_district", ("district", "due_on", "last_submitted_at")),
    # a reviewer's district filter: their university's requests of the district (migration 019)
    ("qr_queue_university_district", ("university_id", "district", "due_on", "last_submitted_at")),
    ("qr_queue_field", ("field_of_study_id", "due_on", "last_submitted_at")),
    ("qr_queue_degree", ("degree_level_id", "due_on", "last_submitted_at")),
    ("qr_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    # the "days waiting" sort (the state in the index: drafts, undated, skipped; migration 019)
    ("qr_waiting_status", ("last_submitted_at", "status")),
    ("qr_waiting_university", ("university_id", "last_submitted_at")),
)
for _name, _columns in QUEUE_INDEXES:
    QualificationRequest.add_index(
        QualificationRequest.index(*(QualificationRequest._meta.columns[column] for column in _columns), name=_name)
    )
# SQLite only: the directorate's "all" and "decided" tabs (every request but drafts, in queue order) read
# from the queue index without the drafts. SQLite sorts the undated first, and a draft has
# neither date: a walk of ``qr_queue`` began by reading past every draft, 2.2 of the page's
# 2.4 ms at a million requests. PostgreSQL sorts the undated last, so its walk starts where
# the tab does; there the partial index would only tempt the planner on small tables
# (migration 020). ``models.create_tables`` creates these on SQLite.
# PostgreSQL only: a reviewer's requests are all their university's (a request is assigned
# within the university it is filed with), which the planner, taking the two columns as
# independent, underestimated 75-fold at a million requests: it read all 6,384 requests of
# "assigned to me" and sorted them (18 ms) instead of walking ``qr_queue_reviewer`` for one
# page (1 ms, measured). The dependency statistics tell it so (migration 021).
POSTGRES_STATISTICS = (
    'CREATE STATISTICS IF NOT EXISTS "qr_reviewer_university" (dependencies) '
    'ON "reviewer_id", "university_id" FROM "qualification_request"',
)
SQLITE_INDEXES = (
    'CREATE INDEX IF NOT EXISTS "qr_queue_submitted" ON "qualification_request" '
    '("due_on", "last_submitted_at", "status") WHERE ("status" != \'draft\')',
    # the directorate's "days waiting" sort, for the same reason
    'CREATE INDEX IF NOT EXISTS "qr_waiting_submitted" ON "qualification_request" '
    '("last_submitted_at", "status") WHERE ("status" != \'draft\')',
)


OPEN_REQUEST = Prepared(
    lambda officer_id: (
        QualificationRequest.select()
        .where((QualificationRequest.officer == officer_id) & QualificationRequest.status.in_(FLOW.open_states))
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
    """The officer's own request with this id (with its university), or None.

    ``QualificationRequest.visible_to`` for an officer, prepared: it runs on every page
    of the officer's request."""
    return OWN_REQUEST.first(int(request_id), officer.id)


def start_request(officer, actor):
    """The officer's open request, or a new draft (one open request at a time)."""
    if not officer.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    if officer.is_qualified:
        raise DomainError(N_("You are already qualified."))
    existing = open_request(officer)
    if existing:
        return existing
    try:
        with db.atomic():
            return QualificationRequest.create(officer=officer, status=State.DRAFT.value)
    except IntegrityError:
        # A second tab created it a moment ago.
        return open_request(officer)


def can_change_documents(request, actor) -> bool:
    return request.status in (State.DRAFT, State.DEFICIENT) and is_owner(request, actor)


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


PROFILE_CHANGED = N_(
    "The reviewed information (name, place, field of study or degree) is no longer what this request was filed with; it cannot be decided this way. The officer may withdraw it and file a new one."  # noqa: E501  (one message id)
)


@FLOW.on(Action.SUBMIT)
def _on_submit(request, actor, note, **_):
    """The request goes to the university of the officer's city, with a snapshot."""
    _require_documents(request)
    officer = request.officer
    _require_eligible(officer.field_of_study_id, officer.degree_level_id)
    return {
        QualificationRequest.university: officer.reviewing_university(),
        QualificationRequest.city: officer.city_id,
        QualificationRequest.district: officer.district,
        QualificationRequest.field_of_study: officer.field_of_study_id,
        QualificationRequest.degree_level: officer.degree_level_id,
        QualificationRequest.first_name: officer.first_name,
        QualificationRequest.last_name: officer.last_name,
    }


@FLOW.on(Action.RESUBMIT)
def _on_resubmit(request, actor, note, **_):
    """The corrected file goes back to the same university: only the documents may have
    changed, never what routes it (the seed's note 3: a wrong place is a new request)."""
    _require_documents(request)
    _require_snapshot(request)
    _require_eligible(request.field_of_study_id, request.degree_level_id)


def _require_snapshot(request):
    if request.snapshot_differences(Officer.get_by_id(request.officer_id)):
        raise ConflictError(PROFILE_CHANGED, code="profile_changed")


def _require_eligible(field_of_study_id, degree_level_id):
    """The directorate may have switched a field or degree off since the officer chose it
    (read afresh: a row loaded earlier may say otherwise)."""
    field_of_study = FieldOfStudy.get_or_none(FieldOfStudy.id == field_of_study_id)
    degree_level = DegreeLevel.get_or_none(DegreeLevel.id == degree_level_id)
    if field_of_study is not None and not field_of_study.eligible:
        raise DomainError(
            N_("The field of study %(name)s is not accepted for technical officers under the current rules."),
            code="ineligible_field_of_study",
            name=field_of_study.name,
        )
    if degree_level is not None and not degree_level.eligible:
        raise DomainError(
            N_("The degree level %(name)s is not accepted for technical officers under the current rules."),
            code="ineligible_degree_level",
            name=degree_level.name,
        )


def _require_documents(request):
    missing = missing_documents(request)
    if missing:
        raise DomainError(
            N_("Upload the required documents first: %(kinds)s"),
            code="missing_documents",
            kinds="، ".join(k.name for k in missing),
        )


@FLOW.on(Action.APPROVE)
def _on_approve(request, actor, note, now, **_):
    """What is qualified is the snapshot the reviewer saw, still eligible today."""
    _require_snapshot(request)
    _require_eligible(request.field_of_study_id, request.degree_level_id)
    return {QualificationRequest.qualification_number: qualification_number_for(request, now)}


def qualification_number_for(request, now=None) -> str:
    """A random qualification number with a check digit (see :mod:`models.numbers`)."""
    return issue_qualification_number(now)


@FLOW.on("after_" + Action.APPROVE)
def _after_approve(request, actor, note, **_):
    """The officer is qualified: the number, the date, and the university holding the file."""
    updated = (
        Officer.update(
            qualified_at=request.decided_at,
            qualification_number=request.qualification_number,
            verification_token=new_public_token(),
            university=request.university_id,
        )
        .where((Officer.id == request.officer_id) & Officer.qualified_at.is_null())
        .execute()
    )
    if updated != 1:
        raise ConflictError(N_("This officer is already qualified."))
