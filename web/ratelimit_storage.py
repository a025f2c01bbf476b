"""Flask-Limiter's counters in the application's own database (``RATELIMIT_STORAGE_URI=database://``,
the default): a limit holds across every worker and app host with nothing else to run.
The counting itself is `models.ratelimit` (one atomic upsert per hit, fixed windows)."""

from __future__ import annotations

from contextlib import contextmanager

from limits.storage import Storage
from peewee import PeeweeException

import models
from models import db


@contextmanager
def _connection():
    # A limit may be checked before the request has opened its connection: open one then,
    # and close only what was opened here, never the request's own.
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened:
            db.close()


class DatabaseStorage(Storage):
    """A `limits` storage backed by the ``rate_counter`` table (fixed-window strategy)."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self):
        return PeeweeException

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with _connection():
            return models.ratelimit.hit(key, expiry, amount)

    def get(self, key: str) -> int:
        with _connection():
            return models.ratelimit.current(key)[0]

    def get_expiry(self, key: str) -> float:
        with _connection():
            return models.ratelimit.current(key)[1]

    def check(self) -> bool:
        try:
            with _connection():
                db.execute_sql("SELECT 1")
            return True
        except PeeweeException:
            return False

    def reset(self) -> int | None:
        with _connection():
            return models.ratelimit.clear_all()

    def clear(self, key: str) -> None:
        with _connection():
            models.ratelimit.clear(key)
