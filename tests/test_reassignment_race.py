"""The race of deactivating a reviewer against reassigning a request to them (issue 15:
"no request can be bound to an inactive account"), with two threads on two connections.

``reassign`` locks the reviewer's row (``FOR UPDATE`` on PostgreSQL; SQLite's one write
lock), and so does ``deactivate_staff``: whichever comes second waits for the first to
commit and then sees what it did. Without the lock, a reassignment that checks the account
while a deactivation is still uncommitted sees it active and binds the request to it after
the deactivation has already returned the reviewer's requests to the pool; the last test
shows the check below catches exactly that.
"""

from __future__ import annotations

import threading
import time

import pytest

import models
from helpers import attach_all
from models import DomainError, db, reassignment
from models import qualification as quals

TEHRAN = "دانشگاه علوم پزشکی تهران"


@pytest.fixture
def scene(make_officer, make_staff, dbc):
    officer = make_officer()
    request = quals.start_request(officer, officer.as_actor())
    attach_all(request, officer.as_actor())
    request.apply("submit", officer.as_actor())  # in Tehran University's pool
    return {
        "request": request,
        "leaving": make_staff("university", TEHRAN),
        "directorate": make_staff("directorate").as_actor(),
    }


def bound_to_inactive_accounts() -> list:
    """Every open request, of every type, bound to an account that is not active."""
    inactive = [s.id for s in models.StaffUser.select().where(models.StaffUser.is_active == False)]  # noqa: E712
    return [(m.REQUEST_TYPE, r.id) for s in inactive for m, r in reassignment.bound_to(s)]


def waits_or_ends(thread, timeout=20.0) -> str:
    """ "blocked" once the thread's statement waits on a row lock, "done" if it finished
    without waiting. SQLite shows no lock waits (the thread waits at BEGIN IMMEDIATE): it is
    given half a second, and still running then means it waits."""
    if models.is_sqlite():
        thread.join(0.5)
        return "blocked" if thread.is_alive() else "done"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return "done"
        waiting = db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return "blocked"
        time.sleep(0.05)
    raise AssertionError("the second transaction never reached the database")


def held_open(operation, holding, release, errors):
    """Run ``operation`` in a transaction that stays open until ``release``."""

    def run():
        try:
            with db.connection_context(), db.atomic():
                operation()
                holding.set()
                release.wait(30)
        except Exception as error:  # reported by the test
            errors.append(error)
            holding.set()

    return threading.Thread(target=run)


def in_own_connection(operation, outcome):
    def run():
        with db.connection_context():
            try:
                operation()
                outcome["result"] = "done"
            except DomainError as error:
                outcome["result"] = error.msgid

    return threading.Thread(target=run)


def race(first, second):
    """``first`` holds its transaction open while ``second`` starts on another connection;
    then ``first`` commits. Returns how ``second`` ended and whether it had to wait."""
    holding, release, errors, outcome = threading.Event(), threading.Event(), [], {}
    holder = held_open(first, holding, release, errors)
    holder.start()
    assert holding.wait(20) and not errors, errors
    other = in_own_connection(second, outcome)
    other.start()
    waited = waits_or_ends(other)
    release.set()
    holder.join(30)
    other.join(30)
    assert not errors, errors
    assert not holder.is_alive() and not other.is_alive()
    return outcome["result"], waited


# Each side loads its own copies, as two web requests would (the objects are not shared).
def deactivate(scene):
    def run():
        reviewer = models.StaffUser.get_by_id(scene["leaving"].id)
        reassignment.deactivate_staff(reviewer, scene["directorate"], "بازنشستگی")

    return run


def reassign_to_leaving(scene):
    def run():
        request = models.QualificationRequest.get_by_id(scene["request"].id)
        reviewer = models.StaffUser.get_by_id(scene["leaving"].id)
        reassignment.reassign(request, scene["directorate"], reviewer=reviewer)

    return run


def test_a_reassignment_during_a_deactivation_waits_and_is_refused(scene):
    result, waited = race(deactivate(scene), reassign_to_leaving(scene))
    assert waited == "blocked"
    assert result == "This account is deactivated; choose an active reviewer."
    assert models.QualificationRequest.get_by_id(scene["request"].id).reviewer_id is None
    assert not models.StaffUser.get_by_id(scene["leaving"].id).is_active
    assert bound_to_inactive_accounts() == []


def test_a_deactivation_during_a_reassignment_waits_and_returns_the_request(scene):
    result, waited = race(reassign_to_leaving(scene), deactivate(scene))
    assert waited == "blocked" and result == "done"
    request = models.QualificationRequest.get_by_id(scene["request"].id)
    assert request.reviewer_id is None
    assert [e.action for e in request.history()][-2:] == ["reassign", "return_to_pool"]
    assert bound_to_inactive_accounts() == []


@pytest.mark.parametrize("round_", range(4))
def test_started_together_no_request_ends_bound_to_an_inactive_account(scene, round_):
    barrier, outcomes = threading.Barrier(2), [{}, {}]

    def together(operation):
        def run():
            barrier.wait(10)
            operation()

        return run

    if round_ % 2:
        operations = [deactivate(scene), reassign_to_leaving(scene)]
    else:
        operations = [reassign_to_leaving(scene), deactivate(scene)]
    threads = [in_own_connection(together(op), out) for op, out in zip(operations, outcomes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(out.get("result") for out in outcomes), outcomes
    assert not models.StaffUser.get_by_id(scene["leaving"].id).is_active
    assert models.QualificationRequest.get_by_id(scene["request"].id).reviewer_id is None
    assert bound_to_inactive_accounts() == []


def test_without_the_row_lock_the_check_above_fails(scene, monkeypatch):
    """The same race with ``reassign``'s lock taken away (PostgreSQL: SQLite's single
    writer serialises the two anyway): the reassignment sees the account still active and
    binds the request to it. The invariant check catches it."""
    if models.is_sqlite():
        pytest.skip("SQLite serialises writers whatever the code locks")
    monkeypatch.setattr(reassignment, "_locked", lambda query: query)
    result, waited = race(deactivate(scene), reassign_to_leaving(scene))
    assert (result, waited) == ("done", "done")
    assert bound_to_inactive_accounts() == [("qualification", scene["request"].id)]
