"""The review vocabulary: every state a request can be in, every action its history
records, the standard reasons, and their labels, each declared once.

A state or an action is a :class:`~enum.StrEnum` member, so it is stored and compared
as the plain code (``"submitted"``) while its label travels with it. Which states a
given request type uses, and which of them are open or waiting on a university, is
derived from that type's table of transitions (:class:`models.review.ReviewFlow`).
"""

from __future__ import annotations

from enum import StrEnum

from .base import N_, NP_


class _Labelled(StrEnum):
    """A code with its (untranslated) label: ``State.DRAFT.label``."""

    def __new__(cls, code: str, label: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member


class State(_Labelled):
    """Where a request stands. Declared in lifecycle order, the order every list of
    states (the back office's filters) follows. Short labels are translated with
    ``pgettext("status", ...)``."""

    DRAFT = "draft", NP_("status", "draft")
    PENDING_OFFICER = "pending_officer", NP_("status", "pending_officer")
    SUBMITTED = "submitted", NP_("status", "submitted")
    PENDING_UNIVERSITY = "pending_university", NP_("status", "pending_university")
    DEFICIENT = "deficient", NP_("status", "deficient")
    APPROVED = "approved", NP_("status", "approved")
    ACTIVE = "active", NP_("status", "active")
    ENDED = "ended", NP_("status", "ended")
    REJECTED = "rejected", NP_("status", "rejected")
    # A termination request's only states besides draft (it is not reviewed).
    FINALIZED = "finalized", NP_("status", "finalized")


class ReadState(_Labelled):
    """Whether an officer has opened a notice of their inbox (shown as a badge)."""

    READ = "read", NP_("status", "read")
    UNREAD = "unread", NP_("status", "unread")


class Action(_Labelled):
    """What a line of a request's history says was done (``RequestEvent.action``)."""

    NOMINATE = "nominate", N_("nominated the officer")
    SUBMIT = "submit", N_("submitted the request")
    OFFICER_APPROVE = "officer_approve", N_("accepted the cooperation")
    OFFICER_REJECT = "officer_reject", N_("refused the cooperation")
    DEFICIENCY = "deficiency", N_("declared deficiencies")
    RESUBMIT = "resubmit", N_("resubmitted after fixing")
    APPROVE = "approve", N_("approved")
    REJECT = "reject", N_("rejected")
    REASSIGN = "reassign", N_("reassigned")
    RELEASE = "release", N_("released the officer")
    TERMINATE = "terminate", N_("ended the cooperation")
    # The directorate deactivated the officer or suspended or revoked the qualification.
    DIRECTORATE_END = "directorate_end", N_("ended by the directorate")
    # The cooperation a newly approved officer replaced at its branch.
    REPLACE = "replace", N_("ended: another officer was approved for the branch")
    # A contract of the old system, imported as an active cooperation.
    LEGACY_IMPORT = "legacy_import", N_("imported from the old system")


STATUS_LABELS = {member.value: member.label for labelled in (State, ReadState) for member in labelled}
ACTION_LABELS = {action.value: action.label for action in Action}

# Actions a reviewer takes with a standard reason (counted by the dashboards).
REASONED_ACTIONS = (Action.REJECT, Action.DEFICIENCY)

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
# A cooperation is refused for what it says about the branch and the distributor, not
# about the officer's file (the qualification reasons above say nothing of a branch).
COOPERATION_REJECT_REASONS = (
    ("branch_invalid", N_("The branch's details (address, city or licence) are not valid.")),
    ("officer_unavailable", N_("The officer cannot be responsible for this branch (distance or another duty).")),
    ("distributor_invalid", N_("The distributor is not entitled to nominate for this branch.")),
    ("other", N_("Other reason (explained in the note).")),
)
REASON_LABELS = dict(REJECT_REASONS + COOPERATION_REJECT_REASONS + DEFICIENCY_REASONS)


def reject_reason_code(reason: str) -> str:
    """The standard rejection reason stored with a request ("other" when unknown)."""
    return reason if reason in dict(REJECT_REASONS + COOPERATION_REJECT_REASONS) else "other"
