"""The cartable as a work queue: its tabs, their counts, the next request, and the
reviewer's decision checked whole.

Every tab is a clause over the rows :meth:`ReviewedRequest.visible_to` already lets the
actor see, so a tab can never show more than the review pages would. A tab is derived
from the type's flow (its waiting, open and reviewer states), never from a list of
states written here:

* ``mine``      waiting on the university and free or bound to this reviewer (the
                directorate: everything waiting on a university);
* ``applicant`` with the university but waiting on the applicant (a deficiency);
* ``overdue``   waiting on the university past its due date;
* ``decided``   closed (approved, rejected, active, ended);
* ``all``       everything the actor may see but drafts (reviewers never see a draft or
                an unanswered nomination anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL, Case, Select, fn

from .base import N_, DomainError, utcnow
from .officer_rules import ValidationFailed
from .request_types import REVIEWED_TYPES
from .vocabulary import Action, State

DEFAULT_TAB = "mine"


@dataclass(frozen=True)
class Tab:
    code: str
    label: str


TABS = (
    Tab("mine", N_("Needs my decision")),
    Tab("applicant", N_("Waiting for the applicant")),
    Tab("overdue", N_("Overdue requests")),
    Tab("decided", N_("Decided requests")),
    Tab("all", N_("All requests")),
)
TAB_CODES = tuple(tab.code for tab in TABS)


def tab_code(value) -> str:
    """A tab code from a query string; anything unknown is the default tab."""
    return value if value in TAB_CODES else DEFAULT_TAB


def _in(column, states):
    states = tuple(states)
    if not states:
        # No state (a cooperation never waits on its applicant with the university): the
        # empty state, which no request has, is an empty range of the state's indexes, where
        # "1 = 0" (or IS NULL of a NOT NULL column) is planned as a walk of a whole index (issue 23).
        return column == ""
    return column.in_(states)


def tab_clause(model, tab: str, actor):
    """The WHERE clause of ``tab`` for ``actor`` (to be and-ed with ``visible_to``)."""
    flow = model.FLOW
    if tab == "mine":
        clause = _in(model.status, flow.waiting_states)
        if actor is not None and actor.is_reviewer:
            clause &= model.reviewer.is_null() | (model.reviewer == actor.id)
        return clause
    if tab == "applicant":
        return _in(
            model.status, [s for s in flow.open_states if s in flow.reviewer_states and s not in flow.waiting_states]
        )
    if tab == "overdue":
        return _in(model.status, flow.waiting_states) & (model.due_on < utcnow().date())
    if tab == "decided":
        decided = [s for s in flow.reviewer_states if s not in flow.open_states]
        # Written as "none of the other states": the same rows, but a list in queue order then
        # walks the queue index and stops after its page, where an IN of several states would
        # read every decided request (most of the table) and sort them (issue 23). And without
        # a due date, which only a request waiting on the university has (``sla.clock_changes``
        # clears it when the wait ends): the walk starts where the undated requests start
        # (PostgreSQL sorts them last: it read every waiting request first, 65 ms at 1M).
        # "Not a draft" once more, on its own: SQLite then reads the queue index without the
        # drafts (migration 020) instead of walking past them at the undated end.
        return (
            (model.status != State.DRAFT)
            & model.status.not_in([s for s in flow.states if s not in decided])
            & model.due_on.is_null()
        )
    # Everything the actor may see but drafts (the directorate's nominations included).
    return model.status != State.DRAFT


def tab_query(model, actor, tab: str, query=None):
    """``query`` narrowed to what ``actor`` may see and then to ``tab``."""
    return model.visible_to(actor, query).where(tab_clause(model, tab_code(tab), actor))


def tab_counts(model, actor, cap: int | None = None) -> dict:
    """``{tab code: number of rows}`` for ``actor``. With ``cap``, a tab stops counting at
    ``cap + 1`` rows (shown as "cap+"), so that a tab of a million decided requests costs
    no more than the list page's own capped count; without, one aggregate query."""
    if cap is None:
        columns = [fn.COALESCE(fn.SUM(Case(None, [(tab_clause(model, tab.code, actor), 1)], 0)), 0) for tab in TABS]
        row = model.visible_to(actor, model.select(*columns)).tuples().first()
        return {tab.code: int(value or 0) for tab, value in zip(TABS, row or [0] * len(TABS), strict=True)}
    counts = {}
    for tab in TABS:
        rows = tab_query(model, actor, tab.code, model.select(SQL("1"))).limit(cap + 1)
        counts[tab.code] = Select(from_list=[rows.alias("capped")], columns=[fn.COUNT(SQL("*"))]).scalar(
            model._meta.database
        )
    return counts


