"""Closing a branch against nominating for it, two threads on two connections (both
databases): the branch's row is locked by both, so the close finds a nomination made a
moment before it (and withdraws it), and a nomination made during a close is refused. No
open nomination is left on a closed branch."""

from __future__ import annotations

import threading
import time

import pytest

import models
from models import Cooperation, DomainError, db
from models import cooperation as coops

REASON = "شعبه تعطیل شد"


@pytest.fixture
def scene(make_officer, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("dist1", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    return {"officer": officer, "branch": branch, "actor": distributor.as_actor()}


def nominate(scene):
    branch = models.Branch.get_by_id(scene["branch"].id)  # each side its own copy
    coops.nominate(branch, scene["actor"], scene["officer"].national_code)


def close(scene):
    models.close_branch(models.Branch.get_by_id(scene["branch"].id), scene["actor"], REASON)


def waits(thread) -> bool:
    """True when the thread is still waiting for the held transaction after a moment
    (PostgreSQL: once its session waits on a lock)."""
    if models.is_sqlite():
        thread.join(0.5)
        return thread.is_alive()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and thread.is_alive():
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        if db.execute_sql(query).fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


def race(first, second):
    """``first`` holds its transaction open while ``second`` runs on another connection."""
    holding, release, errors, outcome = threading.Event(), threading.Event(), [], {}

    def hold():
        try:
            with db.connection_context(), db.atomic():
                first()
                holding.set()
                release.wait(30)
        except Exception as error:  # reported by the test
            errors.append(error)
            holding.set()

    def run():
        with db.connection_context():
            try:
                second()
                outcome["result"] = "done"
            except DomainError as error:
                outcome["result"] = error.msgid

    holder, other = threading.Thread(target=hold), threading.Thread(target=run)
    holder.start()
    assert holding.wait(20) and not errors, errors
    other.start()
    waited = waits(other)
    release.set()
    holder.join(30)
    other.join(30)
    assert not errors, errors
    return outcome.get("result"), waited


def open_on_closed_branches() -> int:
    return (
        Cooperation.select()
        .join(models.Branch)
        .where(Cooperation.status.in_(coops.FLOW.open_states) & (models.Branch.is_active == False))  # noqa: E712
        .count()
    )


def test_a_close_during_a_nomination_waits_and_withdraws_it(scene):
    result, waited = race(lambda: nominate(scene), lambda: close(scene))
    assert (result, waited) == ("done", True)
    assert Cooperation.get().status == "withdrawn"
    assert open_on_closed_branches() == 0


def test_a_nomination_during_a_close_waits_and_is_refused(scene):
    result, waited = race(lambda: close(scene), lambda: nominate(scene))
    assert waited
    assert result == coops.BRANCH_CLOSED
    assert Cooperation.select().count() == 0
    assert open_on_closed_branches() == 0
