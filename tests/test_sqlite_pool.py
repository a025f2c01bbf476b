"""SQLite connections that stay open between requests (issue 23): ``sqlite+pool:///…``
keeps each worker thread's connection, its pragmas and its Persian collation, and a
request checks one out and gives it back, so that no request pays for opening the file
and parsing the schema. The plain ``sqlite:///…`` URL still opens one per request."""

from __future__ import annotations

import threading

import pytest
from flask import jsonify

import models
from models import db


def make_app(tmp_path, url):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "documents"),
            "SEED_DEMO_DATA": False,
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )

    @app.get("/_connection")
    def _connection():
        connection = db.connection()
        # A temporary table lives as long as its connection: its rows count the requests
        # this connection served.
        connection.execute("CREATE TEMP TABLE IF NOT EXISTS served (n INTEGER)")
        connection.execute("INSERT INTO served VALUES (1)")
        return jsonify(
            served=connection.execute("SELECT COUNT(*) FROM served").fetchone()[0],
            journal_mode=connection.execute("PRAGMA journal_mode").fetchone()[0],
            busy_timeout=connection.execute("PRAGMA busy_timeout").fetchone()[0],
            foreign_keys=connection.execute("PRAGMA foreign_keys").fetchone()[0],
            persian_first=[
                name
                for (name,) in connection.execute(
                    "SELECT name FROM (SELECT 'ب' AS name UNION SELECT 'آ') ORDER BY name COLLATE \"fa-x-icu\""
                )
            ][0],
        )

    with db.connection_context():
        models.create_tables()
    return app


@pytest.mark.sqlite_only
@pytest.mark.parametrize("pooled", [True, False])
def test_connections_stay_open_with_the_pool_only(tmp_path, pooled):
    original = db.obj
    scheme = "sqlite+pool" if pooled else "sqlite"
    try:
        app = make_app(tmp_path, f"{scheme}:///{tmp_path / 'pool.db'}")
        client = app.test_client()
        first, second = (client.get("/_connection").get_json() for _ in range(2))
        for seen in (first, second):
            assert seen["journal_mode"] == "wal" and seen["busy_timeout"] == 15000 and seen["foreign_keys"] == 1
            assert seen["persian_first"] == "آ"
        assert (first["served"], second["served"]) == ((1, 2) if pooled else (1, 1))
        assert db.is_closed()  # given back after the request
        if pooled:
            # Threads check connections out and give them back: none is left checked out.
            served, start = [], threading.Barrier(3)

            def worker():
                start.wait()
                served.append(app.test_client().get("/_connection").get_json()["served"])

            threads = [threading.Thread(target=worker) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(served) == 3
            assert not db.obj._in_use
    finally:
        if not db.is_closed():
            db.close()
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
        models.bind_database(original)
