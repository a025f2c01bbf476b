"""The review vocabulary shared by qualification, edit and cooperation requests.

A request type declares a table of transitions ``(state, action) -> (target,
who)``; :class:`ReviewFlow` checks the actor, applies the change with a
conditional UPDATE (so two concurrent clicks cannot both win), and writes the
history event in the same transaction. Types add their side effects in hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .accounts import Officer, StaffUser, audit
from .base import N_, NP_, BaseModel, ConflictError, DomainError, PermissionDenied, Prepared, db, utcnow
from .oversight import clock_changes
from .reference import DocumentKind, University

# Short state names, translated with pgettext("status", ...) by the views.
STATUS_LABELS = {
    "draft": NP_("status", "draft"),
    "submitted": NP_("status", "submitted"),
    "deficient": NP_("status", "deficient"),
    "approved": NP_("status", "approved"),
    "rejected": NP_("status", "rejected"),
    "pending_officer": NP_("status", "pending_officer"),
    "pending_university": NP_("status", "pending_university"),
    "active": NP_("status", "active"),
    "ended": NP_("status", "ended"),
    "finalized": NP_("status", "finalized"),
    "withdrawn": NP_("status", "withdrawn"),
    "read": NP_("status", "read"),
    "unread": NP_("status", "unread"),
}

# What each action is called in a request's history.
ACTION_LABELS = {
    "submit": N_("submitted the request"),
    "resubmit": N_("resubmitted after fixing"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "deficiency": N_("declared deficiencies"),
    "reassign": N_("reassigned"),
    "officer_approve": N_("accepted the cooperation"),
    "officer_reject": N_("refused the cooperation"),
    "nominate": N_("nominated the officer"),
    "finalize": N_("finalized"),
    "cancel": N_("cancelled"),
}
OPEN_STATES = ("draft", "submitted", "deficient")

# Standard reasons offered to a reviewer who rejects; the first is the seed's note 3.
REJECT_REASONS = (
    (
        "wrong_province",
        N_("The province or city of residence was chosen wrongly; file a new request with the right one."),
    ),
    ("ineligible", N_("The field of study or degree does not qualify for this role.")),
    ("documents_invalid", N_("The documents are not valid or do not belong to the applicant.")),
    ("other", N_("Other reason (explained in the note).")),
)


# Standard deficiency reasons: the reviewer picks one and explains in the note.
DEFICIENCY_REASONS = (
    ("illegible_document", N_("A document is illegible or incomplete.")),
    ("missing_document", N_("A required document is missing.")),
    ("mismatch", N_("The documents do not match the profile (name, field or degree).")),
    ("photo", N_("The photo does not meet the requirements.")),
    ("other", N_("Other (explained in the note).")),
)
REASON_LABELS = dict(REJECT_REASONS + DEFICIENCY_REASONS)


class RequestEvent(BaseModel):
    """One line of a request's history: who did what, when, from which state to which."""

    request_type = CharField(max_length=20)
    request_id = IntegerField()
    action = CharField(max_length=30)
    from_status = CharField(max_length=20, default="")
    to_status = CharField(max_length=20, default="")
    actor_kind = CharField(max_length=12)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=120, default="")
    note = TextField(default="")
    # A standard reason code (rejections and deficiencies), counted by the dashboards.
    reason = CharField(max_length=30, default="")
    university_id = IntegerField(null=True, index=True)
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "request_event"
        indexes = ((("request_type", "request_id", "at"), False),)


class Document(BaseModel):
    """An uploaded file attached to a request; replaced documents stay, marked superseded."""

    officer = ForeignKeyField(Officer, backref="documents", on_delete="RESTRICT", index=True)
    request_type = CharField(max_length=20)
    request_id = IntegerField()
    kind = ForeignKeyField(DocumentKind, on_delete="RESTRICT")
    storage_name = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    uploaded_at = DateTimeField(default=utcnow)
    superseded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("request_type", "request_id"), False),)


