"""/healthz and /readyz: JSON, 200 or 503, one test per way of not being ready."""

from __future__ import annotations

import pytest

import models
from harness import run_flask


@pytest.fixture
def ready_app(fresh_database, database_url, tmp_path):
    """An app on a database made by ``flask init-db`` (migrations and reference data) with a
    document directory made by it too: everything /readyz asks for."""
    from app import create_app

    url = fresh_database("ready")
    documents = tmp_path / "documents"
    made = run_flask(url, documents, "init-db")
    assert made.returncode == 0, made.stderr

    def build(**config):
        return create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "t",
                "UPLOAD_DIR": str(documents),
                "SMS_DELIVER_IN_BACKGROUND": False,
                **config,
            }
        )

    build.url = url
    build.documents = documents
    yield build
    if not models.db.is_closed():
        models.db.close()
    models.bind_url(database_url)


def readiness(app) -> tuple[int, dict]:
    answer = app.test_client().get("/readyz")
    assert answer.mimetype == "application/json" and answer.headers["Cache-Control"] == "no-store"
    return answer.status_code, answer.get_json()


def test_healthz_answers(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_ready_when_database_migrations_and_documents_are_fine(ready_app):
    status, body = readiness(ready_app())
    assert (status, body) == (
        200,
        {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "upload_dir": "ok"}},
    )


def test_not_ready_while_a_migration_is_not_applied(ready_app):
    app = ready_app()
    with models.db.connection_context():
        last = models.db.execute_sql("SELECT MAX(id) FROM migratehistory").fetchone()[0]
        models.db.execute_sql(f"DELETE FROM migratehistory WHERE id = {int(last)}")
    status, body = readiness(app)
    assert status == 503 and body["checks"] == {"database": "ok", "migrations": "pending", "upload_dir": "ok"}


def test_not_ready_when_the_document_directory_is_missing(ready_app, tmp_path):
    missing = tmp_path / "not-mounted"
    status, body = readiness(ready_app(UPLOAD_DIR=str(missing)))
    assert status == 503 and body["checks"] == {"database": "ok", "migrations": "ok", "upload_dir": "failed"}
    assert not missing.exists()  # the probe never makes a local folder in place of the share


def test_not_ready_when_the_document_directory_cannot_take_a_file(ready_app, tmp_path):
    not_a_directory = tmp_path / "documents-file"
    not_a_directory.write_text("")
    status, body = readiness(ready_app(UPLOAD_DIR=str(not_a_directory)))
    assert status == 503 and body["checks"]["upload_dir"] == "failed"


@pytest.fixture
def unreachable_database(app):
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        return "sqlite:////nonexistent-directory/registry.db"
    return "postgresql://registry:wrong@127.0.0.1:9/registry"  # port 9 (discard): nobody listens


def test_when_the_database_is_down_healthz_still_answers_and_readyz_says_so(
    app, unreachable_database, database_url, tmp_path
):
    from app import create_app

    (tmp_path / "documents").mkdir()
    down = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": unreachable_database,
            "SECRET_KEY": "t",
            "UPLOAD_DIR": str(tmp_path / "documents"),
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )
    try:
        client = down.test_client()
        assert client.get("/healthz").status_code == 200
        status, body = readiness(down)
        assert status == 503 and body["checks"] == {"database": "failed", "migrations": "failed", "upload_dir": "ok"}
    finally:
        models.bind_url(database_url)
