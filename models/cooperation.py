"""Branches, cooperation with distributors, and termination by the officer.

The seed's "Contracted centres": a distributor nominates a qualified officer for
a branch; the officer accepts (the request goes to the university covering the
branch's city) or refuses (closed); the university approves (the officer becomes
the branch's officer, a previous one is released) or rejects. The officer may end
an active cooperation alone; the distributor may release its officer.

Invariants, held by the code and by partial unique indexes in the database: an
officer is active at one branch at most; a branch has one active officer at most.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, IntegrityError, TextField

from persian import normalize_national_code, normalize_text

from .accounts import Distributor, Officer, audit
from .base import N_, BaseModel, ConflictError, DomainError, PermissionDenied, db, translate, utcnow
from .notices import notify_officer, queue_sms
from .reference import City, Province, clean_district, route_id
from .review import ReviewedRequest, ReviewFlow, Transition, is_owner, is_reviewer_of, record_event

OPEN_COOPERATION_STATES = ("pending_officer", "pending_university")


class Branch(BaseModel):
    distributor = ForeignKeyField(Distributor, backref="branches", on_delete="RESTRICT", index=True)
    name = CharField(max_length=200)
    province = ForeignKeyField(Province, on_delete="RESTRICT")
    city = ForeignKeyField(City, on_delete="RESTRICT", index=True)
    district = IntegerField(null=True)  # the city's municipal district, when it is split (Tehran)
    address = TextField(default="")
    legacy_id = CharField(max_length=40, null=True, unique=True)
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    def __str__(self):
        return self.name

    def active_cooperation(self):
        return (
            Cooperation.select(Cooperation, Officer)
            .join(Officer)
            .where((Cooperation.branch == self.id) & (Cooperation.status == "active"))
            .first()
        )


class Cooperation(ReviewedRequest):
    REQUEST_TYPE = "cooperation"

    branch = ForeignKeyField(Branch, backref="cooperations", on_delete="RESTRICT", index=True)
    distributor = ForeignKeyField(Distributor, backref="+", on_delete="RESTRICT", index=True)
    officer = ForeignKeyField(Officer, backref="cooperations", on_delete="RESTRICT", index=True)
    officer_note = TextField(default="")
    rejected_by = CharField(max_length=12, default="")  # officer | university
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    end_reason = CharField(max_length=20, default="")  # released | terminated | replaced
    legacy = BooleanField(default=False)

    class Meta:
        table_name = "cooperation"
        indexes = (
            (("university", "status", "last_submitted_at"), False),
            # Cartable filters and sorts, each ordered by the last submission (migration 002).
            (("university", "last_submitted_at", "status"), False),
            (("status", "last_submitted_at"), False),
            (("reviewer", "last_submitted_at"), False),
            (("last_submitted_at",), False),
            (("started_at",), False),
            (("ended_at",), False),
        )

    def __str__(self):
        return f"#{self.id}"


Cooperation.add_index(
    Cooperation.index(
        Cooperation.officer,
        unique=True,
        where=Cooperation.status == "active",
        name="cooperation_one_active_per_officer",
    )
)
Cooperation.add_index(
    Cooperation.index(
        Cooperation.branch, unique=True, where=Cooperation.status == "active", name="cooperation_one_active_per_branch"
    )
)
Cooperation.add_index(
    Cooperation.index(
        Cooperation.branch,
        unique=True,
        where=Cooperation.status.in_(OPEN_COOPERATION_STATES),
        name="cooperation_one_open_per_branch",
    )
)


def is_branch_distributor(cooperation, actor) -> bool:
    return actor.kind == "distributor" and actor.id == cooperation.distributor_id


FLOW = ReviewFlow(
    "cooperation",
    {
        ("pending_officer", "officer_approve"): Transition("pending_university", is_owner),
        ("pending_officer", "officer_reject"): Transition("rejected", is_owner),
        ("pending_university", "approve"): Transition("active", is_reviewer_of),
        ("pending_university", "reject"): Transition("rejected", is_reviewer_of, note_required=True),
        ("active", "release"): Transition("ended", is_branch_distributor),
        ("active", "terminate"): Transition("ended", is_owner),
    },
)
Cooperation.FLOW = FLOW


def active_cooperation_of(officer):
    return (
        Cooperation.select(Cooperation, Branch, Distributor)
        .join(Branch)
        .switch(Cooperation)
        .join(Distributor)
        .where((Cooperation.officer == officer.id) & (Cooperation.status == "active"))
        .first()
    )


def serving_officers(distributor_id: int) -> dict:
    """``{branch id: its active cooperation, with the officer}`` for every branch of a
    distributor (at most one each, whatever the length of its history)."""
    return {
        c.branch_id: c
        for c in Cooperation.select(Cooperation, Officer)
        .join(Officer)
        .where((Cooperation.distributor == distributor_id) & (Cooperation.status == "active"))
    }


def create_branch(actor, name: str, province, city, address: str, district="") -> Branch:
    """A distributor defines one of its branches (in a split city, in one of its districts)."""
    if actor.kind != "distributor":
        raise PermissionDenied(N_("Only a distributor can define its branches."))
    errors = {}
    name, address = normalize_text(name), normalize_text(address)
    if len(name) < 2:
        errors["name"] = (N_("Write the branch's name."), {})
    if province is None:
        errors["province"] = (N_("Choose the province."), {})
    if city is None:
        errors["city"] = (N_("Choose the city."), {})
    elif province is not None and city.province_id != province.id:
        errors["city"] = (
            N_("The city %(city)s is not in the province %(province)s."),
            {"city": city.name, "province": province.name},
        )
    if "city" not in errors:
        try:
            district = clean_district(city, district)
        except DomainError as error:
            errors["district"] = (error.msgid, error.params)
    if len(address) < 10:
        errors["address"] = (N_("Enter the full postal address (10 to 500 characters)."), {})
    if errors:
        from .officer_rules import ValidationFailed

        raise ValidationFailed(errors)
    with db.atomic():
        branch = Branch.create(
            distributor=actor.id, name=name, province=province, city=city, district=district, address=address
        )
        audit(actor, "branch_created", branch)
    return branch


def nominate(branch, actor, national_code: str) -> Cooperation:
    """The distributor names an officer for its branch; the officer must accept.

    Refusals name the reason but reveal nothing about another distributor."""
    if actor.kind != "distributor" or branch.distributor_id != actor.id:
        raise PermissionDenied(N_("You may not do this on this request."))
    code = normalize_national_code(national_code)
    officer = Officer.get_or_none((Officer.national_code == code) & (Officer.is_active == True))  # noqa: E712
    if officer is None:
        raise DomainError(N_("No officer is registered with this national code."), field="national_code")
    if not officer.is_qualified:
        raise DomainError(
            N_("This officer's qualification has not been approved yet, so they cannot be chosen."),
            field="national_code",
        )
    if active_cooperation_of(officer) is not None:
        raise DomainError(N_("This officer is already the technical officer of a branch."), field="national_code")
    if branch_open_request(branch) is not None:
        raise DomainError(N_("This branch already has a nomination waiting for an answer."), field="national_code")
    try:
        with db.atomic():
            cooperation = Cooperation.create(
                branch=branch,
                distributor=branch.distributor_id,
                officer=officer,
                status="pending_officer",
                university=route_id(branch.city, branch.district),
                submitted_at=utcnow(),
                last_submitted_at=utcnow(),
            )
            record_event(cooperation, "nominate", "", "pending_officer", actor)
            notify_officer(
                officer,
                translate(N_("A new cooperation request")),
                translate(
                    N_(
                        "%(company)s asks you to be the technical officer of its branch %(branch)s. Answer it under Contracted centres."
                    ),
                    company=branch.distributor.name,
                    branch=branch.name,
                ),
            )
    except IntegrityError:
        raise DomainError(
            N_("This branch already has a nomination waiting for an answer."), field="national_code"
        ) from None
    return cooperation


def branch_open_request(branch):
    return (
        Cooperation.select()
        .where((Cooperation.branch == branch.id) & Cooperation.status.in_(OPEN_COOPERATION_STATES))
        .first()
    )


@FLOW.on("officer_approve")
def _on_officer_approve(cooperation, actor, note, **_):
    if not Officer.get_by_id(cooperation.officer_id).is_qualified:
        raise DomainError(N_("This officer's qualification has not been approved yet, so they cannot be chosen."))
    if active_cooperation_of(cooperation.officer) is not None:
        raise DomainError(N_("You are already the technical officer of a branch; end that cooperation first."))
    return {Cooperation.officer_note: note, Cooperation.last_submitted_at: utcnow()}


@FLOW.on("officer_reject")
def _on_officer_reject(cooperation, actor, note, **_):
    return {Cooperation.officer_note: note, Cooperation.rejected_by: "officer", Cooperation.decided_at: utcnow()}


@FLOW.on("after_officer_reject")
def _after_officer_reject(cooperation, actor, note, **_):
    _tell_distributor(cooperation, N_("The officer %(officer)s declined to be the technical officer of %(branch)s."))


@FLOW.on("reject")
def _on_reject(cooperation, actor, note, **_):
    return {
        Cooperation.rejected_by: "university",
        Cooperation.decision_note: note,
        Cooperation.decided_at: utcnow(),
        Cooperation.reviewer: cooperation.reviewer_id or actor.id,
    }


@FLOW.on("after_reject")
def _after_reject(cooperation, actor, note, **_):
    notify_officer(
        cooperation.officer,
        translate(N_("A cooperation request was rejected")),
        translate(
            N_("The university rejected your cooperation with %(branch)s. Reason: %(note)s"),
            branch=cooperation.branch.name,
            note=note,
        ),
    )
    _tell_distributor(cooperation, N_("The university rejected the cooperation of %(officer)s with %(branch)s."))


@FLOW.on("approve")
def _on_approve(cooperation, actor, note, **_):
    officer = Officer.get_by_id(cooperation.officer_id)
    if not officer.is_qualified:
        raise ConflictError(N_("This officer's qualification has not been approved yet, so they cannot be chosen."))
    if active_cooperation_of(officer) is not None:
        raise ConflictError(
            N_("The officer became active at another branch meanwhile; this request cannot be approved.")
        )
    previous = cooperation.branch.active_cooperation()
    if previous is not None:
        _end(previous, "replaced", actor)
        notify_officer(
            previous.officer,
            translate(N_("Your cooperation has ended")),
            translate(
                N_("Another officer was approved for %(branch)s; you are no longer its technical officer."),
                branch=cooperation.branch.name,
            ),
        )
    now = utcnow()
    return {
        Cooperation.decided_at: now,
        Cooperation.started_at: now,
        Cooperation.decision_note: note,
        Cooperation.reviewer: cooperation.reviewer_id or actor.id,
    }


@FLOW.on("after_approve")
def _after_approve(cooperation, actor, note, **_):
    notify_officer(
        cooperation.officer,
        translate(N_("Your cooperation was approved")),
        translate(
            N_("You are now the technical officer of %(branch)s (%(company)s)."),
            branch=cooperation.branch.name,
            company=cooperation.distributor.name,
        ),
    )
    _tell_distributor(cooperation, N_("%(officer)s is now the technical officer of %(branch)s."))


def apply_cooperation(cooperation, action, actor, note=""):
    """Apply a transition; a unique-index violation (a race) becomes a clean conflict."""
    try:
        return cooperation.apply(action, actor, note=note)
    except IntegrityError:
        raise ConflictError(
            N_("The officer became active at another branch meanwhile; this request cannot be approved.")
        ) from None


def _end(cooperation, reason: str, actor):
    """End an active cooperation because another officer replaced it at its branch."""
    updated = (
        Cooperation.update(status="ended", ended_at=utcnow(), end_reason=reason)
        .where((Cooperation.id == cooperation.id) & (Cooperation.status == "active"))
        .execute()
    )
    if updated != 1:
        raise ConflictError(N_("Someone else changed this request a moment ago; reload the page to see its state."))
    record_event(cooperation, "replace", "active", "ended", actor)


@FLOW.on("release")
def _on_release(cooperation, actor, note, **_):
    return {Cooperation.ended_at: utcnow(), Cooperation.end_reason: "released"}


@FLOW.on("after_release")
def _after_release(cooperation, actor, note, **_):
    notify_officer(
        cooperation.officer,
        translate(N_("You were released by the distributor")),
        translate(
            N_("%(company)s released you as the technical officer of %(branch)s."),
            company=cooperation.distributor.name,
            branch=cooperation.branch.name,
        ),
    )


@FLOW.on("terminate")
def _on_terminate(cooperation, actor, note, **_):
    return {Cooperation.ended_at: utcnow(), Cooperation.end_reason: "terminated", Cooperation.decision_note: note}


@FLOW.on("after_terminate")
def _after_terminate(cooperation, actor, note, **_):
    _tell_distributor(cooperation, N_("%(officer)s ended their cooperation as the technical officer of %(branch)s."))


def release(branch, actor):
    """The distributor frees its branch's officer (and the officer's national code)."""
    if actor.kind != "distributor" or branch.distributor_id != actor.id:
        raise PermissionDenied(N_("You may not do this on this request."))
    cooperation = branch.active_cooperation()
    if cooperation is None:
        raise ConflictError(N_("This branch has no technical officer."))
    return cooperation.apply("release", actor)


def _tell_distributor(cooperation, msgid):
    distributor = Distributor.get_by_id(cooperation.distributor_id)
    queue_sms(
        distributor.manager_mobile,
        translate(msgid, officer=cooperation.officer.full_name, branch=cooperation.branch.name),
    )


class TerminationRequest(BaseModel):
    """The officer's request to end an active cooperation; no review, it takes effect when finalized."""

    officer = ForeignKeyField(Officer, backref="terminations", on_delete="RESTRICT", index=True)
    cooperation = ForeignKeyField(Cooperation, backref="terminations", on_delete="RESTRICT")
    reason = TextField()
    status = CharField(max_length=12, default="draft")  # draft | finalized
    created_at = DateTimeField(default=utcnow)
    finalized_at = DateTimeField(null=True)

    class Meta:
        table_name = "termination_request"


