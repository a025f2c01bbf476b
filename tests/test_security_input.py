"""Hostile input: CSRF, reflected markup, SQL injection, national codes. Uploads and
downloads are in test_security_uploads.py; headers, error pages, logs and exports in
test_security_responses.py.

Checklist items 16, 19-21 (see SECURITY.md); the rest of 21 is in test_registration.py.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

import models
from helpers import (
    PASSWORD,
    RAW_MARKUP,
    ROOT,
    XSS,
    csrf_token_from,
    register_through_the_form,
    registration_data,
    staff_client_for,
)
from security_cells import NOT_5XX, admin_views, all_cells
from security_world import build_world, fingerprint

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
    posts = [c for c in all_cells(csrf_app, world) if c.method == "POST"]
    # The API takes no CSRF token: a bearer token authenticates it, never a cookie, so a
    # logged-in browser's cross-site POST is refused there as unauthenticated (401).
    cells = [c for c in posts if not c.url.startswith("/api/")]
    api_cells = [c for c in posts if c.url.startswith("/api/")]
    assert len({c.endpoint for c in cells}) >= 18 * 5 + 20  # every admin view's POST routes and the rest
    before = fingerprint()
    problems = []
    for cell in api_cells:
        for role in ("distributor", "directorate"):
            response = clients[role].post(cell.url, json=cell.body)
            if response.status_code != 401:
                problems.append(f"{role} POST(json) {cell.url}: {response.status_code}")
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
    # Migration 009: table, column and type from the migration's own constant (COLUMNS).
    ("migrations/009_places_and_study.py", 'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}'),
    # The export cursor: {sql} is peewee's own compiled SELECT, its values passed separately as params.
    ("backoffice/export.py", "DECLARE export_rows NO SCROLL CURSOR FOR {sql}"),
    # {int(size)} is a constant of the module, forced to int.
    ("backoffice/export.py", "FETCH FORWARD {int(size)} FROM export_rows"),
    # Server-side prepared statements: a generated name and peewee's own compiled SELECT;
    # the values go separately as params.
    ("models/prepared.py", "PREPARE {self._name} AS {server_sql}"),
    ("models/prepared.py", "EXECUTE {self._name}{arguments}"),
    # The benchmark's data generator: table, constraint and index names from the schema.
    ("bench/loading.py", "ALTER TABLE {table} DROP CONSTRAINT"),
    ("bench/loading.py", "ALTER TABLE {table} ADD CONSTRAINT"),
    ("bench/loading.py", "DROP INDEX IF EXISTS"),
    ("bench/generate.py", "SELECT setval(pg_get_serial_sequence"),
    # Migration 007: table names and a WHERE clause written in the migration itself.
    ("migrations/007_security_round2.py", "SELECT id FROM {table} {where}"),
    # The backup: the destination path typed by the operator on the command line (VACUUM INTO).
    ("backup.py", "VACUUM INTO"),
    # Migration 017: the column names are the migration's own dict keys, the values parameters.
    ("migrations/017_sms_codes_scrubbed.py", 'UPDATE "sms_outbox" SET {assignments} WHERE "id" = {p}'),
    # The benchmark's generator: one of two SQL expressions written in the function itself.
    ("bench/generate.py", "UPDATE branch SET public_token = {token}"),
    # The benchmark: an index name from its own constant (RETIRED_INDEXES), on its own data set.
    ("bench/run.py", 'DROP INDEX IF EXISTS "{name}"'),
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
    assert register_through_the_form(client, national_code="۰۴۹۹۳۷۰۸۹۹").status_code == 303
    assert models.Officer.get().national_code == "0499370899"
    bad = client.post("/officer/register", data=registration_data(national_code="0499370898", mobile="09351112233"))
    assert bad.status_code == 422
    for typed in ("٠٤٩٩٣٧٠٨٩٩", "\u200f0499370899", "0499 370 899"):
        duplicate = client.post("/officer/register", data=registration_data(national_code=typed, mobile="09351112234"))
        assert duplicate.status_code == 422, typed
    assert models.Officer.select().count() == 1