class ReviewedRequest(BaseModel):
    """Fields every reviewed request has. Not a table of its own."""

    status = CharField(max_length=20, default="draft", index=True)
    university = ForeignKeyField(University, null=True, backref="+", on_delete="RESTRICT", index=True)
    # The reviewer the request is bound to: set when one declares a deficiency,
    # so the corrected file comes back to them and not to the pool.
    reviewer = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="RESTRICT", index=True)
    created_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True, index=True)
    last_submitted_at = DateTimeField(null=True)
    decided_at = DateTimeField(null=True)
    decision_note = TextField(default="")
    reject_reason = CharField(max_length=30, default="")
    applicant_comment = TextField(default="")
    # The service-level clock: working days already used, and the date a decision is due.
    clock_used_days = IntegerField(default=0)
    due_on = DateField(null=True, index=True)

    REQUEST_TYPE = ""
    FLOW = None

    def history(self):
        """The request's events, oldest first."""
        return HISTORY.rows(self.REQUEST_TYPE, self.id)

    def current_documents(self):
        """The documents in force, each with its kind, in the kinds' order."""
        return CURRENT_DOCUMENTS.rows(self.REQUEST_TYPE, self.id)

    def all_documents(self):
        return (
            Document.select(Document, DocumentKind)
            .join(DocumentKind)
            .where((Document.request_type == self.REQUEST_TYPE) & (Document.request_id == self.id))
            .order_by(Document.uploaded_at)
        )

    def allowed_actions(self, actor) -> list[str]:
        return self.FLOW.allowed_actions(self, actor)

    def apply(self, action: str, actor, note: str = "", **kwargs):
        return self.FLOW.apply(self, action, actor, note=note, **kwargs)


# Who may perform a transition; each takes (request, actor).
def is_owner(request, actor) -> bool:
    return actor.kind == "officer" and actor.id == request.officer_id


def is_reviewer_of(request, actor) -> bool:
    """A reviewer of the request's university; bound requests only to their reviewer."""
    if not (actor.kind == "staff" and actor.role == "university"):
        return False
    if request.university_id is None or actor.university_id != request.university_id:
        return False
    return request.reviewer_id is None or request.reviewer_id == actor.id


def can_see_request(request, actor) -> bool:
    """Read access: the owner, the directorate, any reviewer of the request's university."""
    if actor.kind == "staff":
        return actor.role == "directorate" or (
            actor.university_id is not None and actor.university_id == request.university_id
        )
    return is_owner(request, actor)


@dataclass(frozen=True)
class Transition:
    target: str
    who: callable
    note_required: bool = False


def review_transitions() -> dict:
    """The review loop shared by qualification and edit requests: a reviewer of the
    request's university approves, rejects or declares deficiencies (with a note); the
    applicant fixes and resubmits to the same reviewer."""
    return {
        ("submitted", "approve"): Transition("approved", is_reviewer_of),
        ("submitted", "reject"): Transition("rejected", is_reviewer_of, note_required=True),
        ("submitted", "deficiency"): Transition("deficient", is_reviewer_of, note_required=True),
        ("deficient", "resubmit"): Transition("submitted", is_owner),
    }


class ReviewFlow:
    """Applies a table of transitions to one request type."""

    def __init__(self, request_type: str, transitions: dict[tuple[str, str], Transition]):
        self.request_type = request_type
        self.transitions = transitions
        self.hooks = {}

    def on(self, action):
        def register(function):
            self.hooks[action] = function
            return function

        return register

    def allowed_actions(self, request, actor) -> list[str]:
        return [
            action
            for (state, action), t in self.transitions.items()
            if state == request.status and t.who(request, actor)
        ]

    def check(self, request, action, actor) -> Transition:
        transition = self.transitions.get((request.status, action))
        if transition is None:
            raise ConflictError(N_("This action is not possible in the request's current state."))
        if not transition.who(request, actor):
            raise PermissionDenied(N_("You may not do this on this request."))
        return transition

    def apply(self, request, action: str, actor, note: str = "", **kwargs):
        """Perform ``action``; raise DomainError subclasses when it is refused."""
        note = (note or "").strip()
        transition = self.check(request, action, actor)
        if transition.note_required and not note:
            raise DomainError(N_("Write the reason; the applicant will read it."), field="note")
        model = type(request)
        source = request.status
        with db.atomic():
            changes = {model.status: transition.target}
            hook = self.hooks.get(action)
            extra = hook(request, actor, note, **kwargs) if hook else {}
            changes.update(extra or {})
            changes.update(clock_changes(request, source, transition.target, utcnow()))
            updated = (
                model.update(changes)
                .where((model.id == request.id) & (model.status == source) & _same_reviewer(model, request))
                .execute()
            )
            if updated != 1:
                raise ConflictError(
                    N_("Someone else changed this request a moment ago; reload the page to see its state.")
                )
            for field, value in changes.items():
                setattr(request, field.name, value)
            record_event(
                request,
                action,
                source,
                transition.target,
                actor,
                note,
                reason=kwargs.get("reason", "") if action in ("reject", "deficiency") else "",
            )
            after = self.hooks.get("after_" + action)
            if after:
                after(request, actor, note, **kwargs)
        return request


