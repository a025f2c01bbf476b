"""Branches change (issue 15): editing and closing a branch, and the manager's mobile.

Table-driven: every (what the branch has, who closes it) -> what becomes of its requests, and
every kind of edit -> what is stored and what is routed where; on both databases."""

import pytest

import models
from models import ConflictError, Cooperation, DomainError, PermissionDenied, ValidationFailed, time_rules
from models import cooperation as coops
from tests.helpers import sms_code_to

TEHRAN = "دانشگاه علوم پزشکی تهران"
IRAN = "دانشگاه علوم پزشکی ایران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"
MANAGER = "09120000001"


@pytest.fixture
def world(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("dist1", "Kh0sh-Amad-2024", "شرکت الف", "company", MANAGER)
    other = models.create_distributor("dist2", "Kh0sh-Amad-2024", "شرکت ب", "guild", "09120000002")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    reviewer = make_staff("university", TEHRAN)
    return {
        "officer": officer,
        "distributor": distributor,
        "branch": branch,
        "tehran": tehran,
        "isfahan": models.City.get(models.City.name == "اصفهان"),
        "reviewer": reviewer,
        "actors": {
            "distributor": distributor.as_actor(),
            "other_distributor": other.as_actor(),
            "directorate": make_staff("directorate").as_actor(),
            "reviewer": reviewer.as_actor(),
            "officer": officer.as_actor(),
        },
    }


def branch_with(world, situation):
    """The branch with nothing, an unanswered nomination, one under review, or an officer."""
    branch, actors = world["branch"], world["actors"]
    if situation == "vacant":
        return None
    cooperation = coops.nominate(branch, actors["distributor"], world["officer"].national_code)
    if situation == "pending_officer":
        return cooperation
    cooperation.apply("officer_approve", actors["officer"])
    if situation == "pending_university":
        return cooperation
    return cooperation.apply("approve", actors["reviewer"])


CLOSE_CASES = [
    # (situation, closer, the cooperation's status after, its end_reason)
    ("vacant", "distributor", None, None),
    ("vacant", "directorate", None, None),
    ("pending_officer", "distributor", "withdrawn", ""),
    ("pending_officer", "directorate", "cancelled", ""),
    ("pending_university", "distributor", "withdrawn", ""),
    ("pending_university", "directorate", "cancelled", ""),
    ("active", "distributor", "ended", "closed"),
    ("active", "directorate", "ended", "closed"),
]


@pytest.mark.parametrize(("situation", "closer", "status", "end_reason"), CLOSE_CASES)
def test_closing_ends_what_the_branch_has(world, situation, closer, status, end_reason):
    cooperation = branch_with(world, situation)
    notices_before = models.Notice.select().count()
    closed = models.close_branch(world["branch"], world["actors"][closer], "شعبه تعطیل شد")
    assert not closed.is_active and closed.closed_at is not None and closed.close_reason == "شعبه تعطیل شد"
    assert models.AuditLog.select().where(models.AuditLog.action == "branch_closed").count() == 1
    if cooperation is None:
        return
    after = Cooperation.get_by_id(cooperation.id)
    assert after.status == status
    assert after.end_reason == end_reason
    assert after.decision_note == "شعبه تعطیل شد"
    # The officer is told through the flow's notice.
    assert models.Notice.select().count() == notices_before + 1
    assert models.Notice.select().order_by(models.Notice.id.desc()).first().officer_id == world["officer"].id


@pytest.mark.parametrize("situation", ["vacant", "pending_officer", "active"])
@pytest.mark.parametrize("closer", ["other_distributor", "reviewer", "officer"])
def test_only_its_distributor_or_the_directorate_closes_a_branch(world, situation, closer):
    cooperation = branch_with(world, situation)
    with pytest.raises(PermissionDenied):
        models.close_branch(world["branch"], world["actors"][closer], "شعبه تعطیل شد")
    assert models.Branch.get_by_id(world["branch"].id).is_active
    if cooperation is not None:
        assert Cooperation.get_by_id(cooperation.id).status == cooperation.status


def test_closing_needs_a_reason_and_happens_once(world):
    with pytest.raises(DomainError) as refused:
        models.close_branch(world["branch"], world["actors"]["distributor"], "  ")
    assert refused.value.field == "reason"
    models.close_branch(world["branch"], world["actors"]["distributor"], "شعبه تعطیل شد")
    with pytest.raises(ConflictError):
        models.close_branch(world["branch"], world["actors"]["directorate"], "شعبه تعطیل شد")


def test_a_closed_branch_is_not_chased_nor_nominated_nor_edited(world):
    branch_with(world, "active")
    cooperation = world["branch"].active_cooperation()
    cooperation.apply("release", world["actors"]["distributor"])
    now = models.utcnow()
    assert [v.branch.id for v in time_rules.vacancies(now)] == [world["branch"].id]
    models.close_branch(world["branch"], world["actors"]["distributor"], "شعبه تعطیل شد")
    assert time_rules.vacancies(now) == []
    assert time_rules.chase_vacancies(now) == 0
    branch = models.Branch.get_by_id(world["branch"].id)
    with pytest.raises(ConflictError):
        coops.nominate(branch, world["actors"]["distributor"], world["officer"].national_code)
    with pytest.raises(ConflictError):
        models.edit_branch(branch, world["actors"]["distributor"], name="شعبه تازه")


def test_closing_an_active_branch_texts_the_officer_and_ends_the_cooperation(world):
    branch_with(world, "active")
    models.close_branch(world["branch"], world["actors"]["directorate"], "شعبه تعطیل شد")
    assert world["branch"].active_cooperation() is None
    texts = [s.render() for s in models.SmsOutbox.select().where(models.SmsOutbox.to == world["officer"].mobile)]
    assert texts, "the officer gets the flow's SMS"
    # The officer is free: another branch may nominate them.
    assert coops.active_cooperation_of(world["officer"]) is None


# ------------------------------------------------------------------ editing


def university_named(name):
    return models.University.get(models.University.name == name).id


EDIT_CASES = [
    # (fields given, expected stored (name, city, district), error field or None)
    ({"name": "  شعبه  شمال "}, ("شعبه شمال", "تهران", 17), None),
    ({"address": "تهران، خیابان انقلاب، پلاک ۲۰"}, ("شعبه مرکزی", "تهران", 17), None),
    ({"district": "۲"}, ("شعبه مرکزی", "تهران", 2), None),
    ({"district": ""}, None, "district"),
    ({"district": "23"}, None, "district"),
    ({"city": "isfahan"}, ("شعبه مرکزی", "اصفهان", None), "province"),
    ({"city": "isfahan", "province": "isfahan"}, ("شعبه مرکزی", "اصفهان", None), None),
    ({"city": "isfahan", "province": "isfahan", "district": "3"}, None, "district"),
    ({"name": "x"}, None, "name"),
    ({"address": "کوتاه"}, None, "address"),
]


@pytest.mark.parametrize(("given", "stored", "error"), EDIT_CASES)
def test_editing_a_branch(world, given, stored, error):
    fields = dict(given)
    if fields.get("city") == "isfahan":
        fields["city"] = world["isfahan"]
    if fields.get("province") == "isfahan":
        fields["province"] = world["isfahan"].province
    if error == "province":  # a city outside the branch's province
        with pytest.raises(ValidationFailed) as failed:
            models.edit_branch(world["branch"], world["actors"]["distributor"], **fields)
        assert "city" in failed.value.errors
        return
    if error is not None:
        with pytest.raises(ValidationFailed) as failed:
            models.edit_branch(world["branch"], world["actors"]["distributor"], **fields)
        assert error in failed.value.errors
        assert models.Branch.get_by_id(world["branch"].id).name == "شعبه مرکزی"
        return
    edited = models.edit_branch(world["branch"], world["actors"]["distributor"], **fields)
    assert (edited.name, edited.city.name, edited.district) == stored
    audit = models.AuditLog.get(models.AuditLog.action == "branch_edited")
    assert set(audit.detail.split(", ")) <= {"name", "address", "province", "city", "district"}
    assert "شعبه" not in audit.detail  # field names, not values


@pytest.mark.parametrize("editor", ["distributor", "directorate"])
def test_the_distributor_and_the_directorate_edit(world, editor):
    edited = models.edit_branch(world["branch"], world["actors"][editor], name="شعبه شمال")
    assert edited.name == "شعبه شمال"


@pytest.mark.parametrize("editor", ["other_distributor", "reviewer", "officer"])
def test_nobody_else_edits(world, editor):
    with pytest.raises(PermissionDenied):
        models.edit_branch(world["branch"], world["actors"][editor], name="شعبه شمال")


def test_unknown_fields_are_refused(world):
    with pytest.raises(DomainError):
        models.edit_branch(world["branch"], world["actors"]["distributor"], distributor=2)


def test_an_imported_tehran_branch_without_a_district_must_be_given_one(world):
    models.Branch.update(district=None).where(models.Branch.id == world["branch"].id).execute()
    branch = models.Branch.get_by_id(world["branch"].id)
    with pytest.raises(ValidationFailed) as failed:
        models.edit_branch(branch, world["actors"]["distributor"], name="شعبه شمال")
    assert "district" in failed.value.errors
    assert models.edit_branch(branch, world["actors"]["distributor"], name="شعبه شمال", district="2").district == 2


MOVE_CASES = [
    # (situation, the cooperation's university after moving to district 2 (Iran's), refused)
    ("pending_officer", IRAN, False),
    ("pending_university", TEHRAN, True),
    ("active", TEHRAN, False),
]


@pytest.mark.parametrize(("situation", "university", "refused"), MOVE_CASES)
def test_moving_a_branch_reroutes_nothing_decided(world, situation, university, refused):
    cooperation = branch_with(world, situation)
    if refused:
        with pytest.raises(ConflictError):
            models.edit_branch(world["branch"], world["actors"]["distributor"], district="2")
        assert models.Branch.get_by_id(world["branch"].id).district == 17
    else:
        assert models.edit_branch(world["branch"], world["actors"]["distributor"], district="2").district == 2
    assert Cooperation.get_by_id(cooperation.id).university_id == university_named(university)


def test_a_moved_branch_sends_its_next_nomination_to_its_new_university(world):
    models.edit_branch(world["branch"], world["actors"]["distributor"], district="2")
    branch = models.Branch.get_by_id(world["branch"].id)
    cooperation = coops.nominate(branch, world["actors"]["distributor"], world["officer"].national_code)
    assert cooperation.university_id == university_named(IRAN)


# ------------------------------------------------------------------ the manager's mobile


def test_the_distributor_changes_its_managers_mobile_with_a_code(world):
    distributor, actor = world["distributor"], world["actors"]["distributor"]
    verification = models.start_manager_mobile_change(distributor, actor, "Kh0sh-Amad-2024", "۰۹۱۳۰۰۰۰۰۰۹")
    assert models.Distributor.get_by_id(distributor.id).manager_mobile == MANAGER  # not before the code
    code = sms_code_to("09130000009")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(DomainError) as refused:
        models.confirm_manager_mobile_change(distributor, actor, verification.token, wrong)
    assert refused.value.field == "code"
    old = models.confirm_manager_mobile_change(distributor, actor, verification.token, code)
    assert old == MANAGER
    assert models.Distributor.get_by_id(distributor.id).manager_mobile == "09130000009"
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == MANAGER).exists(), "the old number is told"
    assert models.AuditLog.select().where(models.AuditLog.action == "manager_mobile_changed").count() == 1
    with pytest.raises(DomainError):  # a code confirms once
        models.confirm_manager_mobile_change(distributor, actor, verification.token, code)


