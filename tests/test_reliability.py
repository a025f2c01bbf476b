"""Faults survived: a full disk, a failure between steps, concurrent writers, backups under load."""

import errno
import io
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

import models
import storage
from helpers import MINIMAL_PDF, documents_payload
from models import QualificationRequest
from models import qualification as quals


def files_under(root):
    return [os.path.join(r, f) for r, _d, fs in os.walk(root) for f in fs]


def test_full_disk_gives_a_clear_error_and_leaves_nothing(officer_client, app, monkeypatch, dbc):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", no_space)
    response = officer_client.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF), "a.pdf")},
    )
    assert response.status_code == 503
    assert "دوباره" in response.get_data(as_text=True) or "later" in response.get_data(as_text=True)
    assert models.Document.select().count() == 0
    assert files_under(app.config["UPLOAD_DIR"]) == []


def test_failure_between_decision_audit_and_outbox_leaves_none(officer_client, make_staff, monkeypatch, dbc):
    officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    request = QualificationRequest.get()
    reviewer = make_staff("university").as_actor()
    counts = (
        models.RequestEvent.select().count(),
        models.SmsOutbox.select().count(),
        models.Notice.select().count(),
        models.AuditLog.select().count(),
    )

    def broken(*args, **kwargs):
        raise RuntimeError("crash after the decision and the audit row")

    monkeypatch.setattr(models.review, "notify_officer", broken)
    with pytest.raises(RuntimeError):
        request.apply("approve", reviewer)
    assert QualificationRequest.get_by_id(request.id).status == "submitted"
    assert not models.Officer.get_by_id(request.officer_id).is_qualified
    assert counts == (
        models.RequestEvent.select().count(),
        models.SmsOutbox.select().count(),
        models.Notice.select().count(),
        models.AuditLog.select().count(),
    )


def test_upload_whose_row_fails_leaves_no_file(officer_client, app, monkeypatch, dbc):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(quals, "attach_document", broken)
    with pytest.raises(RuntimeError):
        officer_client.application.config["PROPAGATE_EXCEPTIONS"] = True
        officer_client.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF), "a.pdf")},
        )
    assert [f for f in files_under(app.config["UPLOAD_DIR"]) if "/tmp/" not in f] == []


def test_orphans_are_swept(app, dbc, tmp_path):
    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    stored = store.save(io.BytesIO(MINIMAL_PDF), "orphan.pdf")
    old = store.path_for(stored.storage_name)
    os.utime(old, (1, 1))
    result = app.test_cli_runner().invoke(args=["sweep-documents"])
    assert result.exit_code == 0 and "removed 1" in result.output
    assert not old.exists()


def test_double_submission_creates_one_request(app, make_officer, dbc):
    officer = make_officer()
    barrier = threading.Barrier(2)
    results = []

    def start():
        with models.db.connection_context():
            barrier.wait()
            results.append(quals.start_request(officer, officer.as_actor()).id)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert QualificationRequest.select().count() == 1


def test_two_reviewers_deciding_at_once_one_wins(officer_client, make_staff, dbc):
    officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    request_id = QualificationRequest.get().id
    reviewers = [make_staff("university").as_actor() for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(actor, action):
        with models.db.connection_context():
            request = QualificationRequest.get_by_id(request_id)
            barrier.wait()
            try:
                request.apply(action, actor, note="یادداشت")
                outcomes.append(action)
            except models.ConflictError:
                outcomes.append("conflict")

    threads = [
        threading.Thread(target=decide, args=(reviewers[0], "approve")),
        threading.Thread(target=decide, args=(reviewers[1], "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("conflict") == 1
    winner = next(o for o in outcomes if o != "conflict")
    assert QualificationRequest.get_by_id(request_id).status == {"approve": "approved", "reject": "rejected"}[winner]
    assert models.RequestEvent.select().where(models.RequestEvent.action.in_(("approve", "reject"))).count() == 1


WRITER = r"""
import sys
sys.path.insert(0, {root!r})
import models
models.bind_url({url!r})
with models.db.connection_context():
    for i in range(50):
        with models.db.atomic():
            models.AuditLog.create(actor_kind="system", action="load-test", detail=str(i))
"""


@pytest.mark.sqlite_only
def test_eight_processes_writing_sqlite_at_once(app, dbc):
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite only")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = WRITER.format(root=root, url=url)
    processes = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(8)]
    errors = [p.communicate()[1].decode() for p in processes]
    assert all(p.returncode == 0 for p in processes), errors
    assert not any("locked" in e for e in errors)
    assert models.AuditLog.select().where(models.AuditLog.action == "load-test").count() == 400
    path = url[len("sqlite:///") :]
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()
    assert models.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert models.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 10000


def test_backup_while_writing_then_restore(app, make_officer, dbc, tmp_path):
    officer = make_officer()
    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    stored = store.save(io.BytesIO(MINIMAL_PDF), "مدرک.pdf")
    request = quals.start_request(officer, officer.as_actor())
    quals.attach_document(request, officer.as_actor(), "degree", stored)
    stop = threading.Event()

    def keep_writing():
        with models.db.connection_context():
            while not stop.is_set():
                models.AuditLog.create(actor_kind="system", action="during-backup")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    import backup

    manifest = backup.verify(str(tmp_path / "bk"))
    assert f"documents/{stored.storage_name}" in manifest["files"]
    officers_in_backup = models.Officer.select().count()
    # Damage the live data, then restore.
    models.Document.delete().execute()
    os.remove(store.path_for(stored.storage_name))
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert models.Officer.select().count() == officers_in_backup
    assert models.Document.select().count() == 1
    assert store.path_for(stored.storage_name).read_bytes() == MINIMAL_PDF
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert models.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
        if manifest["row_counts"]:
            assert manifest["row_counts"]["officer"] == officers_in_backup


def test_damaged_backup_is_refused(app, dbc, tmp_path):
    app.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
    database_file = next((tmp_path / "bk").glob("database.*"))
    with open(database_file, "ab") as handle:
        handle.write(b"x")
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "damaged" in result.output
