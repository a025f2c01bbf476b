"""The review lifecycle, owned once for every reviewed request type.

A request type declares its table of transitions ``(state, action) -> (target, who)``
in a :class:`ReviewFlow`, with the notices each decision sends; the flow

* checks the actor (the ``who`` predicate) and the note,
* applies the standard effects of the action (a deficiency binds the reviewer and
  keeps the note; a decision stamps its time, note and reviewer; a submission stamps
  its time), then the type's own hook for what is really its own,
* moves the service-level clock (:mod:`models.sla`),
* writes the change with a conditional ``UPDATE ... WHERE status = <source>`` so two
  concurrent clicks cannot both win, and turns a unique-index violation (a race the
  checks could not see) into a :class:`ConflictError`,
* records the history event and the audit row, and sends the notices,

all in one transaction. Creation (a nomination, an edit request filed already
submitted) goes through the same table, from the state :data:`NEW`.

The flow also answers, from its table alone, which states a type uses and which of
them are open, waiting on a university, or visible to reviewers; the back office and
the officer pages ask it instead of listing states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import SQL, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, IntegrityError, TextField

from .accounts import StaffUser
from .base import N_, SYSTEM, BaseModel, ConflictError, DomainError, PermissionDenied, db, utcnow
from .notices import notify_officer, queue_sms
from .reference import DocumentKind, University
from .request_records import (  # noqa: F401  (re-exported: the flow's records, named from here too)
    CURRENT_DOCUMENTS,
    HISTORY,
    Document,
    RequestEvent,
    record_document,
    record_event,
)
from .sla import clock_changes
from .vocabulary import DEFICIENCY_REASONS, REASONED_ACTIONS, REJECT_REASONS, Action, State, reject_reason_code

# The source state of a creation transition: the request does not exist yet. Its
# first history event is recorded "from" this empty state.
NEW = ""

# No row at all, for an actor who may see nothing.
NOTHING = SQL("1 = 0")

CHANGED_MEANWHILE = N_("Someone else changed this request a moment ago; reload the page to see its state.")
STALE_PAGE = N_(
    "This request changed after you opened the page, so nothing was recorded. Reload the page, check what changed, and decide again."  # noqa: E501  (one message id)
)


class ReviewedRequest(BaseModel):
    """Fields and behaviour every reviewed request has. Not a table of its own.

    A type sets ``REQUEST_TYPE`` (the code stored in history events, documents and audit
    actions, and the back office's endpoint), ``TITLE`` (what a list of them is called),
    ``HAS_DOCUMENTS``, and its ``FLOW``; it is listed once in
    :data:`models.request_types.REVIEWED_TYPES`.
    """

    status = CharField(max_length=20, default=State.DRAFT.value, index=True)
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
    # Bumped by every transition and reassignment: a review page carries it, and a
    # decision made on a page older than the request changes nothing (issue 14).
    version = IntegerField(default=0)

    REQUEST_TYPE = ""
    TITLE = ""
    HAS_DOCUMENTS = False
    # The standard reasons a reviewer picks from, per decision (a type may have its own).
    REJECT_REASONS = REJECT_REASONS
    DEFICIENCY_REASONS = DEFICIENCY_REASONS
    FLOW: ReviewFlow | None = None

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
        """Perform ``action`` as ``actor`` (see :meth:`ReviewFlow.apply`)."""
        return self.FLOW.apply(self, action, actor, note=note, **kwargs)

    # ------------------------------------------------------------ who sees what

    @classmethod
    def applicant_clause(cls, actor):
        """The rows the actor owns as an applicant (an officer's own), or None."""
        return (cls.officer == actor.id) if actor.is_officer() else None

    def is_applicant(self, actor) -> bool:
        return actor.is_officer(self.officer_id)

    @classmethod
    def visible_to(cls, actor, query=None):
        """``query`` (every request of the type by default) narrowed to what ``actor``
        may see: the directorate everything; a reviewer their university's requests once
        they reached it (never a draft, never a nomination the officer has not accepted);
        an applicant their own; anyone else nothing."""
        query = cls.select() if query is None else query
        if actor is None:
            return query.where(NOTHING)
        if actor.is_directorate:
            return query
        if actor.is_reviewer:
            if actor.university_id is None:
                return query.where(NOTHING)
            clause = cls.university == actor.university_id
            hidden = [state for state in cls.FLOW.states if state not in cls.FLOW.reviewer_states]
            if len(hidden) == 1:
                clause &= cls.status != hidden[0]
            elif hidden:
                clause &= cls.status.not_in(hidden)
            never_reached = cls.never_reached_university_clause()
            if never_reached is not None:
                clause &= ~never_reached
            return query.where(clause)
        clause = cls.applicant_clause(actor)
        return query.where(clause if clause is not None else NOTHING)

    def can_see(self, actor) -> bool:
        """The predicate of :meth:`visible_to`, for a request already loaded."""
        if actor is None:
            return False
        if actor.is_directorate:
            return True
        if actor.is_reviewer:
            return (
                actor.university_id is not None
                and self.university_id == actor.university_id
                and self.status in self.FLOW.reviewer_states
                and not self.never_reached_university()
            )
        return self.is_applicant(actor)

    @classmethod
    def never_reached_university_clause(cls):
        """The rows in a reviewer-visible state that nevertheless never waited on the
        university (a nomination the officer declined), as a clause; None when a type
        has none. Reviewers never see them."""
        return None

    def never_reached_university(self) -> bool:
        """The predicate of :meth:`never_reached_university_clause`, for a loaded row."""
        return False

    @classmethod
    def find(cls, actor, request_id, query=None):
        """The request with this id if ``actor`` may see it, else None."""
        try:
            request_id = int(request_id)
        except (TypeError, ValueError):
            return None
        return cls.visible_to(actor, query).where(cls.id == request_id).first()

    # ------------------------------------------------------------ notices

    def message_params(self) -> dict:
        """The values the type's notices may name, besides ``id`` and ``note``."""
        return {}

    def text_recipient(self) -> str:
        """The mobile number the flow's ``texts`` (SMS) go to: a type whose flow has texts
        says whose (the flow refuses texts otherwise)."""
        return ""


# Who may perform a transition; each takes (request, actor).
def is_owner(request, actor) -> bool:
    """The officer the request belongs to."""
    return actor.is_officer(request.officer_id)


def is_reviewer_of(request, actor) -> bool:
    """A reviewer of the request's university; bound requests only to their reviewer."""
    if not actor.is_reviewer:
        return False
    if request.university_id is None or actor.university_id != request.university_id:
        return False
    return request.reviewer_id is None or request.reviewer_id == actor.id


def is_directorate(request, actor) -> bool:
    """Directorate staff (who may cancel any open request, with a reason)."""
    return actor.is_directorate


def is_system(request, actor) -> bool:
    """The clock (``flask tick``), never a person."""
    return actor == SYSTEM


@dataclass(frozen=True)
class Transition:
    target: State
    who: Callable[[ReviewedRequest, object], bool]
    note_required: bool = False


def review_transitions() -> dict:
    """The review loop shared by qualification and edit requests: a reviewer of the
    request's university approves, rejects or declares deficiencies (with a note); the
    applicant fixes and resubmits to the same reviewer."""
    return {
        (State.SUBMITTED, Action.APPROVE): Transition(State.APPROVED, is_reviewer_of),
        (State.SUBMITTED, Action.REJECT): Transition(State.REJECTED, is_reviewer_of, note_required=True),
        (State.SUBMITTED, Action.DEFICIENCY): Transition(State.DEFICIENT, is_reviewer_of, note_required=True),
        (State.DEFICIENT, Action.RESUBMIT): Transition(State.SUBMITTED, is_owner),
        # The applicant takes the request back (to change what is frozen under review).
        (State.SUBMITTED, Action.WITHDRAW): Transition(State.WITHDRAWN, is_owner),
        (State.DEFICIENT, Action.WITHDRAW): Transition(State.WITHDRAWN, is_owner),
    }


def _submission(model, request, actor, note, now, reason):
    return {model.submitted_at: now, model.last_submitted_at: now}


def _resubmission(model, request, actor, note, now, reason):
    return {model.last_submitted_at: now, model.applicant_comment: note}


def _deficiency(model, request, actor, note, now, reason):
    # Bind the request to this reviewer: the corrected file comes back to them.
    return {model.reviewer: actor.id, model.decision_note: note}


def _decision(model, request, actor, note, now, reason):
    return {model.decided_at: now, model.decision_note: note, model.reviewer: request.reviewer_id or actor.id}


def _rejection(model, request, actor, note, now, reason):
    changes = _decision(model, request, actor, note, now, reason)
    changes[model.reject_reason] = reject_reason_code(reason)
    return changes


# What every type's request records for an action before its own hook adds the rest.
STANDARD_EFFECTS = {
    Action.SUBMIT: _submission,
    Action.NOMINATE: _submission,
    Action.RESUBMIT: _resubmission,
    Action.DEFICIENCY: _deficiency,
    Action.APPROVE: _decision,
    Action.REJECT: _rejection,
}


# What the officer reads when the directorate cancels one of their requests (a type may
# say it otherwise in its ``messages``).
CANCEL_MESSAGE = (
    N_("A request was cancelled"),
    N_("The directorate cancelled your request #%(id)s. Reason: %(note)s"),
)


class ReviewFlow:
    """Applies a table of transitions to one request type (and binds itself to it).

    Every open state but a draft gets a way out without being declared: the directorate
    may ``cancel`` the request from it, with a reason (state ``cancelled``).

    ``messages`` maps an action to the ``(subject, body)`` message ids of the notice the
    officer gets in their inbox (and by SMS); ``texts`` maps an action to the message id
    of an SMS to the request's :meth:`~ReviewedRequest.text_recipient`. The ids may name
    ``%(id)s``, ``%(note)s`` and the type's :meth:`~ReviewedRequest.message_params`.
    ``conflict_message`` is what a unique-index race is reported as. ``officer_sms``, when
    given, is the SMS the officer gets instead of the notice's body (for a type whose
    notices carry text someone else chose, such as a branch name).
    """

    def __init__(
        self,
        model,
        transitions: dict[tuple[str, str], Transition],
        *,
        messages: dict | None = None,
        texts: dict | None = None,
        conflict_message: str = CHANGED_MEANWHILE,
        officer_sms: str | None = None,
    ):
        self.model = model
        self.request_type = model.REQUEST_TYPE
        self.transitions = dict(transitions)
        self.messages = dict(messages or {})
        self.texts = texts or {}
        self.conflict_message = conflict_message
        self.officer_sms = officer_sms
        self.hooks = {}
        model.FLOW = self
        # Open: not decided yet, an approval can still come. The directorate may cancel it.
        # (Not a draft: that is the applicant's own, never seen by a reviewer.)
        for state in self._open_states(transitions):
            if state not in (NEW, State.DRAFT):
                self.transitions.setdefault(
                    (state, Action.CANCEL), Transition(State.CANCELLED, is_directorate, note_required=True)
                )
        if any(action == Action.CANCEL for _state, action in self.transitions):
            self.messages.setdefault(Action.CANCEL, CANCEL_MESSAGE)
        transitions = self.transitions
        used = {state for (source, _action), t in transitions.items() for state in (source, t.target)}
        # Every state the type's requests can be in, in lifecycle order.
        self.states = tuple(state for state in State if state in used)
        self.actions = tuple(dict.fromkeys(action for _state, action in transitions))
        # Waiting on a university: a reviewer acts next (the service-level clock runs).
        self.waiting_states = tuple(
            state
            for state in self.states
            if any(source == state and t.who is is_reviewer_of for (source, _a), t in transitions.items())
        )
        self.open_states = tuple(state for state in self.states if state in self._open_states(transitions))
        # Seen by reviewers: from the moment the request first waits on the university.
        self.reviewer_states = tuple(
            state for state in self.states if state in self._reachable_from(self.waiting_states)
        )
        # With the university and not decided: what the directorate may reassign.
        self.reassignable_states = tuple(s for s in self.open_states if s in self.reviewer_states)
        unknown = (set(self.messages) | set(self.texts)) - set(self.actions)
        if unknown:
            raise ValueError(f"{model.__name__}: notices for actions it has not: {sorted(unknown)}")
        if self.texts and model.text_recipient is ReviewedRequest.text_recipient:
            raise ValueError(f"{model.__name__} has texts but does not say who receives them")

    def _open_states(self, transitions) -> set:
        sources = {source for source, _action in transitions}
        return {state for state in sources if Action.APPROVE in self._actions_reachable_from(state, transitions)}

    def _reachable_from(self, starts, transitions=None) -> set:
        transitions = self.transitions if transitions is None else transitions
        seen, todo = set(starts), list(starts)
        while todo:
            state = todo.pop()
            for (source, _action), t in transitions.items():
                if source == state and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        return seen

    def _actions_reachable_from(self, state, transitions=None) -> set:
        transitions = self.transitions if transitions is None else transitions
        reachable = self._reachable_from([state], transitions)
        return {action for (source, action) in transitions if source in reachable}

    def on(self, action):
        """Register the type's own hook: ``on("approve")`` runs before the update (with
        ``now``, the time the standard effects stamped) and returns more changes;
        ``on("after_approve")`` runs after it, in the same transaction."""

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

    def check(self, request, action, actor, source=None) -> Transition:
        transition = self.transitions.get((request.status if source is None else source, action))
        if transition is None:
            raise ConflictError(N_("This action is not possible in the request's current state."))
        if not transition.who(request, actor):
            raise PermissionDenied(N_("You may not do this on this request."))
        return transition

    def apply(self, request, action: str, actor, note: str = "", expected_version=None, **kwargs):
        """Perform ``action``; raise DomainError subclasses when it is refused, leaving the
        database (and ``request``) as they were.

        ``expected_version`` is the version the actor's page showed: when the request
        has changed since (another decision, a resubmission, a reassignment), nothing is
        done and a ConflictError says so. Without it the version of ``request`` as
        loaded is what the update is bound to."""
        note = _bounded_note(note)
        if expected_version is not None and _as_version(expected_version) != (request.version or 0):
            raise ConflictError(STALE_PAGE, code="stale_page")
        transition = self._checked(request, action, actor, note, None)
        model = type(request)
        source = request.status
        now = utcnow()
        changes = {}
        before = {}
        try:
            with db.atomic():
                try:
                    changes = self._changes(request, action, transition, actor, note, now, source, kwargs)
                    updated = (
                        model.update(changes)
                        .where(
                            (model.id == request.id)
                            & (model.status == source)
                            & (model.version == (request.version or 0))
                            & same_reviewer(model, request)
                        )
                        .execute()
                    )
                    if updated != 1:
                        raise ConflictError(STALE_PAGE if expected_version is not None else CHANGED_MEANWHILE)
                    before = {field.name: getattr(request, field.name) for field in changes}
                    for field, value in changes.items():
                        setattr(request, field.name, value)
                    self._record(request, action, source, transition.target, actor, note, kwargs)
                except IntegrityError:
                    raise ConflictError(self.conflict_message) from None
        except Exception:
            # The transaction rolled back: so does the object the caller holds.
            for name, value in before.items():
                setattr(request, name, value)
            raise
        return request

    def create(self, request, action: str, actor, note: str = "", conflict: DomainError | None = None, **kwargs):
        """Insert ``request`` (unsaved, its own fields set) through the creation transition
        ``(NEW, action)``; a unique-index violation raises ``conflict`` (by default a
        ConflictError with the flow's message)."""
        note = _bounded_note(note)
        transition = self._checked(request, action, actor, note, NEW)
        now = utcnow()
        with db.atomic():
            try:
                changes = self._changes(request, action, transition, actor, note, now, NEW, kwargs)
                for field, value in changes.items():
                    setattr(request, field.name, value)
                request.save(force_insert=True)
                self._record(request, action, NEW, transition.target, actor, note, kwargs)
            except IntegrityError:
                raise (conflict or ConflictError(self.conflict_message)) from None
        return request

    def _checked(self, request, action, actor, note, source) -> Transition:
        transition = self.check(request, action, actor, source)
        if transition.note_required and not note:
            raise DomainError(N_("Write the reason; the applicant will read it."), field="note")
        return transition

    def _changes(self, request, action, transition, actor, note, now, source, kwargs) -> dict:
        model = type(request)
        changes = {model.status: transition.target.value, model.version: (request.version or 0) + 1}
        standard = STANDARD_EFFECTS.get(action)
        if standard is not None:
            changes.update(standard(model, request, actor, note, now, kwargs.get("reason", "")))
        hook = self.hooks.get(action)
        if hook is not None:
            changes.update(hook(request, actor, note, now=now, **kwargs) or {})
        changes.update(clock_changes(request, source, transition.target, now, self.waiting_states))
        return changes

    def _record(self, request, action, source, target, actor, note, kwargs):
        record_event(
            request,
            action,
            source,
            target,
            actor,
            note,
            reason=kwargs.get("reason", "") if action in REASONED_ACTIONS else "",
        )
        after = self.hooks.get("after_" + action)
        if after is not None:
            after(request, actor, note, **kwargs)
        self._send(request, action, note)

    def _send(self, request, action, note):
        if action not in self.messages and action not in self.texts:
            return
        # The messages put their own full stop after the note: "..." never reaches the officer.
        params = dict(request.message_params(), id=request.id, note=note.rstrip().rstrip(".").rstrip())
        if action in self.messages:
            subject, body = self.messages[action]
            notify_officer(request.officer, subject, body, sms_text=self.officer_sms, about=request, **params)
        if action in self.texts:
            queue_sms(request.text_recipient(), self.texts[action], **params)


MAX_NOTE_LENGTH = 2000


def _bounded_note(note) -> str:
    """A decision's note or an applicant's comment, refused past 2000 characters (every
    door: an unbounded text field is free storage for anyone, finding L8)."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise DomainError(N_("Write at most %(max)d characters."), field="note", max=MAX_NOTE_LENGTH)
    return note


def _as_version(value) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return -1


def same_reviewer(model, request):
    # Guards against a reassignment landing between the page load and the decision.
    if request.reviewer_id is None:
        return model.reviewer.is_null()
    return model.reviewer == request.reviewer_id
