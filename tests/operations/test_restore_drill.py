"""The restore drill: ``flask backup`` taken while requests keep writing, restored with
``flask restore`` into an empty database and an empty document directory, gives the
same row counts and the same document hashes as the moment the backup copied.

Run as an operator would: both commands in their own processes; the writers are real
requests (registration, login, document uploads) through the application.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

import models
from harness import person_fields, run_flask, sql
from helpers import MINIMAL_PDF, PASSWORD

BIN = Path(sys.executable).parent


@pytest.fixture
def live_app(fresh_database, database_url, tmp_path):
    """The application on a database of its own, made as in production: ``flask init-db``
    (migrations and reference data)."""
    from app import create_app

    url = fresh_database("drill_live")
    documents = tmp_path / "documents"
    migrated = run_flask(url, documents, "init-db")
    assert migrated.returncode == 0, migrated.stderr
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "drill",
            "UPLOAD_DIR": str(documents),
            "SMS_LOG_FILE": str(tmp_path / "sms.log"),
            "SMS_DELIVER_IN_BACKGROUND": False,
            "SEED_DEMO_DATA": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield application
    if not models.db.is_closed():
        models.db.close()
    models.bind_url(database_url)  # the rest of the suite's database, as the other tests expect


def table_counts(url: str) -> dict[str, int]:
    """Rows per table, counted here (not by backup.py) so the drill checks it."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url[len("sqlite:///") :])
        names = [
            n
            for (n,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
        connection.close()
        return counts
    names = [n for (n,) in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return {n: sql(url, f'SELECT COUNT(*) FROM "{n}"')[0][0] for n in names}


def rows(url: str, query: str) -> list[tuple]:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url[len("sqlite:///") :])
        found = connection.execute(query).fetchall()
        connection.close()
        return [tuple(r) for r in found]
    return [tuple(r) for r in sql(url, query)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Writers:
    """Threads that register officers, log them in and upload their documents, until stopped."""

    def __init__(self, app, count: int = 2):
        self.app = app
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.done = [0] * count
        self.threads = [threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(count)]

    def _write(self, worker: int) -> None:
        with models.db.connection_context():
            choices = self._choices()
        i = 0
        while not self.stop.is_set():
            i += 1
            person = person_fields(100_000 + worker * 10_000 + i, choices)
            client = self.app.test_client()
            # A client address of its own per round: registrations are limited per address.
            client.environ_base["REMOTE_ADDR"] = f"127.{worker + 1}.{i // 250}.{i % 250 + 1}"
            documents = {
                f"doc_{kind}": (io.BytesIO(MINIMAL_PDF + f"% {kind} {i}".encode()), f"مدرک {kind}.pdf")
                for kind in ("degree", "national_card", "id_booklet", "photo")
            }
            registered = client.post("/officer/register", data=person)
            confirm = registered.headers.get("Location", "")
            steps = [
                registered,
                client.post(confirm, data={"code": self._code_sent_to(person["mobile"])}),
                client.post("/officer/login", data={"username": person["national_code"], "password": PASSWORD}),
                client.post(
                    "/officer/qualification/new",
                    data={"action": "save", **documents},
                    content_type="multipart/form-data",
                ),
            ]
            statuses = [s.status_code for s in steps]
            if statuses != [303, 303, 302, 302]:
                self.errors.append(f"writer {worker}, round {i}: {statuses}")
                return
            self.done[worker] += 1

    @staticmethod
    def _code_sent_to(mobile: str) -> str:
        """The registration code, from the SMS queued for ``mobile`` (the outbox row keeps it
        among its parameters until the message has left; its text is masked)."""
        with models.db.connection_context():
            sms = (
                models.SmsOutbox.select()
                .where(models.SmsOutbox.to.endswith(mobile[-10:]))
                .order_by(models.SmsOutbox.id.desc())
                .first()
            )
        return str(json.loads(sms.params or "{}").get("code", "")) if sms else ""

    @staticmethod
    def _choices() -> dict:
        """The registration selects' values for Isfahan, read once."""
        city = models.City.get(models.City.name == "اصفهان")
        field = (
            models.FieldOfStudy.select()
            .where(models.FieldOfStudy.eligible == True)
            .order_by(  # noqa: E712
                models.FieldOfStudy.id
            )
            .first()
        )
        degree = models.DegreeLevel.get(models.DegreeLevel.rank == 2)
        return {
            "province": str(city.province_id),
            "city": str(city.id),
            "field_of_study": str(field.id),
            "degree_level": str(degree.id),
        }

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        while sum(self.done) < 2 and not self.errors:  # writing for real before the backup starts
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def test_backup_under_writes_restores_into_an_empty_database_identically(live_app, fresh_database, tmp_path):
    live_url, live_documents = live_app.config["DATABASE_URL"], Path(live_app.config["UPLOAD_DIR"])
    empty_database = fresh_database("drill_restored")
    target = tmp_path / "backup"
    with Writers(live_app) as writers:
        before = table_counts(live_url)
        backed_up = run_flask(live_url, live_documents, "backup", str(target))
        after = table_counts(live_url)
    assert not writers.errors, writers.errors
    assert backed_up.returncode == 0, backed_up.stderr
    # Writes went on while the backup ran.
    assert after["officer"] > before["officer"] and after["document"] > before["document"], (before, after)

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    copied = manifest["row_counts"]
    for table in ("officer", "document", "qualification_request", "login_session", "audit_log"):
        assert before[table] <= copied[table] <= after[table], (table, before[table], copied[table], after[table])
    # Personal data: readable by its owner only.
    assert stat.S_IMODE((target / "manifest.json").stat().st_mode) == 0o600
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in target.rglob("*") if p.is_file())

    restored_documents = tmp_path / "restored-documents"
    assert not restored_documents.exists() and table_counts(empty_database) == {}
    restored = run_flask(empty_database, restored_documents, "restore", str(target))
    assert restored.returncode == 0, restored.stderr

    # The same rows as at the moment of the copy, table by table.
    assert table_counts(empty_database) == copied
    # And the same rows, not only as many: every restored officer is the live one.
    restored_officers = rows(empty_database, "SELECT id, national_code, user_code, password_hash FROM officer")
    live_officers = set(rows(live_url, "SELECT id, national_code, user_code, password_hash FROM officer"))
    assert restored_officers and set(restored_officers) <= live_officers

    # Every document a restored row names is there, with the hash recorded at upload.
    named = rows(empty_database, "SELECT storage_name, sha256 FROM document")
    assert len(named) == copied["document"] > 0
    for storage_name, digest in named:
        assert sha256(restored_documents / storage_name) == digest
        assert sha256(live_documents / storage_name) == digest
    # The restored directory holds exactly the backed-up files, byte for byte.
    restored_files = {
        str(p.relative_to(restored_documents)): sha256(p) for p in restored_documents.rglob("*") if p.is_file()
    }
    assert restored_files == {
        name[len("documents/") :]: digest for name, digest in manifest["files"].items() if name.startswith("documents/")
    }

    # The restored database is current: nothing left to migrate.
    migrated = run_flask(empty_database, restored_documents, "init-db")
    assert migrated.returncode == 0 and "migration applied" not in migrated.stdout, migrated.stdout
