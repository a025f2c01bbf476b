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

import datetime as _dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, fn

from persian import mask_name, normalize_national_code

from .accounts import Distributor, Officer
from .audit import audit
from .base import N_, SYSTEM, BaseModel, ConflictError, DomainError, PermissionDenied, db, is_sqlite, utcnow
from .branch_fields import clean_branch
from .notices import notify_officer
from .numbers import new_public_token
from .prepared import Prepared
from .reference import City, Province, route_id
from .review import (
    CHANGED_MEANWHILE,
    NEW,
    NOTHING,
    RequestEvent,
    ReviewedRequest,
    ReviewFlow,
    Transition,
    is_directorate,
    is_owner,
    is_reviewer_of,
    is_system,
    record_event,
)
from .sla import setting_days
from .vocabulary import COOPERATION_REJECT_REASONS, Action, State


class Branch(BaseModel):
    distributor = ForeignKeyField(Distributor, backref="branches", on_delete="RESTRICT", index=True)
    name = CharField(max_length=200)
    # The public page's address: branch ids are sequential, so /branch/<id> let anyone
    # list every branch, its distributor and its officer (L1).
    public_token = CharField(max_length=32, null=True, unique=True, default=new_public_token)
    province = ForeignKeyField(Province, on_delete="RESTRICT")
    city = ForeignKeyField(City, on_delete="RESTRICT", index=True)
    district = IntegerField(null=True)  # the city's municipal district, when it is split (Tehran)
    address = TextField(default="")
    legacy_id = CharField(max_length=40, null=True, unique=True)
    is_active = BooleanField(default=True)  # False once closed (models/branches.py)
    created_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)
    close_reason = TextField(default="")

    def __str__(self):
        return self.name

    def can_manage(self, actor) -> bool:
        """The distributor the branch belongs to: it nominates and releases its officer."""
        return actor.is_distributor(self.distributor_id)

    def can_change(self, actor) -> bool:
        """Its distributor, or the directorate for any branch: they edit and close it."""
        return actor.is_directorate or actor.is_distributor(self.distributor_id)

    @classmethod
    def visible_to(cls, actor, query=None):
        """A distributor's own branches; every branch for the directorate."""
        query = cls.select() if query is None else query
        if actor is not None and actor.is_directorate:
            return query
        if actor is not None and actor.is_distributor():
            return query.where(cls.distributor == actor.id)
        return query.where(NOTHING)

    def active_cooperation(self):
        return (
            Cooperation.select(Cooperation, Officer)
            .join(Officer)
            .where((Cooperation.branch == self.id) & (Cooperation.status == State.ACTIVE))
            .first()
        )


class Cooperation(ReviewedRequest):
    REQUEST_TYPE = "cooperation"
    TITLE = N_("Cooperations")
    REJECT_REASONS = COOPERATION_REJECT_REASONS

    branch = ForeignKeyField(Branch, backref="cooperations", on_delete="RESTRICT", index=True)
    distributor = ForeignKeyField(Distributor, backref="+", on_delete="RESTRICT", index=True)
    officer = ForeignKeyField(Officer, backref="cooperations", on_delete="RESTRICT", index=True)
    officer_note = TextField(default="")
    rejected_by = CharField(max_length=12, default="")  # officer | university
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    end_reason = CharField(max_length=20, default="")  # released | terminated | replaced | directorate | closed
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

    @classmethod
    def applicant_clause(cls, actor):
        """The officer's cooperations, or the distributor's."""
        if actor.is_officer():
            return cls.officer == actor.id
        if actor.is_distributor():
            return cls.distributor == actor.id
        return None

    def is_applicant(self, actor) -> bool:
        return actor.is_officer(self.officer_id) or actor.is_distributor(self.distributor_id)

    # A nomination the officer declined, or one withdrawn or cancelled before the officer
    # answered, never reached the branch's university: the officer's data must not show
    # there (M5). Which of the two a withdrawn one is, its history says.
    @classmethod
    def _ended_before_the_university(cls, request_id):
        """The history lines of a withdrawal or a cancellation made while the nomination
        still waited on the officer, for the request ``request_id`` (a column or an id)."""
        return RequestEvent.select(RequestEvent.id).where(
            (RequestEvent.request_type == cls.REQUEST_TYPE)
            & (RequestEvent.request_id == request_id)
            & RequestEvent.action.in_((Action.WITHDRAW, Action.CANCEL))
            & (RequestEvent.from_status == State.PENDING_OFFICER)
        )

    @classmethod
    def never_reached_university_clause(cls):
        declined = (cls.status == State.REJECTED) & (cls.rejected_by == "officer")
        ended_early = cls.status.in_((State.WITHDRAWN, State.CANCELLED)) & fn.EXISTS(
            cls._ended_before_the_university(cls.id)
        )
        return declined | ended_early

    def never_reached_university(self) -> bool:
        if self.status == State.REJECTED:
            return self.rejected_by == "officer"
        if self.status in (State.WITHDRAWN, State.CANCELLED):
            return self._ended_before_the_university(self.id).exists()
        return False

    def message_params(self) -> dict:
        return {
            "officer": self.officer.full_name,
            "branch": self.branch.name,
            "company": self.distributor.name,
            "days": expiry_days(),
        }

    def officer_name_for_distributor(self) -> str:
        """The officer's name as the distributor's pages show it: in full once the officer
        has accepted, masked before (nominating must not reveal who holds a national code)."""
        accepted = self.status in (State.PENDING_UNIVERSITY, State.ACTIVE, State.ENDED) or (
            self.status == State.REJECTED and self.rejected_by == "university"
        )
        if accepted:
            return self.officer.full_name
        return mask_name(self.officer.first_name, self.officer.last_name)

    def text_recipient(self) -> str:
        """The flow's SMS go to the distributor's manager."""
        return Distributor.get_by_id(self.distributor_id).manager_mobile


