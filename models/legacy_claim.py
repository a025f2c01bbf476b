"""Claim and confirm (issue 18): at the first login a migrated officer sees what came over
from the old system (the record, the contracts, the scanned documents) and confirms it,
or disputes a contract.

A dispute is recorded (:class:`LegacyDispute`, one per contract) and goes to the
reviewers of the university of the contract's branch as a staff notice
(:mod:`models.staff_notices`, shown on their dashboard with the list of open disputes,
:func:`open_disputes`); the contract itself stays as it came over until a reviewer acts
on it through the existing ways (the directorate ends a contract, the officer asks for a
termination). Confirming ends the first-login step (``legacy_confirmed_at``). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peewee import DateTimeField, ForeignKeyField, TextField

from persian import normalize_text

from .accounts import Officer
from .audit import audit
from .base import N_, BaseModel, DomainError, db, translate, utcnow
from .cooperation import Branch, Cooperation, Distributor
from .reference import DocumentKind, University
from .request_records import LEGACY_DOCUMENTS, Document
from .staff_notices import notify_directorate, notify_university

REASON_MIN, REASON_MAX = 10, 1000


class LegacyDispute(BaseModel):
    """A migrated officer's word that a contract which came over is wrong."""

    officer = ForeignKeyField(Officer, backref="+", on_delete="RESTRICT", index=True)
    cooperation = ForeignKeyField(Cooperation, backref="+", on_delete="RESTRICT")
    # The university of the contract's branch, whose reviewers are told (None: the directorate).
    university = ForeignKeyField(University, null=True, on_delete="RESTRICT", index=True)
    reason = TextField()
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "legacy_dispute"
        indexes = ((("cooperation",), True),)


@dataclass
class CameOver:
    """What the old system brought: the contracts (with any dispute), the documents."""

    contracts: list = field(default_factory=list)
    disputes: dict = field(default_factory=dict)  # cooperation id -> LegacyDispute
    documents: list = field(default_factory=list)


def needs_confirmation(officer) -> bool:
    """A migrated officer who has not yet confirmed what came over."""
    return bool(officer.legacy) and officer.legacy_confirmed_at is None


def came_over(officer) -> CameOver:
    """The officer's migrated contracts (active or not, oldest first) and documents."""
    contracts = list(
        Cooperation.select(Cooperation, Branch, Distributor)
        .join(Branch, on=(Cooperation.branch == Branch.id))
        .switch(Cooperation)
        .join(Distributor, on=(Cooperation.distributor == Distributor.id))
        .where((Cooperation.officer == officer.id) & (Cooperation.legacy == True))  # noqa: E712
        .order_by(Cooperation.started_at, Cooperation.id)
    )
    disputes = {d.cooperation_id: d for d in LegacyDispute.select().where(LegacyDispute.officer == officer.id)}
    documents = list(
        Document.select(Document, DocumentKind)
        .join(DocumentKind)
        .where((Document.officer == officer.id) & (Document.request_type == LEGACY_DOCUMENTS))
        .order_by(DocumentKind.sort_order)
    )
    return CameOver(contracts, disputes, documents)


def confirm_migration(officer, actor) -> None:
    """The officer confirms what came over (the disputed contracts stay disputed)."""
    if not needs_confirmation(officer):
        return
    now = utcnow()
    with db.atomic():
        Officer.update(legacy_confirmed_at=now).where(Officer.id == officer.id).execute()
        audit(actor, "legacy_confirmed", officer)
    officer.legacy_confirmed_at = now


def dispute_contract(officer, cooperation_id, reason: str, actor) -> LegacyDispute:
    """Record that a migrated contract of this officer is wrong, and tell the reviewers of
    its branch's university (the directorate when the branch has none)."""
    cooperation = Cooperation.get_or_none(
        (Cooperation.id == cooperation_id) & (Cooperation.officer == officer.id) & (Cooperation.legacy == True)  # noqa: E712
    )
    if cooperation is None:
        raise DomainError(N_("This contract did not come over from the old system."), code="not_a_legacy_contract")
    reason = normalize_text(reason or "")
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise DomainError(
            N_("Say what is wrong with this contract in %(min)s to %(max)s characters."),
            field="reason",
            code="dispute_reason",
            min=REASON_MIN,
            max=REASON_MAX,
        )
    if LegacyDispute.select().where(LegacyDispute.cooperation == cooperation.id).exists():
        raise DomainError(N_("You have already disputed this contract."), code="already_disputed")
    branch = Branch.get_by_id(cooperation.branch_id)
    university_id = cooperation.university_id or branch.city.university_id
    subject = translate(N_("A migrated officer disputes a contract"))
    body = translate(
        N_("%(officer)s (national code %(code)s) says the contract at the branch %(branch)s is wrong: %(reason)s"),
        officer=officer.full_name,
        code=officer.national_code,
        branch=branch.name,
        reason=reason,
    )
    with db.atomic():
        dispute = LegacyDispute.create(
            officer=officer.id, cooperation=cooperation.id, university=university_id, reason=reason
        )
        if university_id is not None:
            notify_university(university_id, subject, body)
        else:
            notify_directorate(subject, body)
        audit(actor, "legacy_contract_disputed", cooperation, detail=reason[:200], object_type="cooperation")
    return dispute


def open_disputes(university_id=None, limit: int = 50) -> list:
    """The newest disputes a dashboard shows: a university's own, or (None) all of them."""
    query = (
        LegacyDispute.select(LegacyDispute, Officer, Cooperation, Branch)
        .join(Officer, on=(LegacyDispute.officer == Officer.id))
        .switch(LegacyDispute)
        .join(Cooperation, on=(LegacyDispute.cooperation == Cooperation.id))
        .join(Branch, on=(Cooperation.branch == Branch.id))
        .order_by(LegacyDispute.created_at.desc(), LegacyDispute.id.desc())
        .limit(limit)
    )
    if university_id is not None:
        query = query.where(LegacyDispute.university == university_id)
    return list(query)
