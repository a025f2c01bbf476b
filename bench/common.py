"""What every part of the benchmark shares: where things are, the data sets' URLs, the log."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = ROOT / "instance" / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

PG_BASE = os.environ.get("BENCH_PG_BASE", "postgresql://registry:registry@127.0.0.1:5432/")
PG_NAMES = {1.0: "registry_bench", 0.1: "registry_bench_100k", 0.01: "registry_bench_10k"}
# A production SECRET_KEY must be 32 random bytes or more (issue 17); this one is the bench's.
SECRET = "5be9c1d0a7f3e2b6c4d8a9f0e1b2c3d4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0"
# What the production checks ask the operator to acknowledge, acknowledged for the bench: it
# sends no SMS and checks no identity.
ACKNOWLEDGED = {"SMS_BACKEND_LOG_ACKNOWLEDGED": "1", "IDENTITY_BACKEND_NONE_ACKNOWLEDGED": "1"}
REVIEWER_UNIVERSITY = "tehran"
PY = sys.executable


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def scale_label(scale: float) -> str:
    return {1.0: "1M", 0.1: "100k", 0.01: "10k"}.get(scale, f"{int(scale * 1_000_000):,}")


def url_for_scale(backend: str, scale: float) -> str:
    if backend == "sqlite":
        return generate.default_sqlite_url(scale)
    return PG_BASE + PG_NAMES.get(scale, f"registry_bench_{str(scale).replace('.', '_')}")


def serving_url(url: str) -> str:
    """The URL the application is measured with: on PostgreSQL a connection pool (the
    production setting, README "Production"), so a request does not pay for a new server
    process; on SQLite connections kept open per worker thread (``sqlite+pool``, issue 23)."""
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+pool://", 1) + "?max_connections=8&stale_timeout=300"
    if url.startswith("sqlite:///"):
        return url.replace("sqlite:///", "sqlite+pool:///", 1)
    return url


def sample_officers(n: int = 60):
    """Officers spread over the table, each with its latest request id."""
    import models
    from models import db

    with db.connection_context():
        total = models.Officer.select().count()
        step = max(1, total // n)
        ids = list(range(1, total + 1, step))[:n]
        rows = []
        for officer in models.Officer.select().where(models.Officer.id.in_(ids)):
            latest = (
                models.QualificationRequest.select(models.QualificationRequest.id)
                .where(models.QualificationRequest.officer == officer.id)
                .order_by(models.QualificationRequest.id.desc())
                .first()
            )
            rows.append((officer.user_code, officer.national_code, latest.id))
    return rows