def queue_order(model):
    """The order of a work queue: the nearest due date first, then the longest waiting."""
    return (model.due_on.asc(nulls="LAST"), model.last_submitted_at.asc(nulls="LAST"), model.id.asc())


def next_request(model, actor, tab: str, current_id: int):
    """The first request of ``tab`` in queue order other than ``current_id``, or None."""
    return (
        tab_query(model, actor, tab, model.select(model.id))
        .where(model.id != current_id)
        .order_by(*queue_order(model))
        .first()
    )


def is_resubmitted(request) -> bool:
    """Came back to the university after the applicant fixed a deficiency."""
    return (
        request.status in request.FLOW.waiting_states
        and request.last_submitted_at is not None
        and request.submitted_at is not None
        and request.last_submitted_at > request.submitted_at
    )


def applicant_requests(request, actor) -> list:
    """The applicant's other requests of every reviewed type that ``actor`` may see,
    newest first, as ``(type, request)``."""
    found = []
    for model in REVIEWED_TYPES:
        query = model.visible_to(actor).where(model.officer == request.officer_id)
        if model is type(request):
            query = query.where(model.id != request.id)
        found.extend((model, row) for row in query.order_by(model.created_at.desc()).limit(20))
    found.sort(key=lambda pair: pair[1].created_at, reverse=True)
    return found


# ------------------------------------------------------------------ the decision

NOTE_REQUIRED = N_("Write the reason; the applicant will read it.")
CHOOSE_DECISION = N_("Choose a decision.")
CHOOSE_REASON = N_("Choose the reason for rejection.")
CHOOSE_DEFICIENCY = N_("Choose the kind of deficiency.")

# The form field of each decision's standard reason.
REASON_FIELDS = {Action.REJECT.value: "reason", Action.DEFICIENCY.value: "deficiency_reason"}


def reasons_for(model, action: str) -> tuple:
    """The standard reasons a reviewer chooses from for ``action`` on a request of ``model``."""
    if action == Action.REJECT:
        return model.REJECT_REASONS
    if action == Action.DEFICIENCY:
        return model.DEFICIENCY_REASONS
    return ()


def decide(request, actor, decision: str, reasons: dict, note: str, decisions: tuple, expected_version=None):
    """Record the reviewer's ``decision`` (one of ``decisions``) with the reason chosen for
    it (``reasons``: form field -> code, only the fields the form sent) and the note; every mistake is reported at once
    (a ``ValidationFailed`` naming the fields ``decision``, ``reason``,
    ``deficiency_reason``, ``note``). ``expected_version`` is the request's version the
    page showed (a ConflictError when it has changed since). Returns the request as it now is."""
    errors = {}
    if decision not in decisions:
        errors["decision"] = (CHOOSE_DECISION, {})
        raise ValidationFailed(errors)
    reason = ""
    field = REASON_FIELDS.get(decision)
    if field and field not in reasons:
        # A client of the contract that sends no reason at all: "other", the note says why.
        reason = "other"
    elif field:
        # The form always sends its select, which starts on "choose": nothing is preselected.
        reason = (reasons.get(field) or "").strip()
        if reason not in dict(reasons_for(type(request), decision)):
            errors[field] = (CHOOSE_REASON if decision == Action.REJECT else CHOOSE_DEFICIENCY, {})
    note = (note or "").strip()
    transition = request.FLOW.transitions.get((request.status, decision))
    if transition is not None and transition.note_required and not note:
        errors["note"] = (NOTE_REQUIRED, {})
    if errors:
        raise ValidationFailed(errors)
    try:
        return request.apply(decision, actor, note=note, reason=reason, expected_version=expected_version)
    except ValidationFailed:
        raise
    except DomainError as error:
        if error.field == "note":
            raise ValidationFailed({"note": (error.msgid, error.params)}) from error
        raise
