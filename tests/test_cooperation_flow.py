"""Cooperation and termination: the state table with every actor, the invariants, races."""

import itertools
import threading

import pytest
from peewee import IntegrityError

import models
from models import ConflictError, Cooperation, DomainError, PermissionDenied
from models import cooperation as coops

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


@pytest.fixture
def world(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    other_officer = make_officer(qualified=True)
    distributor = models.create_distributor("dist1", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    other_distributor = models.create_distributor("dist2", "Kh0sh-Amad-2024", "شرکت ب", "guild", "09120000002")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    actors = {
        "officer": officer.as_actor(),
        "other_officer": other_officer.as_actor(),
        "distributor": distributor.as_actor(),
        "other_distributor": other_distributor.as_actor(),
        "reviewer": make_staff("university", TEHRAN).as_actor(),
        "other_university": make_staff("university", ISFAHAN).as_actor(),
        "directorate": make_staff("directorate").as_actor(),
    }
    return {
        "officer": officer,
        "other_officer": other_officer,
        "branch": branch,
        "actors": actors,
        "distributor": distributor,
        "tehran": tehran,
    }


def cooperation_in_state(world, state):
    actors = world["actors"]
    cooperation = coops.nominate(world["branch"], actors["distributor"], world["officer"].national_code)
    if state == "pending_officer":
        return cooperation
    if state == "officer_rejected":
        return cooperation.apply("officer_reject", actors["officer"])
    cooperation.apply("officer_approve", actors["officer"])
    if state == "pending_university":
        return cooperation
    if state == "rejected":
        return cooperation.apply("reject", actors["reviewer"], note="مدارک ناقص")
    cooperation.apply("approve", actors["reviewer"])
    if state == "active":
        return cooperation
    if state == "ended":
        return cooperation.apply("release", actors["distributor"])
    raise AssertionError(state)


STATES = ("pending_officer", "officer_rejected", "pending_university", "rejected", "active", "ended")
ACTIONS = ("officer_approve", "officer_reject", "approve", "reject", "release", "terminate", "directorate_end")
ACTORS = ("officer", "other_officer", "distributor", "other_distributor", "reviewer", "other_university", "directorate")
ALLOWED = {
    ("pending_officer", "officer_approve", "officer"): "pending_university",
    ("pending_officer", "officer_reject", "officer"): "rejected",
    ("pending_university", "approve", "reviewer"): "active",
    ("pending_university", "reject", "reviewer"): "rejected",
    ("active", "release", "distributor"): "ended",
    ("active", "terminate", "officer"): "ended",
    # Deactivation, suspension or revocation by the directorate (models/account_admin.py).
    ("active", "directorate_end", "directorate"): "ended",
}


@pytest.mark.parametrize("state, action, actor", list(itertools.product(STATES, ACTIONS, ACTORS)))
def test_transition_table(world, state, action, actor):
    cooperation = cooperation_in_state(world, state)
    before = Cooperation.get_by_id(cooperation.id).status
    expected = ALLOWED.get((state, action, actor))
    if expected is None:
        with pytest.raises((PermissionDenied, ConflictError)):
            cooperation.apply(action, world["actors"][actor], note="یادداشت")
        assert Cooperation.get_by_id(cooperation.id).status == before
    else:
        cooperation.apply(action, world["actors"][actor], note="یادداشت")
        assert Cooperation.get_by_id(cooperation.id).status == expected


def test_accepted_request_goes_to_the_university_of_the_branchs_city(world):
    cooperation = cooperation_in_state(world, "pending_university")
    assert cooperation.university.name == TEHRAN


@pytest.mark.parametrize("case", ["unknown", "not_qualified", "active_elsewhere", "other_distributors_branch"])
def test_nomination_refusals(world, make_officer, case):
    actors = world["actors"]
    if case == "unknown":
        with pytest.raises(DomainError) as error:
            coops.nominate(world["branch"], actors["distributor"], "0084575948")
        assert error.value.code == "cannot_nominate"
    elif case == "not_qualified":
        fresh = make_officer()
        with pytest.raises(DomainError) as error:
            coops.nominate(world["branch"], actors["distributor"], fresh.national_code)
        assert error.value.code == "cannot_nominate"
    elif case == "active_elsewhere":
        cooperation_in_state(world, "active")
        other_branch = coops.create_branch(
            actors["other_distributor"],
            "شعبه دیگر",
            world["tehran"].province,
            world["tehran"],
            "تهران، خیابان دیگر، پلاک ۲",
            district="17",
        )
        with pytest.raises(DomainError) as error:
            coops.nominate(other_branch, actors["other_distributor"], world["officer"].national_code)
        assert error.value.code == "cannot_nominate"
        # The message says nothing about which distributor.
        assert "شرکت الف" not in str(error.value)
    else:
        with pytest.raises(PermissionDenied):
            coops.nominate(world["branch"], actors["other_distributor"], world["officer"].national_code)


def test_persian_digits_are_accepted_in_nomination(world):
    code = world["officer"].national_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    cooperation = coops.nominate(world["branch"], world["actors"]["distributor"], code)
    assert cooperation.officer_id == world["officer"].id


def test_approving_a_new_officer_releases_and_notifies_the_previous_one(world):
    actors = world["actors"]
    first = cooperation_in_state(world, "active")
    second = coops.nominate(world["branch"], actors["distributor"], world["other_officer"].national_code)
    second.apply("officer_approve", actors["other_officer"])
    second.apply("approve", actors["reviewer"])
    assert Cooperation.get_by_id(first.id).status == "ended"
    assert Cooperation.get_by_id(first.id).end_reason == "replaced"
    assert world["branch"].active_cooperation().officer_id == world["other_officer"].id
    subjects = [n.subject for n in models.inbox(world["officer"])]
    assert any("پایان" in s for s in subjects)


def test_later_approval_is_refused_when_the_officer_became_active_elsewhere(world):
    actors = world["actors"]
    other_branch = coops.create_branch(
        actors["other_distributor"],
        "شعبه ب",
        world["tehran"].province,
        world["tehran"],
        "تهران، خیابان ب، پلاک ۲",
        district="17",
    )
    a = coops.nominate(world["branch"], actors["distributor"], world["officer"].national_code)
    b = coops.nominate(other_branch, actors["other_distributor"], world["officer"].national_code)
    a.apply("officer_approve", actors["officer"])
    b.apply("officer_approve", actors["officer"])
    a.apply("approve", actors["reviewer"])
    with pytest.raises(ConflictError):
        b.apply("approve", actors["reviewer"])
    assert (
        Cooperation.select()
        .where((Cooperation.officer == world["officer"].id) & (Cooperation.status == "active"))
        .count()
        == 1
    )


def test_two_approvals_at_the_same_moment_one_wins(world, app):
    actors = world["actors"]
    other_branch = coops.create_branch(
        actors["other_distributor"],
        "شعبه ب",
        world["tehran"].province,
        world["tehran"],
        "تهران، خیابان ب، پلاک ۲",
        district="17",
    )
    requests = [
        coops.nominate(world["branch"], actors["distributor"], world["officer"].national_code),
        coops.nominate(other_branch, actors["other_distributor"], world["officer"].national_code),
    ]
    for r in requests:
        r.apply("officer_approve", actors["officer"])
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(cooperation_id):
        with models.db.connection_context():
            cooperation = Cooperation.get_by_id(cooperation_id)
            barrier.wait()
            try:
                cooperation.apply("approve", actors["reviewer"])
                outcomes.append("approved")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(r.id,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved", "conflict"]
    assert (
        Cooperation.select()
        .where((Cooperation.officer == world["officer"].id) & (Cooperation.status == "active"))
        .count()
        == 1
    )


def test_database_refuses_a_second_active_cooperation(world):
    cooperation = cooperation_in_state(world, "active")
    other_branch = coops.create_branch(
        world["actors"]["other_distributor"],
        "شعبه ب",
        world["tehran"].province,
        world["tehran"],
        "تهران، خیابان ب، پلاک ۲",
        district="17",
    )
    with pytest.raises(IntegrityError), models.db.atomic():
        Cooperation.create(
            branch=other_branch,
            distributor=other_branch.distributor_id,
            officer=cooperation.officer_id,
            status="active",
        )


def test_termination_ends_the_cooperation_and_texts_the_manager(world):
    cooperation = cooperation_in_state(world, "active")
    officer = world["officer"]
    termination = models.termination.save_termination(officer, world["actors"]["officer"], "پایان قرارداد کاری")
    assert Cooperation.get_by_id(cooperation.id).status == "active"
    with pytest.raises(PermissionDenied):
        models.termination.finalize_termination(termination, world["actors"]["other_officer"])
    models.termination.finalize_termination(termination, world["actors"]["officer"])
    ended = Cooperation.get_by_id(cooperation.id)
    assert ended.status == "ended" and ended.end_reason == "terminated" and ended.ended_at
    assert world["branch"].active_cooperation() is None
    sms = (
        models.SmsOutbox.select()
        .where(models.SmsOutbox.to == world["distributor"].manager_mobile)
        .order_by(models.SmsOutbox.id.desc())
        .first()
    )
    assert officer.full_name in sms.text
    with pytest.raises(ConflictError):
        models.termination.finalize_termination(termination, world["actors"]["officer"])


def test_release_frees_the_national_code(world):
    cooperation_in_state(world, "active")
    coops.release(world["branch"], world["actors"]["distributor"])
    assert coops.active_cooperation_of(world["officer"]) is None
    again = coops.nominate(world["branch"], world["actors"]["distributor"], world["officer"].national_code)
    assert again.status == "pending_officer"


def test_history_is_kept(world):
    cooperation = cooperation_in_state(world, "ended")
    assert [e.action for e in cooperation.history()] == ["nominate", "officer_approve", "approve", "release"]
    assert Cooperation.select().count() == 1
