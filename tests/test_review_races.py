"""The back-office race of the review (findings §6.2), on both databases.

Two branches nominate the same officer (allowed: one open nomination per branch), the
officer accepts both, and two reviewers approve at the same moment. The checks of the
approval cannot see the other transaction's uncommitted row, so on PostgreSQL the second
approval passes them and only the partial unique index refuses it. The flow must turn
that into a ConflictError (a 409 page in the back office, not a 500), and leave nothing
of the second approval behind.
"""

from __future__ import annotations

import threading
import time

import pytest

import models
from models import Action, ConflictError, Cooperation, State, db
from models import cooperation as coops

TEHRAN = "دانشگاه علوم پزشکی تهران"

# The password the make_staff factory gives every account.
PASSWORD = "Kh0sh-Amad-2024"


def signed_in(app, staff):
    """A test client signed in to the back office as ``staff``."""
    client = app.test_client()
    response = client.post("/admin/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


APPROVED_SUBJECT = "Your cooperation was approved"


@pytest.fixture
def race(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    tehran = models.City.get(models.City.name == "تهران")
    cooperations = []
    for n in (1, 2):
        distributor = models.create_distributor(
            f"pakhsh{n}", "Kh0sh-Amad-2024", f"شرکت {n}", "company", f"0912000000{n}"
        )
        branch = coops.create_branch(
            distributor.as_actor(),
            f"شعبه {n}",
            tehran.province,
            tehran,
            f"تهران، خیابان آزادی، پلاک {n}",
            district="17",
        )
        cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
        cooperations.append(cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor()))
    reviewers = [make_staff("university", TEHRAN), make_staff("university", TEHRAN)]
    return {"officer": officer, "cooperations": cooperations, "reviewers": reviewers}


def traces_of_approval(cooperation_id) -> dict:
    """What an approval of this cooperation writes, besides its status."""
    return {
        "events": models.RequestEvent.select()
        .where(
            (models.RequestEvent.request_type == "cooperation")
            & (models.RequestEvent.request_id == cooperation_id)
            & (models.RequestEvent.action == Action.APPROVE)
        )
        .count(),
        "audit": models.AuditLog.select()
        .where((models.AuditLog.action == "cooperation_approve") & (models.AuditLog.object_id == cooperation_id))
        .count(),
    }


def approved_notices(officer) -> int:
    subject = models.translate(APPROVED_SUBJECT)
    return (
        models.Notice.select().where((models.Notice.officer == officer.id) & (models.Notice.subject == subject)).count()
    )


def assert_one_approval_and_nothing_of_the_other(race, winner, loser):
    assert Cooperation.get_by_id(winner.id).status == State.ACTIVE
    assert Cooperation.get_by_id(loser.id).status == State.PENDING_UNIVERSITY
    assert (
        Cooperation.select()
        .where((Cooperation.officer == race["officer"].id) & (Cooperation.status == State.ACTIVE))
        .count()
        == 1
    )
    assert traces_of_approval(winner.id) == {"events": 1, "audit": 1}
    assert traces_of_approval(loser.id) == {"events": 0, "audit": 0}
    assert approved_notices(race["officer"]) == 1
    # One SMS to the winning distributor, none to the other.
    texts = {
        d.manager_mobile: models.SmsOutbox.select().where(models.SmsOutbox.to == d.manager_mobile).count()
        for d in (winner.distributor, loser.distributor)
    }
    assert texts[winner.distributor.manager_mobile] == texts[loser.distributor.manager_mobile] + 1


def wait_until_blocked(timeout=20.0) -> bool:
    """PostgreSQL: True once a session of this database waits on a lock (the second
    approval's UPDATE, queued behind the first one's uncommitted index entry). SQLite
    shows no such thing: the second writer waits at BEGIN; give it a moment."""
    if models.is_sqlite():
        time.sleep(0.5)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return True
        time.sleep(0.05)
    raise AssertionError("the second approval never reached the database")


def hold_first_approval(cooperation_id, reviewer, holding, release, errors):
    """The first reviewer approves in a transaction that stays open until ``release``."""
    try:
        with db.connection_context(), db.atomic():
            Cooperation.get_by_id(cooperation_id).apply(Action.APPROVE, reviewer.as_actor())
            holding.set()
            release.wait(30)
    except Exception as error:  # reported by the test, not swallowed
        errors.append(error)
        holding.set()


def test_second_concurrent_approval_is_a_conflict_and_leaves_nothing(race):
    first, second = race["cooperations"]
    holding, release, errors, outcome = threading.Event(), threading.Event(), [], {}
    holder = threading.Thread(
        target=hold_first_approval, args=(first.id, race["reviewers"][0], holding, release, errors)
    )
    holder.start()
    assert holding.wait(20) and not errors, errors

    def approve_second():
        with db.connection_context():
            cooperation = Cooperation.get_by_id(second.id)
            try:
                cooperation.apply(Action.APPROVE, race["reviewers"][1].as_actor())
                outcome["result"] = "approved"
            except ConflictError as error:
                outcome["result"] = error.msgid
            outcome["status_in_memory"] = cooperation.status

    other = threading.Thread(target=approve_second)
    other.start()
    blocked = wait_until_blocked()
    release.set()
    holder.join(30)
    other.join(30)
    assert not errors, errors
    assert outcome["result"] == coops.BECAME_ACTIVE_ELSEWHERE
    # On PostgreSQL the second approval got past every check, to the unique index.
    assert blocked == (not models.is_sqlite())
    assert outcome["status_in_memory"] == State.PENDING_UNIVERSITY
    assert_one_approval_and_nothing_of_the_other(race, first, second)


def test_the_back_office_answers_the_race_with_409(app, race):
    first, second = race["cooperations"]
    client = signed_in(app, race["reviewers"][1])
    holding, release, errors, responses = threading.Event(), threading.Event(), [], []
    holder = threading.Thread(
        target=hold_first_approval, args=(first.id, race["reviewers"][0], holding, release, errors)
    )
    holder.start()
    assert holding.wait(20) and not errors, errors

    def post():
        responses.append(client.post(f"/admin/cooperation/review/?id={second.id}", data={"decision": "approve"}))

    poster = threading.Thread(target=post)
    poster.start()
    wait_until_blocked()
    release.set()
    holder.join(30)
    poster.join(30)
    assert not errors, errors
    (response,) = responses
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert models.translate(coops.BECAME_ACTIVE_ELSEWHERE) in page
    assert_one_approval_and_nothing_of_the_other(race, first, second)


def test_two_reviewers_clicking_approve_together_get_one_success_and_one_409(app, race):
    clients = [signed_in(app, reviewer) for reviewer in race["reviewers"]]
    barrier = threading.Barrier(2)
    statuses = {}

    def post(client, cooperation):
        barrier.wait()
        statuses[cooperation.id] = client.post(
            f"/admin/cooperation/review/?id={cooperation.id}", data={"decision": "approve"}
        ).status_code

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, race["cooperations"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses.values()) == [302, 409]
    winner, loser = sorted(race["cooperations"], key=lambda c: statuses[c.id])
    assert_one_approval_and_nothing_of_the_other(race, winner, loser)
