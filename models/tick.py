"""The time-based rules' runner (``flask tick``): a registry of named jobs, each run
under a lease so that any number of hosts may run ``tick`` at once.

Registering a job is one line, at the bottom of the module that owns the rule::

    register_job("expire_nominations", expire_nominations, every=timedelta(minutes=10))

A job is a function ``job(now) -> int`` (how many things it did). :func:`run_due` runs
each job whose last successful run is older than its ``every``:

* it claims the job's row in ``tick_job`` with a conditional UPDATE (``locked_until`` in
  the past, as :mod:`notify` claims an SMS): of two hosts racing, exactly one gets it;
* it runs the job, then records ``last_success_at`` and frees the lease, in one UPDATE
  that names the holder (a host whose lease expired meanwhile records nothing);
* a job that raises keeps its last success, records the error and frees the lease, so
  the next tick tries again; the other jobs still run.

The lease only keeps two hosts from doing the same work at the same moment. Each job is
idempotent on its own as well: its conditional UPDATEs change a row once, and what must
be sent once (a reminder, an escalation) is guarded by :func:`once`, a unique mark
written in the same transaction as the notice. A job that outlives its lease therefore
at worst repeats a query, never a message.

:func:`job_lags` tells the monitoring how long ago each job last succeeded.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from peewee import CharField, DateTimeField, IntegerField, IntegrityError, TextField

from .base import BaseModel, db, utcnow

DEFAULT_LEASE = _dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[_dt.datetime], int]
    every: _dt.timedelta
    lease: _dt.timedelta = DEFAULT_LEASE


JOBS: dict[str, Job] = {}


def register_job(name: str, function, every: _dt.timedelta, lease: _dt.timedelta = DEFAULT_LEASE) -> Job:
    """Add a job to ``flask tick``: ``function(now)`` runs at most once per ``every``,
    on one host at a time (for at most ``lease``). Registering a name again replaces it."""
    if lease <= _dt.timedelta(0) or every < _dt.timedelta(0):
        raise ValueError("a job's lease must be positive and its period not negative")
    job = Job(name, function, every, lease)
    JOBS[name] = job
    return job


class TickJob(BaseModel):
    """One row per job: its lease and its last successful run."""

    name = CharField(max_length=60, unique=True)
    locked_until = DateTimeField(null=True)
    locked_by = CharField(max_length=120, default="")
    last_started_at = DateTimeField(null=True)
    last_success_at = DateTimeField(null=True)
    last_error = TextField(default="")
    last_count = IntegerField(default=0)
    failures = IntegerField(default=0)

    class Meta:
        table_name = "tick_job"


class TickMark(BaseModel):
    """Something a job did that must never be done twice (an escalation, a reminder)."""

    job = CharField(max_length=60)
    key = CharField(max_length=120)
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "tick_mark"
        indexes = ((("job", "key"), True),)


def once(job: str, key: str) -> bool:
    """True the first time ``(job, key)`` is marked, False ever after. Call it inside
    the transaction that does the thing: if that rolls back, so does the mark."""
    try:
        # A savepoint: on PostgreSQL the violation must not abort the caller's transaction.
        # A second host inserting the same mark waits for the first one's commit, then fails.
        with db.atomic():
            TickMark.create(job=job, key=key[:120])
    except IntegrityError:
        return False
    return True


def holder_name() -> str:
    """Who holds a lease: the host, the process and a random part (one per call)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _ensure_rows(names) -> None:
    with db.atomic():
        for name in names:
            TickJob.insert(name=name).on_conflict_ignore().execute()


def claim(job: Job, now: _dt.datetime, holder: str) -> bool:
    """Lease ``job`` to ``holder`` if it is due and no one else holds it."""
    due = (TickJob.last_success_at.is_null()) | (TickJob.last_success_at <= now - job.every)
    free = TickJob.locked_until.is_null() | (TickJob.locked_until < now)
    with db.atomic():
        changed = (
            TickJob.update(locked_until=now + job.lease, locked_by=holder, last_started_at=now)
            .where((TickJob.name == job.name) & due & free)
            .execute()
        )
    return changed == 1


def _finish(job: Job, holder: str, now: _dt.datetime, count: int | None, error: str) -> None:
    changes = {TickJob.locked_until: None, TickJob.locked_by: ""}
    if error:
        changes.update({TickJob.last_error: error[-4000:], TickJob.failures: TickJob.failures + 1})
    else:
        changes.update({TickJob.last_success_at: now, TickJob.last_error: "", TickJob.last_count: count or 0})
    with db.atomic():
        TickJob.update(changes).where((TickJob.name == job.name) & (TickJob.locked_by == holder)).execute()


def run_due(now: _dt.datetime | None = None, only=None, holder: str | None = None) -> dict:
    """Run every registered job that is due (or the ones named in ``only``); return
    ``{name: count}`` for the jobs this call ran, ``{name: None}`` for a job that failed.
    Jobs another host holds, or that ran recently, are skipped."""
    now = now or utcnow()
    holder = holder or holder_name()
    jobs = [job for name, job in sorted(JOBS.items()) if only is None or name in only]
    _ensure_rows(job.name for job in jobs)
    results = {}
    for job in jobs:
        if not claim(job, now, holder):
            continue
        try:
            count = job.function(now)
        except Exception:  # noqa: BLE001 - a failing job must not stop the others; its error is kept
            _finish(job, holder, now, None, traceback.format_exc())
            results[job.name] = None
        else:
            _finish(job, holder, now, count, "")
            results[job.name] = count or 0
    return results


def job_lags(now: _dt.datetime | None = None) -> dict:
    """``{job name: seconds since its last successful run}`` for every registered job;
    ``math.inf`` for a job that never succeeded (an alert, not a zero)."""
    now = now or utcnow()
    last = {row.name: row.last_success_at for row in TickJob.select(TickJob.name, TickJob.last_success_at)}
    return {
        name: (now - last[name]).total_seconds() if last.get(name) is not None else math.inf for name in sorted(JOBS)
    }
