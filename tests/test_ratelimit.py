"""The rate limiter counts in the database (database://), so a limit holds across worker
processes and app hosts: checked with a second process, concurrent hits and window ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

import models
from helpers import ROOT
from models import db, ratelimit

VERIFY_LIMIT = 30  # per minute, publicforms/public.py


def test_hits_count_in_fixed_windows(dbc):
    ratelimit.clear_all()
    assert [ratelimit.hit("k", 60, now=1000.0) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.current("k", now=1059.0) == (3, 1060.0)
    assert ratelimit.current("k", now=1060.0) == (0, 1060.0)  # the window has ended
    assert ratelimit.hit("k", 60, now=1060.0) == 1  # a new one starts
    assert ratelimit.hit("other", 60, amount=5, now=1060.0) == 5
    assert ratelimit.sweep(now=2000.0) == 2
    assert models.RateCounter.select().count() == 0


def test_concurrent_hits_all_count(app):
    with db.connection_context():
        ratelimit.clear_all()
    errors = []

    def hammer():
        try:
            with db.connection_context():  # each thread its own connection
                for _ in range(25):
                    ratelimit.hit("busy", 60)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with db.connection_context():
        assert ratelimit.current("busy")[0] == 100


SECOND_HOST = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    os.environ["SMS_DELIVER_IN_BACKGROUND"] = "0"
    from app import create_app
    app = create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "x", "SEED_DEMO_DATA": False,
                      "RATELIMIT_ENABLED": True, "UPLOAD_DIR": {uploads!r}}})
    client = app.test_client()
    print(",".join(str(client.get("/verify", query_string={{"q": "x"}}).status_code) for _ in range({n})))
""")


def test_the_verification_limit_holds_across_processes(app, database_url, tmp_path):
    from app import create_app

    with db.connection_context():
        ratelimit.clear_all()
    assert app.config["RATELIMIT_STORAGE_URI"] == "database://"
    limited = create_app(dict(app.config, RATELIMIT_ENABLED=True))
    client = limited.test_client()
    first = [client.get("/verify", query_string={"q": "x"}).status_code for _ in range(20)]
    assert set(first) == {200}
    # Another process (another worker, another host) sees the same counter.
    script = SECOND_HOST.format(root=str(ROOT), url=database_url, uploads=str(tmp_path / "u"), n=15)
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr[-2000:]
    statuses = [int(s) for s in other.stdout.strip().splitlines()[-1].split(",")]
    assert statuses[: VERIFY_LIMIT - 20] == [200] * (VERIFY_LIMIT - 20)
    assert statuses[VERIFY_LIMIT - 20 :] == [429] * (15 - (VERIFY_LIMIT - 20))
    assert client.get("/verify", query_string={"q": "x"}).status_code == 429


def test_a_limit_check_before_the_request_connection_leaves_no_connection_open(app):
    """The storage opens a connection only when none is open, and closes only its own."""
    from web.ratelimit_storage import DatabaseStorage

    storage = DatabaseStorage()
    assert db.is_closed()
    assert storage.incr("alone", 60) >= 1
    assert db.is_closed()
    with db.connection_context():
        storage.incr("inside", 60)
        assert not db.is_closed()  # the request's own connection stays open
    assert storage.check() is True


@pytest.mark.parametrize("uri", ["memory://", "database://"])
def test_both_storages_limit_verification(app, uri):
    from app import create_app

    with db.connection_context():
        ratelimit.clear_all()
    client = create_app(dict(app.config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri)).test_client()
    statuses = [client.get("/verify", query_string={"q": "x"}).status_code for _ in range(VERIFY_LIMIT + 2)]
    assert statuses[:VERIFY_LIMIT] == [200] * VERIFY_LIMIT and statuses[VERIFY_LIMIT:] == [429, 429]
