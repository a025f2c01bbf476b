"""The directorate's account tools for an officer (CONTRACT.md, "Staff and account
administration"): deactivate and reactivate the account; suspend, revoke and reinstate the
qualification; change the mobile; correct a locked field or the names with evidence, which
a second directorate account confirms (four eyes); and the claims of people whose national
code someone else registered.

Every action needs a reason and is audited. Deactivation, suspension and revocation end
the active cooperation (SMS to the distributor's manager, notice to the officer), end the
officer's sessions, and make ``/verify`` answer "not valid". Only the directorate may use
any of this. Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
import json

from peewee import CharField, DateTimeField, ForeignKeyField, IntegrityError, TextField

from persian import format_jalali_date

from .accounts import Officer, StaffUser
from .audit import audit
from .auth import end_all_sessions
from .base import N_, BaseModel, ConflictError, DomainError, PermissionDenied, db, utcnow
from .cooperation import active_cooperation_of
from .identity import IdentityAdapter
from .notices import notify_officer
from .officer_rules import ALREADY_REGISTERED, clean_fields
from .registration import PENDING, IdentityClaim, set_mobile
from .review import Document, record_document
from .vocabulary import Action

ACTIONS = (
    "deactivate",
    "reactivate",
    "suspend_qualification",
    "revoke_qualification",
    "reinstate_qualification",
    "change_mobile",
    "correct_identity",
    "confirm_correction",
    "reject_correction",
)
CORRECTABLE_FIELDS = ("national_code", "birth_date", "first_name", "last_name")
SUSPENDED, REVOKED = "suspended", "revoked"
CONFIRMED, REJECTED = "confirmed", "rejected"
MIN_REASON = 5


def can_administer_accounts(actor) -> bool:
    """Only the directorate; university reviewers have none of these tools."""
    return actor is not None and actor.is_directorate


def _require(actor, reason: str) -> str:
    if not can_administer_accounts(actor):
        raise PermissionDenied(N_("Only the directorate can manage officers' accounts."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise DomainError(N_("Write the reason for this action."), field="reason", code="reason_required")
    return reason


def _end_cooperation(officer, actor, reason: str) -> None:
    cooperation = active_cooperation_of(officer)
    if cooperation is not None:
        cooperation.apply(Action.DIRECTORATE_END, actor, note=reason)


def _withdraw(officer, actor, reason: str, notice_subject: str, notice_body: str) -> None:
    """What deactivation, suspension and revocation share, inside their transaction."""
    _end_cooperation(officer, actor, reason)
    end_all_sessions("officer", officer.id)
    notify_officer(officer, notice_subject, notice_body, reason=reason)


def deactivate_officer(officer, actor, reason: str) -> None:
    """Death, retirement, fraud: the account can no longer log in."""
    reason = _require(actor, reason)
    with db.atomic():
        if Officer.update(is_active=False).where((Officer.id == officer.id) & Officer.is_active).execute() != 1:
            raise ConflictError(N_("This account is already deactivated."))
        officer.is_active = False
        _withdraw(
            officer,
            actor,
            reason,
            N_("Your account was deactivated"),
            N_("The directorate deactivated your technical officer account. Reason: %(reason)s"),
        )
        audit(actor, "officer_deactivated", officer, detail=reason)


def reactivate_officer(officer, actor, reason: str) -> None:
    reason = _require(actor, reason)
    with db.atomic():
        if Officer.update(is_active=True).where((Officer.id == officer.id) & ~Officer.is_active).execute() != 1:
            raise ConflictError(N_("This account is already active."))
        officer.is_active = True
        audit(actor, "officer_reactivated", officer, detail=reason)


def _hold(officer, actor, reason: str, hold: str) -> None:
    reason = _require(actor, reason)
    if not officer.is_qualified:
        raise DomainError(N_("This officer has no qualification to suspend or revoke."), code="not_qualified")
    # A revoked qualification is not suspended afterwards; a suspended one may be revoked.
    allowed_from = ("",) if hold == SUSPENDED else ("", SUSPENDED)
    with db.atomic():
        updated = (
            Officer.update(qualification_hold=hold)
            .where((Officer.id == officer.id) & Officer.qualification_hold.in_(allowed_from))
            .execute()
        )
        if updated != 1:
            raise ConflictError(N_("The qualification is already suspended or revoked."))
        officer.qualification_hold = hold
        subject, body = (
            (
                N_("Your qualification was suspended"),
                N_("The directorate suspended your qualification. Reason: %(reason)s"),
            )
            if hold == SUSPENDED
            else (
                N_("Your qualification was revoked"),
                N_("The directorate revoked your qualification. Reason: %(reason)s"),
            )
        )
        _withdraw(officer, actor, reason, subject, body)
        audit(actor, f"qualification_{hold}", officer, detail=reason)


def suspend_qualification(officer, actor, reason: str) -> None:
    _hold(officer, actor, reason, SUSPENDED)


def revoke_qualification(officer, actor, reason: str) -> None:
    _hold(officer, actor, reason, REVOKED)


def reinstate_qualification(officer, actor, reason: str) -> None:
    reason = _require(actor, reason)
    with db.atomic():
        updated = (
            Officer.update(qualification_hold="")
            .where((Officer.id == officer.id) & (Officer.qualification_hold != ""))
            .execute()
        )
        if updated != 1:
            raise ConflictError(N_("The qualification is not suspended or revoked."))
        officer.qualification_hold = ""
        notify_officer(
            officer,
            N_("Your qualification was reinstated"),
            N_("The directorate reinstated your qualification. Reason: %(reason)s"),
            reason=reason,
        )
        audit(actor, "qualification_reinstated", officer, detail=reason)


def change_mobile_by_directorate(officer, actor, mobile, reason: str, identity: IdentityAdapter) -> None:
    """Give the account back its owner's line (a squatted or lost number): Shahkar must say
    the new line is the holder's; the old number is told; sessions end; open claims close."""
    reason = _require(actor, reason)
    new = clean_fields({"mobile": mobile}, ("mobile",))["mobile"]
    if new == officer.mobile:
        raise DomainError(N_("This is already the officer's mobile number."), field="mobile", code="unchanged")
    identity.check_mobile(officer.national_code, new)
    with db.atomic():
        set_mobile(officer, new, actor, "mobile_changed_by_directorate", detail=f"{reason} (mobile)")
        end_all_sessions("officer", officer.id)
        IdentityClaim.update(status=CONFIRMED, resolved_by=actor.id, resolved_at=utcnow(), note=reason).where(
            (IdentityClaim.officer == officer.id) & (IdentityClaim.status == PENDING)
        ).execute()


