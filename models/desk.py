"""What the officer's dashboard says is their next step: a nomination waiting for their
answer, the cooperation they are responsible for, and what a reviewer asked them to fix."""

from __future__ import annotations

from dataclasses import dataclass

from .cooperation import Cooperation, active_cooperation_of, with_branch_and_distributor
from .prepared import Prepared
from .qualification import QualificationRequest
from .review import RequestEvent
from .vocabulary import REASON_LABELS, Action, State


@dataclass(frozen=True)
class Deficiency:
    """The reviewer's last deficiency on a request: its note and its standard kind."""

    note: str
    reason: str

    @property
    def reason_label(self) -> str:
        """The untranslated label of the kind (the door translates it)."""
        return REASON_LABELS.get(self.reason, "")


def last_deficiency(request) -> Deficiency | None:
    """The deficiency a request is waiting to have fixed, or None."""
    if request is None or request.status != State.DEFICIENT:
        return None
    event = (
        RequestEvent.select(RequestEvent.note, RequestEvent.reason)
        .where(
            (RequestEvent.request_type == request.REQUEST_TYPE)
            & (RequestEvent.request_id == request.id)
            & (RequestEvent.action == Action.DEFICIENCY)
        )
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc())
        .first()
    )
    if event is None:
        return Deficiency(note=request.decision_note, reason="")
    return Deficiency(note=event.note or request.decision_note, reason=event.reason)


# Read on every officer's dashboard: compiled once (see Prepared).
_PENDING_NOMINATIONS = Prepared(
    lambda officer_id, pending: (
        with_branch_and_distributor()
        .where((Cooperation.officer == officer_id) & (Cooperation.status == pending))
        .order_by(Cooperation.created_at)
    )
)


def pending_nominations(officer) -> list:
    """Nominations waiting for the officer's answer, oldest first, with branch and distributor."""
    return list(_PENDING_NOMINATIONS.rows(officer.id, State.PENDING_OFFICER.value))


def next_steps(officer, current: QualificationRequest | None) -> dict:
    """Everything the dashboard's cards show besides the qualification's own state."""
    return {
        "nominations": pending_nominations(officer),
        "active_cooperation": active_cooperation_of(officer),
        "deficiency": last_deficiency(current),
    }