def is_branch_distributor(cooperation, actor) -> bool:
    return actor.is_distributor(cooperation.distributor_id)


def expiry_days() -> int:
    """Days a nominated officer has to answer (``nomination_expiry_days``)."""
    return setting_days("nomination_expiry_days")


BRANCH_CLOSED = N_("This branch is closed.")
BECAME_ACTIVE_ELSEWHERE = N_("The officer became active at another branch meanwhile; this request cannot be approved.")

FLOW = ReviewFlow(
    Cooperation,
    {
        (NEW, Action.NOMINATE): Transition(State.PENDING_OFFICER, is_branch_distributor),
        (State.PENDING_OFFICER, Action.OFFICER_APPROVE): Transition(State.PENDING_UNIVERSITY, is_owner),
        (State.PENDING_OFFICER, Action.OFFICER_REJECT): Transition(State.REJECTED, is_owner),
        (State.PENDING_UNIVERSITY, Action.APPROVE): Transition(State.ACTIVE, is_reviewer_of),
        (State.PENDING_UNIVERSITY, Action.REJECT): Transition(State.REJECTED, is_reviewer_of, note_required=True),
        # Every open nomination has a way out: the distributor withdraws it, time expires
        # it (the officer never answered), the directorate cancels it (added by the flow).
        (State.PENDING_OFFICER, Action.WITHDRAW): Transition(State.WITHDRAWN, is_branch_distributor),
        (State.PENDING_UNIVERSITY, Action.WITHDRAW): Transition(State.WITHDRAWN, is_branch_distributor),
        (State.PENDING_OFFICER, Action.EXPIRE): Transition(State.EXPIRED, is_system),
        (State.ACTIVE, Action.RELEASE): Transition(State.ENDED, is_branch_distributor),
        (State.ACTIVE, Action.TERMINATE): Transition(State.ENDED, is_owner),
        # Deactivation, suspension or revocation of the officer (models/account_admin.py).
        (State.ACTIVE, Action.DIRECTORATE_END): Transition(State.ENDED, is_directorate, note_required=True),
    },
    messages={
        Action.NOMINATE: (
            N_("A new cooperation request"),
            N_(
                "%(company)s asks you to be the technical officer of its branch %(branch)s. Answer it under Contracted centres."  # noqa: E501  (one message id)
            ),
        ),
        Action.APPROVE: (
            N_("Your cooperation was approved"),
            N_("You are now the technical officer of %(branch)s (%(company)s)."),
        ),
        Action.REJECT: (
            N_("A cooperation request was rejected"),
            N_("The university rejected your cooperation with %(branch)s. Reason: %(note)s"),
        ),
        Action.RELEASE: (
            N_("You were released by the distributor"),
            N_("%(company)s released you as the technical officer of %(branch)s."),
        ),
        Action.WITHDRAW: (
            N_("A cooperation request was withdrawn"),
            N_("%(company)s withdrew its request that you be the technical officer of %(branch)s."),
        ),
        Action.EXPIRE: (
            N_("A cooperation request expired"),
            N_("The request of %(company)s for %(branch)s expired: it was not answered within %(days)s days."),
        ),
        Action.CANCEL: (
            N_("A cooperation request was cancelled"),
            N_("The directorate cancelled the cooperation request of %(company)s for %(branch)s. Reason: %(note)s"),
        ),
        Action.DIRECTORATE_END: (
            N_("Your cooperation has ended"),
            N_("The directorate ended your cooperation as the technical officer of %(branch)s. Reason: %(note)s"),
        ),
    },
    texts={
        Action.OFFICER_REJECT: N_("The officer %(officer)s declined to be the technical officer of %(branch)s."),
        Action.APPROVE: N_("%(officer)s is now the technical officer of %(branch)s."),
        Action.REJECT: N_("The university rejected the cooperation of %(officer)s with %(branch)s."),
        Action.TERMINATE: N_("%(officer)s ended their cooperation as the technical officer of %(branch)s."),
        Action.EXPIRE: N_(
            "Your request that %(officer)s be the technical officer of %(branch)s expired unanswered after %(days)s days; you may name another officer."  # noqa: E501  (one message id)
        ),
        Action.CANCEL: N_("The directorate cancelled the request for %(officer)s at %(branch)s. Reason: %(note)s"),
        Action.DIRECTORATE_END: N_(
            "The directorate ended the cooperation of %(officer)s with %(branch)s; name a new technical officer."
        ),
    },
    conflict_message=BECAME_ACTIVE_ELSEWHERE,
    # The notices name the branch, whose name the distributor chose: an official SMS from
    # the registry never carries a distributor's words.
    officer_sms=N_("There is news about one of your cooperation requests. Read it in your technical officer account."),
)

