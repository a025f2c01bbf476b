"""``flask tick``'s framework (models/tick.py): jobs run when due, under a lease per job,
record their last success, keep their error, and ``once`` marks hold; two ``tick``
processes started together send each reminder and escalation exactly once."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import models
from helpers import MANAGER_MOBILE, attach_all, nominate_someone
from models import db, tick

T0 = dt.datetime(2026, 1, 10, 8, 0)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def jobs(monkeypatch, dbc):
    """An empty registry with a counting job; the real registry comes back afterwards."""
    monkeypatch.setattr(tick, "JOBS", {})
    calls = []

    def counting(now):
        calls.append(now)
        return 3

    tick.register_job("count", counting, every=dt.timedelta(minutes=10))
    return calls


def test_a_job_runs_when_due_and_records_its_success(jobs):
    assert tick.run_due(T0) == {"count": 3}
    assert tick.run_due(T0 + dt.timedelta(minutes=5)) == {}
    assert tick.run_due(T0 + dt.timedelta(minutes=10)) == {"count": 3}
    row = models.TickJob.get(models.TickJob.name == "count")
    assert row.last_success_at == T0 + dt.timedelta(minutes=10)
    assert row.locked_until is None and row.locked_by == "" and row.last_count == 3
    assert len(jobs) == 2


def test_a_held_lease_keeps_another_host_out_until_it_expires(jobs):
    job = tick.JOBS["count"]
    tick.run_due(T0, only={"nothing"})  # creates no row for other jobs
    tick._ensure_rows(["count"])
    assert tick.claim(job, T0, "host-a")
    assert tick.run_due(T0, holder="host-b") == {}
    assert jobs == []
    # Host a died: after its lease another host runs the job.
    assert tick.run_due(T0 + job.lease + dt.timedelta(seconds=1), holder="host-b") == {"count": 3}


def test_a_host_whose_lease_expired_records_nothing(jobs):
    job = tick.JOBS["count"]
    tick._ensure_rows(["count"])
    assert tick.claim(job, T0, "slow")
    later = T0 + job.lease + dt.timedelta(seconds=1)
    assert tick.claim(job, later, "fast")
    tick._finish(job, "slow", later, 1, "")
    row = models.TickJob.get(models.TickJob.name == "count")
    assert row.locked_by == "fast" and row.last_success_at is None


def test_a_failing_job_keeps_its_error_and_the_others_still_run(jobs):
    def broken(now):
        raise RuntimeError("boom")

    tick.register_job("broken", broken, every=dt.timedelta(minutes=1))
    assert tick.run_due(T0) == {"broken": None, "count": 3}
    row = models.TickJob.get(models.TickJob.name == "broken")
    assert "boom" in row.last_error and row.failures == 1 and row.last_success_at is None
    assert row.locked_until is None
    # It is tried again at the next tick.
    assert tick.run_due(T0 + dt.timedelta(seconds=1)) == {"broken": None}


def test_job_lags_are_seconds_since_the_last_success(jobs):
    assert tick.job_lags(T0) == {"count": math.inf}
    tick.run_due(T0)
    assert tick.job_lags(T0 + dt.timedelta(seconds=90)) == {"count": 90.0}


def test_registering_is_one_line_and_bad_periods_are_refused(jobs):
    with pytest.raises(ValueError):
        tick.register_job("x", lambda now: 0, every=dt.timedelta(minutes=1), lease=dt.timedelta(0))
    tick.register_job("again", lambda now: None, every=dt.timedelta(0))
    assert tick.run_due(T0, only={"again"}) == {"again": 0}


def test_once_marks_hold_and_roll_back_with_their_transaction(dbc):
    assert tick.once("job", "k1")
    assert not tick.once("job", "k1")
    assert tick.once("other", "k1")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), db.atomic():
        assert tick.once("job", "k2")
        raise Undo
    assert tick.once("job", "k2")


def test_the_real_registry_has_the_time_rules():
    assert {"expire_nominations", "escalate_overdue", "remind_deficient", "chase_vacancies"} <= set(tick.JOBS)


def test_tick_refuses_an_unknown_job(app):
    result = app.test_cli_runner().invoke(args=["tick", "--only", "nope"])
    assert result.exit_code != 0 and "unknown job" in result.output


# ------------------------------------------------------------------ two processes at once


def _run_two_ticks(database_url, tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SMS_LOG_FILE=str(tmp_path / "sms.log"),
        UPLOAD_DIR=str(tmp_path / "documents"),
        SECRET_KEY="test",
        SMS_DELIVER_IN_BACKGROUND="0",
        APP_ENV="development",
    )
    command = [sys.executable, "-m", "flask", "--app", "app", "tick"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
    return [out for out, _err in outputs]


def test_two_ticks_started_together_send_each_message_once(app, database_url, make_officer, make_staff, tmp_path):
    """A deficient request waiting 8 days (a reminder), a request long past due (the
    university's notice and the directorate's escalation), a nomination 30 days old (its
    expiry): two processes at once, and each message exists once."""
    from freezegun import freeze_time

    from models import qualification as quals

    with db.connection_context():
        reviewer = make_staff("university").as_actor()
        make_staff("directorate")
        late, lagging = make_officer(), make_officer()
        with freeze_time(models.utcnow() - dt.timedelta(days=30)):
            request = quals.start_request(late, late.as_actor())
            attach_all(request, late.as_actor())
            request.apply("submit", late.as_actor())
            cooperation = nominate_someone(make_officer)
        with freeze_time(models.utcnow() - dt.timedelta(days=8)):
            fixing = quals.start_request(lagging, lagging.as_actor())
            attach_all(fixing, lagging.as_actor())
            fixing.apply("submit", lagging.as_actor())
            fixing.apply("deficiency", reviewer, note="عکس")
        models.SmsOutbox.delete().execute()
        models.Notice.delete().execute()
    outputs = _run_two_ticks(database_url, tmp_path)
    with db.connection_context():
        assert models.Cooperation.get_by_id(cooperation.id).status == "expired"
        sms_to = [row.to for row in models.SmsOutbox.select()]
        escalations = models.RequestEvent.select().where(models.RequestEvent.action == "escalate").count()
        notices = [(n.university_id is None, n.subject) for n in models.StaffNotice.select()]
        officer_notices = models.Notice.select().where(models.Notice.officer == cooperation.officer_id).count()
    assert escalations == 1
    assert sorted(notices) == sorted(
        [
            (False, models.translate("A request is due today")),
            (True, models.translate("An overdue request was escalated")),
        ]
    )
    assert sms_to.count(lagging.mobile) == 1  # the 7-day reminder
    assert sms_to.count(MANAGER_MOBILE) == 1  # the expiry, to the distributor's manager
    assert officer_notices == 1  # the expiry, to the officer
    assert sum("expire_nominations=1" in out for out in outputs) == 1, outputs
