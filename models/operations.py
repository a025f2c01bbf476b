"""The numbers an operator watches, read from the database (the metrics endpoint turns them
into Prometheus gauges at each scrape): what waits in each outbox and since when, how many
requests wait on each university, and how long ago each job of ``flask tick`` succeeded. Every number
is one aggregate query."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from peewee import fn

from . import tick
from .base import utcnow
from .notices import SmsOutbox
from .reference import University
from .request_types import REVIEWED_TYPES, WAITING_STATES

# Every outbox: a table of messages that a worker delivers (status "pending" until sent,
# "failed" when given up; created_at when queued). A new outbox (webhooks) is one more entry.
OUTBOXES: dict[str, type] = {"sms": SmsOutbox}


@dataclass(frozen=True)
class OutboxBacklog:
    outbox: str
    pending: int
    failed: int
    oldest_pending_age_seconds: float  # 0 when nothing is pending


def outbox_backlogs(now: _dt.datetime | None = None) -> list[OutboxBacklog]:
    """For each outbox: pending and failed messages, and the age of the oldest pending one."""
    now = now or utcnow()
    backlogs = []
    for name, model in OUTBOXES.items():
        counts = dict(
            model.select(model.status, fn.COUNT(model.id))
            .where(model.status.in_(("pending", "failed")))
            .group_by(model.status)
            .tuples()
        )
        oldest = model.select(fn.MIN(model.created_at)).where(model.status == "pending").scalar()
        if isinstance(oldest, str):  # SQLite hands an aggregate of datetimes back as text
            oldest = _dt.datetime.fromisoformat(oldest)
        age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        backlogs.append(OutboxBacklog(name, counts.get("pending", 0), counts.get("failed", 0), age))
    return backlogs


def requests_waiting() -> list[tuple[str, str, int]]:
    """[(university code, request type, count)] of requests waiting on a university's decision
    (the type as the API names it: ``qualification``, ``cooperation``, ``editrequest``); every
    university and type appears, with 0 when none waits."""
    codes = [code for (code,) in University.select(University.code).order_by(University.code).tuples()]
    waiting = []
    for model in REVIEWED_TYPES:
        kind = model.REQUEST_TYPE
        counts = dict(
            model.select(University.code, fn.COUNT(model.id))
            .join(University, on=(model.university == University.id))
            .where(model.status.in_(WAITING_STATES))
            .group_by(University.code)
            .tuples()
        )
        waiting += [(code, kind, counts.get(code, 0)) for code in codes]
    return waiting


def tick_job_lags(now: _dt.datetime | None = None) -> dict[str, float]:
    """{job name: seconds since it last succeeded} of every job of ``flask tick``
    (``math.inf`` for one that never did); the one function ``/metrics`` reads the lags
    through. The lease rows and their reading are :func:`models.tick.job_lags`'s."""
    return tick.job_lags(now)