Cooperation.add_index(
    Cooperation.index(
        Cooperation.officer,
        unique=True,
        where=Cooperation.status == State.ACTIVE,
        name="cooperation_one_active_per_officer",
    )
)
Cooperation.add_index(
    Cooperation.index(
        Cooperation.branch,
        unique=True,
        where=Cooperation.status == State.ACTIVE,
        name="cooperation_one_active_per_branch",
    )
)
Cooperation.add_index(
    Cooperation.index(
        Cooperation.branch,
        unique=True,
        where=Cooperation.status.in_(FLOW.open_states),
        name="cooperation_one_open_per_branch",
    )
)

# The cartable lists in queue order (``cartable.queue_order``), like the qualification one
# (models/qualification.py): each tab, filter and sort reads one of these in that order, from
# the first row of its range to the page's last (issue 23, migration 016).
QUEUE_INDEXES = (
    # the directorate's "all" and "decided" tabs (a walk in queue order), the due-date sort
    ("co_queue", ("due_on", "last_submitted_at", "status")),
    # "needs my decision", "overdue" (a range of due dates), the state filter, the overdue
    # filter, the state sort
    ("co_queue_status", ("status", "due_on", "last_submitted_at")),
    # the same for a university's reviewers, and the university filter
    ("co_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("co_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    # "assigned to me"
    ("co_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    # a university's sorts by start and end (the directorate's read cooperation_started_at, _ended_at)
    ("co_started_university", ("university_id", "started_at")),
    ("co_ended_university", ("university_id", "ended_at")),
)
for _name, _columns in QUEUE_INDEXES:
    Cooperation.add_index(Cooperation.index(*(Cooperation._meta.columns[column] for column in _columns), name=_name))
# A university's requests waiting on it, in queue order ("needs my decision", "overdue"): a
# reviewer's list also says "not a nomination that never reached the university", an EXISTS
# over the history that PostgreSQL charges to every row a range of co_queue_university_status
# reads, and so preferred walking the partial index of all open cooperations of the country;
# this index's state implies that clause, and its range is the university's waiting ones.
Cooperation.add_index(
    Cooperation.index(
        Cooperation.university,
        Cooperation.due_on,
        Cooperation.last_submitted_at,
        where=Cooperation.status.in_(FLOW.waiting_states),
        name="co_waiting_university",
    )
)


# Read on every officer's dashboard: compiled once (see Prepared).
_ACTIVE_COOPERATION_OF = Prepared(
    lambda officer_id, active: (
        Cooperation.select(Cooperation, Branch, Distributor)
        .join(Branch)
        .switch(Cooperation)
        .join(Distributor)
        .where((Cooperation.officer == officer_id) & (Cooperation.status == active))
        .limit(1)
    )
)


def active_cooperation_of(officer):
    """The officer's active cooperation with its branch and distributor, or None."""
    return _ACTIVE_COOPERATION_OF.first(officer.id, State.ACTIVE.value)


def with_branch_and_distributor(query=None):
    """Cooperations with their branch and distributor joined (what the officer's pages show)."""
    query = Cooperation.select(Cooperation, Branch, Distributor) if query is None else query
    return query.join(Branch).switch(Cooperation).join(Distributor).switch(Cooperation)


def create_branch(actor, name: str, province, city, address: str, district="") -> Branch:
    """A distributor defines one of its branches (in a split city, in one of its districts)."""
    if not actor.is_distributor():
        raise PermissionDenied(N_("Only a distributor can define its branches."))
    fields = clean_branch(name, province, city, address, district)
    with db.atomic():
        branch = Branch.create(distributor=actor.id, **fields)
        audit(actor, "branch_created", branch)
    return branch


# Nomination spam (finding L2): a distributor nominates an officer once at a time, waits
# after a refusal, and sends at most so many nominations a day.
NOMINATION_COOLDOWN = _dt.timedelta(days=30)
NOMINATIONS_PER_DAY = 20
# One answer whatever the reason, so that nominating is not a way to learn whether a
# national code is registered, qualified or employed.
CANNOT_NOMINATE = N_(
    "This national code cannot be nominated now. The officer must be registered and qualified, "
    "not serving another branch, and not asked by you already or recently."
)


def nominate(branch, actor, national_code: str) -> Cooperation:
    """The distributor names an officer for its branch; the officer must accept.

    Every reason an officer cannot be named gets the same answer (see CANNOT_NOMINATE)."""
    officer = nominee(branch, actor, national_code)
    waiting = N_("This branch already has a nomination waiting for an answer.")
    with db.atomic():
        current = locked_open_branch(branch.id)  # a close or a move of the branch takes its turn
        if current is None:
            raise ConflictError(BRANCH_CLOSED, field="national_code")
        cooperation = Cooperation(
            branch=current,
            distributor=current.distributor_id,
            officer=officer,
            university=route_id(current.city, current.district),
        )
        return FLOW.create(cooperation, Action.NOMINATE, actor, conflict=ConflictError(waiting, field="national_code"))


def locked_open_branch(branch_id):
    """The branch as stored if it is open, its row locked until the transaction ends
    (PostgreSQL's FOR UPDATE; SQLite's IMMEDIATE transactions hold the one write lock):
    nominating, editing and closing a branch take turns, so none acts on a stale branch."""
    query = Branch.select().where((Branch.id == branch_id) & (Branch.is_active == True))  # noqa: E712
    return (query if is_sqlite() else query.for_update()).first()


def nominee(branch, actor, national_code: str) -> Officer:
    """The officer ``national_code`` names, if the distributor may nominate them for the
    branch now (the same refusals as :func:`nominate`): what the distributor confirms
    ("is this the person?") before the request goes out."""
    if not branch.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    if not branch.is_active:
        raise ConflictError(BRANCH_CLOSED, field="national_code")
    refusal = DomainError(CANNOT_NOMINATE, field="national_code", code="cannot_nominate")
    code = normalize_national_code(national_code)
    if not code:
        raise DomainError(
            N_("Enter the national code of the officer you name."), field="national_code", code="required"
        )
    officer = Officer.get_or_none((Officer.national_code == code) & (Officer.is_active == True))  # noqa: E712
    if (
        officer is None
        or not officer.is_qualified
        or not officer.qualification_in_force
        or active_cooperation_of(officer) is not None
    ):
        raise refusal
    if _asked_already_or_recently(officer, branch.distributor_id):
        raise refusal
    if branch_open_request(branch) is not None:
        raise DomainError(N_("This branch already has a nomination waiting for an answer."), field="national_code")
    if nominations_today(branch.distributor_id) >= NOMINATIONS_PER_DAY:
        raise DomainError(
            N_("You have sent %(count)d nominations in the last 24 hours, the most a day allows. Try again later."),
            field="national_code",
            code="daily_cap",
            count=NOMINATIONS_PER_DAY,
        )
    return officer


def _asked_already_or_recently(officer, distributor_id) -> bool:
    """An open nomination of this officer by this distributor, or one refused (by the
    officer or the university) less than NOMINATION_COOLDOWN ago."""
    mine = (Cooperation.officer == officer.id) & (Cooperation.distributor == distributor_id)
    open_ = mine & Cooperation.status.in_(FLOW.open_states)
    refused = mine & (Cooperation.status == State.REJECTED) & (Cooperation.decided_at > utcnow() - NOMINATION_COOLDOWN)
    return Cooperation.select().where(open_ | refused).exists()


def nominations_today(distributor_id) -> int:
    """Nominations the distributor made in the last 24 hours."""
    since = utcnow() - _dt.timedelta(days=1)
    return (
        Cooperation.select()
        .where((Cooperation.distributor == distributor_id) & (Cooperation.created_at > since))
        .count()
    )


def branch_open_request(branch):
    return (
        Cooperation.select().where((Cooperation.branch == branch.id) & Cooperation.status.in_(FLOW.open_states)).first()
    )


@FLOW.on(Action.OFFICER_APPROVE)
def _on_officer_approve(cooperation, actor, note, now, **_):
    if not Officer.get_by_id(cooperation.officer_id).qualification_in_force:
        raise DomainError(N_("This officer's qualification has not been approved yet, so they cannot be chosen."))
    if active_cooperation_of(cooperation.officer) is not None:
        raise DomainError(N_("You are already the technical officer of a branch; end that cooperation first."))
    # From now on the request waits on the university.
    return {Cooperation.officer_note: note, Cooperation.last_submitted_at: now}


@FLOW.on(Action.OFFICER_REJECT)
def _on_officer_reject(cooperation, actor, note, now, **_):
    return {Cooperation.officer_note: note, Cooperation.rejected_by: "officer", Cooperation.decided_at: now}


@FLOW.on(Action.REJECT)
def _on_reject(cooperation, actor, note, **_):
    return {Cooperation.rejected_by: "university"}


@FLOW.on(Action.APPROVE)
def _on_approve(cooperation, actor, note, now, **_):
    """The officer starts at the branch; the branch's previous officer, if any, is released."""
    officer = Officer.get_by_id(cooperation.officer_id)
    if not officer.qualification_in_force:
        raise ConflictError(N_("This officer's qualification has not been approved yet, so they cannot be chosen."))
    if active_cooperation_of(officer) is not None:
        raise ConflictError(BECAME_ACTIVE_ELSEWHERE)
    previous = cooperation.branch.active_cooperation()
    if previous is not None:
        _replace(previous, actor)
        notify_officer(
            previous.officer,
            N_("Your cooperation has ended"),
            N_("Another officer was approved for %(branch)s; you are no longer its technical officer."),
            sms_text=FLOW.officer_sms,
            about=previous,
            branch=cooperation.branch.name,
        )
    return {Cooperation.started_at: now}


def _replace(cooperation, actor):
    """End an active cooperation because another officer replaced it at its branch."""
    updated = (
        Cooperation.update(status=State.ENDED.value, ended_at=utcnow(), end_reason="replaced")
        .where((Cooperation.id == cooperation.id) & (Cooperation.status == State.ACTIVE))
        .execute()
    )
    if updated != 1:
        raise ConflictError(CHANGED_MEANWHILE)
    record_event(cooperation, Action.REPLACE, State.ACTIVE, State.ENDED, actor)


@FLOW.on(Action.WITHDRAW)
@FLOW.on(Action.EXPIRE)
@FLOW.on(Action.CANCEL)
def _on_closed_unanswered(cooperation, actor, note, now, **_):
    return {Cooperation.decided_at: now, Cooperation.decision_note: note}


def withdraw(cooperation, actor):
    """The distributor takes back an undecided nomination; the branch may name another at once."""
    return cooperation.apply(Action.WITHDRAW, actor)


def expire_nominations(now) -> int:
    """Nominations the officer left unanswered for ``nomination_expiry_days`` expire,
    with a notice to the officer and an SMS to the distributor's manager. Idempotent:
    each expires once, through the flow's conditional update."""
    cutoff = now - _dt.timedelta(days=expiry_days())
    count = 0
    stale = Cooperation.select().where(
        (Cooperation.status == State.PENDING_OFFICER) & (Cooperation.submitted_at <= cutoff)
    )
    for cooperation in stale.order_by(Cooperation.id):
        try:
            cooperation.apply(Action.EXPIRE, SYSTEM)
        except ConflictError:
            continue  # answered or withdrawn a moment ago
        count += 1
    return count


def _ended(default_reason):
    """The hook of an action that ends an active cooperation (a caller may name another
    ``end_reason``: a closed branch releases its officer with ``closed``)."""

    def hook(cooperation, actor, note, now, end_reason=default_reason, **_):
        return {Cooperation.ended_at: now, Cooperation.end_reason: end_reason, Cooperation.decision_note: note}

    return hook


FLOW.on(Action.RELEASE)(_ended("released"))
FLOW.on(Action.DIRECTORATE_END)(_ended("directorate"))
FLOW.on(Action.TERMINATE)(_ended("terminated"))


def release(branch, actor):
    """The distributor frees its branch's officer (and the officer's national code)."""
    if not branch.can_manage(actor):
        raise PermissionDenied(N_("You may not do this on this request."))
    cooperation = branch.active_cooperation()
    if cooperation is None:
        raise ConflictError(N_("This branch has no technical officer."))
    return cooperation.apply(Action.RELEASE, actor)
