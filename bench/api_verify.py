"""Throughput of public verification through both doors, in one process on a small SQLite
database: ``GET /verify?q=`` (the page) and ``GET /api/v1/verify?q=`` (the API's JSON), by
national code and by qualification number. Prints requests per second (median of 5 rounds).

    .venv/bin/python bench/api_verify.py [--requests 300]

The full benchmark (``make bench``, bench/run.py) times the same two paths at scale on
PostgreSQL; this one needs nothing but the checkout."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    import models
    from app import create_app
    from helpers import city_named, registration_data

    folder = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "SEED_DEMO_DATA": False,
            "TESTING": True,  # no per-request log lines in the figures
            "RATELIMIT_ENABLED": False,
            "SMS_DELIVER_IN_BACKGROUND": False,
            "UPLOAD_DIR": str(folder / "documents"),
        }
    )
    app.test_cli_runner().invoke(args=["init-db"])
    # The benchmark times the look-up, not the per-query limit (models.verification).
    models.verification.LOOKUPS_PER_QUERY_PER_HOUR = 10**9
    with models.db.connection_context():
        tehran = city_named("تهران")
        officer = models.register_officer(
            registration_data(province=str(tehran.province_id), city=str(tehran.id), district="17")
        )
        models.Officer.update(qualified_at=models.utcnow(), qualification_number="1405-000000017").where(
            models.Officer.id == officer.id
        ).execute()
    client = app.test_client()
    paths = {
        "page, national code": f"/verify?q={officer.national_code}",
        "API, national code": f"/api/v1/verify?q={officer.national_code}",
        "page, number": "/verify?q=1405-000000017",
        "API, number": "/api/v1/verify?q=1405-000000017",
    }
    for name, path in paths.items():
        assert client.get(path).status_code == 200, path
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(args.requests // 5):
                client.get(path)
            rounds.append((args.requests // 5) / (time.perf_counter() - started))
        print(f"{name:22s} {statistics.median(rounds):8.1f} requests/s")


if __name__ == "__main__":
    main()