def _same_reviewer(model, request):
    # Guards against a reassignment landing between the page load and the decision.
    if request.reviewer_id is None:
        return model.reviewer.is_null()
    return model.reviewer == request.reviewer_id


def record_document(request, kind_code: str, stored) -> Document:
    """Attach a stored file to a request as its document of a kind; the previous one of
    that kind stays, marked superseded."""
    kind = DocumentKind.get_or_none(DocumentKind.code == kind_code)
    if kind is None:
        raise DomainError(N_("Unknown document kind."))
    with db.atomic():
        (
            Document.update(superseded_at=utcnow())
            .where(
                (Document.request_type == request.REQUEST_TYPE)
                & (Document.request_id == request.id)
                & (Document.kind == kind)
                & Document.superseded_at.is_null()
            )
            .execute()
        )
        return Document.create(
            officer=request.officer_id,
            request_type=request.REQUEST_TYPE,
            request_id=request.id,
            kind=kind,
            storage_name=stored.storage_name,
            display_name=stored.display_name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
        )


def record_event(request, action, source, target, actor, note="", reason=""):
    RequestEvent.create(
        request_type=request.REQUEST_TYPE,
        request_id=request.id,
        action=action,
        from_status=source,
        to_status=target,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=(actor.name or "")[:120],
        note=note,
        reason=reason or "",
        university_id=request.university_id,
    )
    audit(actor, f"{request.REQUEST_TYPE}_{action}", request, detail=note[:200], object_type=request.REQUEST_TYPE)


def reassign(request, actor, university=None, reviewer=None, note: str = ""):
    """The directorate moves a pending request to another university and/or reviewer."""
    if not actor.is_directorate:
        raise PermissionDenied(N_("Only the directorate can reassign requests."))
    if request.status not in ("submitted", "deficient", "pending_university"):
        raise ConflictError(N_("Only a request waiting for review can be reassigned."))
    university = university or request.university
    if reviewer is not None and (reviewer.role != "university" or reviewer.university_id != university.id):
        raise DomainError(N_("The reviewer must belong to the chosen university."), field="reviewer")
    model = type(request)
    with db.atomic():
        updated = (
            model.update(university=university, reviewer=reviewer)
            .where((model.id == request.id) & (model.status == request.status) & _same_reviewer(model, request))
            .execute()
        )
        if updated != 1:
            raise ConflictError(N_("Someone else changed this request a moment ago; reload the page to see its state."))
        request.university, request.reviewer = university, reviewer
        detail = f"{university.name}" + (f" / {reviewer}" if reviewer else "")
        record_event(request, "reassign", request.status, request.status, actor, (note + " " + detail).strip())
    return request


# Read on every request page: compiled once (see Prepared).
HISTORY = Prepared(
    lambda request_type, request_id: (
        RequestEvent.select()
        .where((RequestEvent.request_type == request_type) & (RequestEvent.request_id == request_id))
        .order_by(RequestEvent.at, RequestEvent.id)
    )
)
CURRENT_DOCUMENTS = Prepared(
    lambda request_type, request_id: (
        Document.select(Document, DocumentKind)
        .join(DocumentKind)
        .where(
            (Document.request_type == request_type)
            & (Document.request_id == request_id)
            & Document.superseded_at.is_null()
        )
        .order_by(DocumentKind.sort_order)
    )
)