# ------------------------------------------------------------------ corrections (four eyes)


class IdentityCorrection(BaseModel):
    """A directorate user's correction of a locked field or the names, with evidence;
    it takes effect only when a second directorate account confirms it."""

    officer = ForeignKeyField(Officer, on_delete="RESTRICT", index=True)
    proposed_by = ForeignKeyField(StaffUser, on_delete="RESTRICT", backref="+")
    changes = TextField()  # {"field": new value as stored}, JSON
    previous = TextField()
    reason = TextField()
    status = CharField(max_length=10, default=PENDING, index=True)
    decided_by = ForeignKeyField(StaffUser, null=True, on_delete="RESTRICT", backref="+")
    decided_at = DateTimeField(null=True)
    decision_reason = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "identity_correction"

    REQUEST_TYPE = "correction"  # the Document rows of its evidence

    def change_list(self) -> list[tuple[str, str, str]]:
        """``[(field, before, after)]`` as the manage page shows them."""
        changes, previous = json.loads(self.changes), json.loads(self.previous)

        def shown(name, value):
            return format_jalali_date(_iso(value)) if name == "birth_date" and value else value

        return [(name, shown(name, previous.get(name, "")), shown(name, value)) for name, value in changes.items()]

    def evidence(self):
        return Document.select().where((Document.request_type == self.REQUEST_TYPE) & (Document.request_id == self.id))


def _audited(correction, changes) -> str:
    """The correction and the names of its fields, never the values (finding I3): the audit
    log is read and exported by staff who must not collect national codes from it; the old
    and new values stay on the correction's own row, shown on the officer's manage page."""
    return f"correction {correction.id}: " + ", ".join(changes)


EVIDENCE_KIND = "other"


