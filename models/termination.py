"""The officer ends an active cooperation: a termination request, written as a draft
(:func:`save_termination`) and effective when finalized (:func:`finalize_termination`,
the cooperation's ``terminate`` action). It is not reviewed."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from .accounts import Officer
from .audit import audit
from .base import N_, BaseModel, ConflictError, DomainError, PermissionDenied, db, utcnow
from .cooperation import Cooperation, active_cooperation_of
from .review import NOTHING
from .vocabulary import Action, State


class TerminationRequest(BaseModel):
    """The officer's request to end an active cooperation; no review, it takes effect when finalized."""

    STATES = (State.DRAFT, State.FINALIZED)

    officer = ForeignKeyField(Officer, backref="terminations", on_delete="RESTRICT", index=True)
    cooperation = ForeignKeyField(Cooperation, backref="terminations", on_delete="RESTRICT")
    reason = TextField()
    status = CharField(max_length=12, default=State.DRAFT.value)
    created_at = DateTimeField(default=utcnow)
    finalized_at = DateTimeField(null=True)

    class Meta:
        table_name = "termination_request"

    def can_manage(self, actor) -> bool:
        """Only the officer who wrote it may change or finalize it."""
        return actor.is_officer(self.officer_id)

    @classmethod
    def visible_to(cls, actor, query=None):
        """An officer's own termination requests; all of them for the directorate."""
        query = cls.select() if query is None else query
        if actor is not None and actor.is_directorate:
            return query
        if actor is not None and actor.is_officer():
            return query.where(cls.officer == actor.id)
        return query.where(NOTHING)


TerminationRequest.add_index(
    TerminationRequest.index(
        TerminationRequest.cooperation,
        unique=True,
        where=TerminationRequest.status == State.DRAFT,
        name="termination_one_draft_per_cooperation",
    )
)


def save_termination(officer, actor, reason: str) -> TerminationRequest:
    """Write (or rewrite) the officer's draft request to end their active cooperation."""
    if not officer.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(N_("Write why you end the cooperation."), field="reason")
    cooperation = active_cooperation_of(officer)
    if cooperation is None:
        raise ConflictError(N_("You have no active cooperation to end."))
    existing = TerminationRequest.get_or_none(
        (TerminationRequest.cooperation == cooperation.id) & (TerminationRequest.status == State.DRAFT)
    )
    with db.atomic():
        if existing:
            TerminationRequest.update(reason=reason).where(TerminationRequest.id == existing.id).execute()
            existing.reason = reason
            return existing
        return TerminationRequest.create(officer=officer, cooperation=cooperation, reason=reason)


def finalize_termination(termination, actor) -> TerminationRequest:
    """End the cooperation now: in one transaction the branch loses its officer and
    the distributor's manager gets an SMS."""
    if not termination.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    with db.atomic():
        updated = (
            TerminationRequest.update(status=State.FINALIZED.value, finalized_at=utcnow())
            .where((TerminationRequest.id == termination.id) & (TerminationRequest.status == State.DRAFT))
            .execute()
        )
        if updated != 1:
            raise ConflictError(N_("This request was already finalized."))
        Cooperation.get_by_id(termination.cooperation_id).apply(Action.TERMINATE, actor, note=termination.reason)
        audit(actor, "termination_finalized", termination)
    termination.status = State.FINALIZED.value
    return termination
