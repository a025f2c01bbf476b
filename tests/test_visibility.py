"""Who sees which request: ``Model.visible_to(actor)`` (the query both doors use) and
``request.can_see(actor)`` (the predicate) agree with each other and with the rules,
for every type, every state and every kind of actor."""

from __future__ import annotations

import pytest

import models
from helpers import attach_all
from models import SYSTEM, Action, State
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals
from models.cooperation import Branch
from models.termination import TerminationRequest

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


@pytest.fixture
def world(make_officer, make_staff, dbc):
    reviewer = make_staff("university", TEHRAN).as_actor()
    requests = []  # (label, request)
    for state in ("draft", "submitted", "deficient", "approved", "rejected"):
        officer = make_officer()
        request = quals.start_request(officer, officer.as_actor())
        attach_all(request, officer.as_actor(), folder="9a")
        if state != "draft":
            request.apply(Action.SUBMIT, officer.as_actor())
        if state == "deficient":
            request.apply(Action.DEFICIENCY, reviewer, note="نقص")
        elif state in ("approved", "rejected"):
            request.apply(Action.APPROVE if state == "approved" else Action.REJECT, reviewer, note="یادداشت")
        requests.append((f"qualification {state}", request))
    for state in ("submitted", "deficient", "approved", "rejected"):
        officer = make_officer(qualified=True)
        request = edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [])
        if state == "deficient":
            request.apply(Action.DEFICIENCY, reviewer, note="نقص")
        elif state in ("approved", "rejected"):
            request.apply(Action.APPROVE if state == "approved" else Action.REJECT, reviewer, note="یادداشت")
        requests.append((f"edit {state}", request))
    distributor = models.create_distributor("pakhsh", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    tehran = models.City.get(models.City.name == "تهران")
    for n, state in enumerate(("pending_officer", "refused", "pending_university", "rejected", "active", "ended")):
        officer = make_officer(qualified=True)
        branch = coops.create_branch(
            distributor.as_actor(),
            f"شعبه {n}",
            tehran.province,
            tehran,
            f"تهران، خیابان آزادی، پلاک {n + 1}",
            district="17",
        )
        cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
        if state == "refused":
            cooperation.apply(Action.OFFICER_REJECT, officer.as_actor())
        elif state != "pending_officer":
            cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor())
        if state == "rejected":
            cooperation.apply(Action.REJECT, reviewer, note="رد")
        elif state in ("active", "ended"):
            cooperation.apply(Action.APPROVE, reviewer)
        if state == "ended":
            cooperation.apply(Action.TERMINATE, officer.as_actor(), note="پایان")
        requests.append((f"cooperation {state}", cooperation))
    actors = {
        "other officer": make_officer().as_actor(),
        "distributor": distributor.as_actor(),
        "other distributor": models.create_distributor(
            "other", "Kh0sh-Amad-2024", "شرکت ب", "guild", "09120000002"
        ).as_actor(),
        "reviewer": reviewer,
        "second reviewer": make_staff("university", TEHRAN).as_actor(),
        "other university": make_staff("university", ISFAHAN).as_actor(),
        "directorate": make_staff("directorate").as_actor(),
        "system": SYSTEM,
        "nobody": None,
    }
    return requests, actors


def expected(label, request, actor_name) -> bool:
    """The rules, stated once more by hand."""
    kind, state = label.split(" ", 1)
    if actor_name == "directorate":
        return True
    if actor_name == "owner":
        return True
    if actor_name in ("reviewer", "second reviewer"):
        # A university sees its requests once they reached it: not a draft, not a
        # nomination the officer has not answered or refused (M5).
        return (kind, state) not in (
            ("qualification", "draft"),
            ("cooperation", "pending_officer"),
            ("cooperation", "refused"),
        )
    if actor_name == "distributor":
        return kind == "cooperation"
    return False


def test_visible_to_and_can_see_agree_with_the_rules(world):
    requests, actors = world
    mismatches = []
    for label, request in requests:
        model = type(request)
        request = model.get_by_id(request.id)
        cell_actors = dict(actors, owner=request.officer.as_actor())
        for actor_name, actor in cell_actors.items():
            want = expected(label, request, actor_name)
            in_query = request.id in {r.id for r in model.visible_to(actor)}
            found = model.find(actor, request.id)
            got = (request.can_see(actor), in_query, found is not None)
            if got != (want, want, want):
                mismatches.append(f"{label} / {actor_name}: can_see, visible_to, find = {got}, want {want}")
    assert not mismatches, "\n".join(mismatches)


def test_visible_to_narrows_the_query_it_is_given(world):
    requests, actors = world
    query = models.Cooperation.select().where(models.Cooperation.status == State.ACTIVE)
    seen = list(models.Cooperation.visible_to(actors["distributor"], query))
    assert [c.status for c in seen] == [State.ACTIVE]
    assert list(models.Cooperation.visible_to(actors["other distributor"], query)) == []
    assert models.QualificationRequest.find(actors["directorate"], "not a number") is None


def test_branches_and_terminations_are_visible_to_their_owner_and_the_directorate(world, make_officer):
    requests, actors = world
    active = next(r for label, r in requests if label == "cooperation active")
    officer = models.Officer.get_by_id(active.officer_id)
    termination = models.termination.save_termination(officer, officer.as_actor(), "پایان قرارداد")
    branch = Branch.get_by_id(active.branch_id)
    for actor_name, actor in dict(actors, owner=officer.as_actor()).items():
        sees_branch = branch.id in {b.id for b in Branch.visible_to(actor)}
        sees_termination = termination.id in {t.id for t in TerminationRequest.visible_to(actor)}
        assert sees_branch == (actor_name in ("distributor", "directorate")), actor_name
        assert sees_termination == (actor_name in ("owner", "directorate")), actor_name
    assert branch.can_manage(actors["distributor"]) and not branch.can_manage(actors["other distributor"])
    assert termination.can_manage(officer.as_actor()) and not termination.can_manage(actors["other officer"])