def propose_correction(officer, actor, data: dict, reason: str, evidence) -> IdentityCorrection:
    """File a correction of any of national code, birth date, first and last name.

    ``evidence`` is the stored evidence file (the door stores the upload, as for requests'
    documents); a correction without one is refused."""
    reason = _require(actor, reason)
    if evidence is None:
        raise DomainError(
            N_("Attach the evidence document (PDF, JPEG or PNG)."), field="doc_evidence", code="evidence_required"
        )
    present = [name for name in CORRECTABLE_FIELDS if (data.get(name) or "").strip()]
    if not present:
        raise DomainError(N_("Enter the corrected value of at least one field."), code="nothing_to_correct")
    clean = clean_fields(data, present)
    changes = {name: value for name, value in clean.items() if getattr(officer, name) != value}
    if not changes:
        raise DomainError(N_("The corrected values are the same as the current ones."), code="nothing_to_correct")
    code = changes.get("national_code")
    if code and Officer.select().where((Officer.national_code == code) & (Officer.id != officer.id)).exists():
        raise DomainError(ALREADY_REGISTERED, field="national_code", code="national_code_taken")
    if (
        IdentityCorrection.select()
        .where((IdentityCorrection.officer == officer.id) & (IdentityCorrection.status == PENDING))
        .exists()
    ):
        raise ConflictError(N_("A correction of this officer is already waiting for confirmation."))
    with db.atomic():
        correction = IdentityCorrection.create(
            officer=officer,
            proposed_by=actor.id,
            changes=json.dumps({n: _stored(n, v) for n, v in changes.items()}, ensure_ascii=False),
            previous=json.dumps({n: _stored(n, getattr(officer, n)) for n in changes}, ensure_ascii=False),
            reason=reason,
        )
        record_document(correction, EVIDENCE_KIND, evidence)
        audit(actor, "identity_correction_proposed", officer, detail=_audited(correction, changes))
    return correction


def _stored(name, value) -> str:
    return value.isoformat() if name == "birth_date" else str(value)


def pending_correction(officer, correction_id) -> IdentityCorrection:
    correction = IdentityCorrection.get_or_none(
        (IdentityCorrection.id == correction_id) & (IdentityCorrection.officer == officer.id)
    )
    if correction is None or correction.status != PENDING:
        raise ConflictError(N_("This correction is no longer waiting for confirmation."))
    return correction


def _decide(correction, actor, status: str, reason: str) -> int:
    return (
        IdentityCorrection.update(status=status, decided_by=actor.id, decided_at=utcnow(), decision_reason=reason)
        .where((IdentityCorrection.id == correction.id) & (IdentityCorrection.status == PENDING))
        .execute()
    )


def confirm_correction(officer, actor, correction_id, reason: str) -> IdentityCorrection:
    """A second directorate account applies the correction; its proposer cannot."""
    reason = _require(actor, reason)
    correction = pending_correction(officer, correction_id)
    if correction.proposed_by_id == actor.id:
        raise PermissionDenied(
            N_("A correction must be confirmed by another directorate account than the one that proposed it.")
        )
    changes = json.loads(correction.changes)
    clean = clean_fields(
        {n: (format_jalali_date(_iso(v)) if n == "birth_date" else v) for n, v in changes.items()}, list(changes)
    )
    try:
        with db.atomic():
            if _decide(correction, actor, CONFIRMED, reason) != 1:
                raise ConflictError(N_("This correction is no longer waiting for confirmation."))
            Officer.update({getattr(Officer, n): v for n, v in clean.items()}).where(Officer.id == officer.id).execute()
            notify_officer(
                officer,
                N_("Your identity details were corrected"),
                N_("The directorate corrected your identity details. Reason: %(reason)s"),
                reason=reason,
            )
            audit(actor, "identity_correction_confirmed", officer, detail=_audited(correction, clean))
    except IntegrityError:
        raise DomainError(ALREADY_REGISTERED, field="national_code", code="national_code_taken") from None
    for name, value in clean.items():
        setattr(officer, name, value)
    return correction


def _iso(value: str) -> _dt.date:
    return _dt.date.fromisoformat(value)


def reject_correction(officer, actor, correction_id, reason: str) -> IdentityCorrection:
    reason = _require(actor, reason)
    correction = pending_correction(officer, correction_id)
    with db.atomic():
        if _decide(correction, actor, REJECTED, reason) != 1:
            raise ConflictError(N_("This correction is no longer waiting for confirmation."))
        audit(actor, "identity_correction_rejected", officer, detail=reason)
    return correction


def corrections_of(officer):
    return (
        IdentityCorrection.select()
        .where(IdentityCorrection.officer == officer.id)
        .order_by(IdentityCorrection.id.desc())
    )


# ------------------------------------------------------------------ claims


def dismiss_claim(officer, actor, claim_id, reason: str) -> None:
    reason = _require(actor, reason)
    with db.atomic():
        done = (
            IdentityClaim.update(status=REJECTED, resolved_by=actor.id, resolved_at=utcnow(), note=reason)
            .where(
                (IdentityClaim.id == claim_id)
                & (IdentityClaim.officer == officer.id)
                & (IdentityClaim.status == PENDING)
            )
            .execute()
        )
        if done != 1:
            raise ConflictError(N_("This claim is no longer open."))
        audit(actor, "identity_claim_dismissed", officer, detail=reason)