TerminationRequest.add_index(
    TerminationRequest.index(
        TerminationRequest.cooperation,
        unique=True,
        where=TerminationRequest.status == "draft",
        name="termination_one_draft_per_cooperation",
    )
)


def save_termination(officer, actor, reason: str) -> TerminationRequest:
    if actor.kind != "officer" or actor.id != officer.id:
        raise PermissionDenied(N_("You may not do this on this request."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(N_("Write why you end the cooperation."), field="reason")
    cooperation = active_cooperation_of(officer)
    if cooperation is None:
        raise ConflictError(N_("You have no active cooperation to end."))
    existing = TerminationRequest.get_or_none(
        (TerminationRequest.cooperation == cooperation.id) & (TerminationRequest.status == "draft")
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
    if actor.kind != "officer" or actor.id != termination.officer_id:
        raise PermissionDenied(N_("You may not do this on this request."))
    with db.atomic():
        updated = (
            TerminationRequest.update(status="finalized", finalized_at=utcnow())
            .where((TerminationRequest.id == termination.id) & (TerminationRequest.status == "draft"))
            .execute()
        )
        if updated != 1:
            raise ConflictError(N_("This request was already finalized."))
        Cooperation.get_by_id(termination.cooperation_id).apply("terminate", actor, note=termination.reason)
        audit(actor, "termination_finalized", termination)
    termination.status = "finalized"
    return termination