MOBILE_REFUSALS = [
    # (actor, password, mobile, error field or PermissionDenied)
    ("other_distributor", "Kh0sh-Amad-2024", "09130000009", PermissionDenied),
    ("directorate", "Kh0sh-Amad-2024", "09130000009", PermissionDenied),
    ("distributor", "wrong-password", "09130000009", "current_password"),
    ("distributor", "Kh0sh-Amad-2024", "12345", "mobile"),
    ("distributor", "Kh0sh-Amad-2024", MANAGER, "mobile"),
]


@pytest.mark.parametrize(("who", "password", "mobile", "refusal"), MOBILE_REFUSALS)
def test_managers_mobile_refusals(world, who, password, mobile, refusal):
    expected = refusal if refusal is PermissionDenied else DomainError
    with pytest.raises(expected) as refused:
        models.start_manager_mobile_change(world["distributor"], world["actors"][who], password, mobile)
    if refusal is not PermissionDenied:
        assert refused.value.field == refusal
    assert not models.SmsOutbox.select().where(models.SmsOutbox.to == "09130000009").exists()


def test_a_code_for_one_distributor_does_not_confirm_for_another(world):
    verification = models.start_manager_mobile_change(
        world["distributor"], world["actors"]["distributor"], "Kh0sh-Amad-2024", "09130000009"
    )
    other = models.Distributor.get(models.Distributor.username == "dist2")
    with pytest.raises(DomainError):
        models.confirm_manager_mobile_change(other, other.as_actor(), verification.token, sms_code_to("09130000009"))
    assert other.manager_mobile == "09120000002"


def test_the_directorate_sets_a_managers_mobile_with_a_reason(world):
    distributor = world["distributor"]
    with pytest.raises(DomainError):
        models.change_manager_mobile_by_directorate(distributor, world["actors"]["directorate"], "09130000009", "")
    with pytest.raises(PermissionDenied):
        models.change_manager_mobile_by_directorate(
            distributor, world["actors"]["distributor"], "09130000009", "مدیر عوض شد"
        )
    models.change_manager_mobile_by_directorate(
        distributor, world["actors"]["directorate"], "09130000009", "مدیر عوض شد"
    )
    assert models.Distributor.get_by_id(distributor.id).manager_mobile == "09130000009"
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == MANAGER).exists()
