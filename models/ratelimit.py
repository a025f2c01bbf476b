"""Fixed-window request counters kept in the database, so that a limit (the public
verification page, password reset) holds across every worker process and app host
without another server to run. Imports no Flask; `web/ratelimit_storage.py`
plugs it into Flask-Limiter.
"""

from __future__ import annotations

import random
import time

from peewee import BigIntegerField, Case, CharField, DoubleField

from .base import BaseModel, db

# About one increment in this many also deletes the windows that have ended.
SWEEP_ONE_IN = 500


class RateCounter(BaseModel):
    """Hits of one limit key in its current window, which ends at ``expires_at`` (epoch s)."""

    key = CharField(max_length=255, unique=True)
    count = BigIntegerField(default=0)
    expires_at = DoubleField(index=True)

    class Meta:
        table_name = "rate_counter"


def hit(key: str, window_seconds: float, amount: int = 1, now: float | None = None) -> int:
    """Add ``amount`` to ``key``'s window (a new window if the last one ended) and return
    the count in it. One atomic statement: concurrent hits from any process all count."""
    now = time.time() if now is None else now
    ended = RateCounter.expires_at <= now
    query = (
        RateCounter.insert(key=key, count=amount, expires_at=now + window_seconds)
        .on_conflict(
            conflict_target=[RateCounter.key],
            update={
                RateCounter.count: Case(None, [(ended, amount)], RateCounter.count + amount),
                RateCounter.expires_at: Case(None, [(ended, now + window_seconds)], RateCounter.expires_at),
            },
        )
        .returning(RateCounter.count)
        .tuples()
    )
    with db.atomic():
        ((count,),) = list(query.execute())
    if random.randrange(SWEEP_ONE_IN) == 0:
        sweep(now)
    return int(count)


def current(key: str, now: float | None = None) -> tuple[int, float]:
    """``(count, window end)`` of ``key``; ``(0, now)`` when no window is running."""
    now = time.time() if now is None else now
    row = (
        RateCounter.select(RateCounter.count, RateCounter.expires_at)
        .where((RateCounter.key == key) & (RateCounter.expires_at > now))
        .tuples()
        .first()
    )
    return (int(row[0]), float(row[1])) if row else (0, now)


def clear(key: str) -> None:
    RateCounter.delete().where(RateCounter.key == key).execute()


def clear_all() -> int:
    return RateCounter.delete().execute()


def sweep(now: float | None = None) -> int:
    """Delete the windows that have ended."""
    now = time.time() if now is None else now
    return RateCounter.delete().where(RateCounter.expires_at <= now).execute()
