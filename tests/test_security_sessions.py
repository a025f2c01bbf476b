"""Accounts and sessions for all three kinds of account (officers, distributors, staff).

Checklist items 1, 2, 5-10; what test_accounts.py, test_admin_access.py and
test_password_reset.py already cover for officers is not repeated (see SECURITY.md).
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import re
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

import models
from helpers import PASSWORD, csrf_token_from, login, registration_data

TEHRAN_UNI = "دانشگاه علوم پزشکی تهران"
# Exactly 64 characters, with a zero-width non-joiner, Persian only.
PERSIAN_PASSPHRASE = "بهار در کوچه‌های نیشابور با بوی اقاقیا و باران نرم آمد و رفت شاد"


@pytest.fixture
def accounts(app, make_officer, make_staff, dbc):
    """One account of each kind, with the login path and the page it opens."""
    officer = make_officer()
    distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000")
    reviewer = make_staff("university", TEHRAN_UNI, username="reviewer1")
    director = make_staff("directorate", username="director1")
    return {
        "officer": (officer, officer.user_code, "/officer/login", "/officer/", "/officer/logout"),
        "distributor": (distributor, "pakhsh", "/distributor/login", "/distributor/", "/distributor/logout"),
        "staff": (reviewer, "reviewer1", "/admin/login", "/admin/qualification/", "/admin/logout"),
        "director": (director, "director1", "/admin/login", "/admin/", "/admin/logout"),
    }


def logged_in(app, accounts, kind):
    _account, username, login_path, _home, _logout = accounts[kind]
    client = app.test_client()
    response = login(client, login_path, username)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def is_logged_out(response, login_path):
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == login_path


# ---------------------------------------------------------------------- 1: throttling


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.mark.parametrize("kind", ["distributor", "staff"])
def test_twenty_bad_logins_with_rotating_forwarded_for_are_throttled(app, accounts, kind):
    _account, username, login_path, _home, _logout = accounts[kind]
    client = app.test_client()
    statuses = [
        client.post(
            login_path,
            data={"username": username, "password": f"Wrong-pass-{i}"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(20)
    ]
    assert statuses[:5] == [422] * 5 and set(statuses[5:]) == {429}
    # Still refused with the right password, from a "new" forwarded address.
    response = client.post(
        login_path, data={"username": username, "password": PASSWORD}, headers={"X-Forwarded-For": "198.51.100.1"}
    )
    assert response.status_code == 429
    # X-Forwarded-For was ignored: every failure is recorded against the real address.
    failures = models.LoginFailure.select()
    assert {f.ip for f in failures} == {"127.0.0.1"}
    assert {a.ip for a in models.AuditLog.select().where(models.AuditLog.action.startswith("login"))} == {"127.0.0.1"}


def test_one_address_guessing_many_accounts_is_throttled(app, accounts):
    officer, user_code, *_ = accounts["officer"]
    attacker = client_from(app, "203.0.113.50")
    statuses = [
        attacker.post(
            "/officer/login",
            data={"username": f"{10000000 + i}", "password": "Wrong-pass-1"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(32)
    ]
    assert statuses[-1] == 429
    # The attacker's address is blocked even for a correct password...
    assert login(attacker, "/officer/login", user_code).status_code == 429
    # ...but the officer, from their own address, is not.
    assert login(client_from(app, "198.51.100.200"), "/officer/login", user_code).status_code == 302


def test_throttling_is_shared_by_every_worker_process(app, accounts):
    """Failures are rows in the database, not a per-process counter: a fresh app (another
    worker) sees the failures the first one recorded."""
    from app import create_app

    _officer, user_code, *_ = accounts["officer"]
    for _ in range(5):
        login(app.test_client(), "/officer/login", user_code, "Wrong-pass-1")
    other_worker = create_app(dict(app.config))
    assert login(other_worker.test_client(), "/officer/login", user_code).status_code == 429


def test_behind_the_proxy_one_attacker_cannot_lock_everyone_out(app, accounts, monkeypatch):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")  # these tests are about other settings
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    production = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    _officer, user_code, *_ = accounts["officer"]
    attacker = client_from(production, "127.0.0.1")
    for i in range(31):  # the proxy appends the real client address last
        attacker.post(
            "https://localhost/officer/login",
            data={"username": f"{10000000 + i}", "password": "x" * 9},
            headers={"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.9", "X-Forwarded-Proto": "https"},
        )
    victim = client_from(production, "127.0.0.1")
    response = victim.post(
        "https://localhost/officer/login",
        data={"username": user_code, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    # Failures are recorded against the real client; the 31st attempt was already throttled.
    assert models.LoginFailure.select().where(models.LoginFailure.ip == "203.0.113.9").count() == 30


# ---------------------------------------------------------------------- 2: password rules


def top_common_passwords(limit=3000, count=4):
    path = models.accounts.COMMON_PASSWORDS_FILE
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        head = [line.strip() for _, line in zip(range(limit), handle, strict=False)]
    return [p for p in head if len(p) >= 8][:count] + [head[-1] if len(head[-1]) >= 8 else "sunshine1"]


def test_password_rules_on_every_path_that_sets_one(app, accounts, dbc):
    assert len(PERSIAN_PASSPHRASE) == 64 and PERSIAN_PASSPHRASE.strip() == PERSIAN_PASSPHRASE
    short, common = "Ab1-xyz", top_common_passwords()
    assert len(short) == 7
    director = logged_in(app, accounts, "director")
    officer_client = logged_in(app, accounts, "officer")
    seq = iter(range(1000))

    def register(password):
        n = next(seq)
        from helpers import national_code

        data = registration_data(
            national_code=national_code(900000 + n), mobile=f"0935{n:07d}", password=password, password_confirm=password
        )
        return app.test_client().post("/officer/register", data=data).status_code == 303

    def change(password):
        response = officer_client.post(
            "/officer/password",
            data={"current_password": change.current, "new_password": password, "new_password_confirm": password},
        )
        if response.status_code == 302:
            change.current = password
            return True
        return False

    change.current = PASSWORD

    def new_staff(password):
        n = next(seq)
        director.post(
            "/admin/staff/new/",
            data={
                "username": f"s{n}",
                "full_name": "کارشناس",
                "role": "directorate",
                "is_active": "y",
                "new_password": password,
            },
        )
        return models.StaffUser.get_or_none(models.StaffUser.username == f"s{n}") is not None

    def new_distributor(password):
        n = next(seq)
        director.post(
            "/admin/distributor/new/",
            data={
                "username": f"d{n}",
                "name": "شرکت آزمون",
                "kind": "company",
                "manager_mobile": "09121234567",
                "is_active": "y",
                "new_password": password,
            },
        )
        return models.Distributor.get_or_none(models.Distributor.username == f"d{n}") is not None

    for path in (register, change, new_staff, new_distributor):
        assert not path(short), (path.__name__, short)
        for password in common:
            assert not path(password), (path.__name__, password)
            assert not path(password.upper()), (path.__name__, password.upper())
        assert path(PERSIAN_PASSPHRASE), path.__name__
    # The passphrase logs in, for the officer who changed it and for the new accounts.
    officer, user_code, *_ = accounts["officer"]
    assert login(app.test_client(), "/officer/login", user_code, PERSIAN_PASSPHRASE).status_code == 302
    staff = models.StaffUser.select().order_by(models.StaffUser.id.desc()).first()
    assert login(app.test_client(), "/admin/login", staff.username, PERSIAN_PASSPHRASE).status_code == 302
    dist = models.Distributor.select().order_by(models.Distributor.id.desc()).first()
    assert login(app.test_client(), "/distributor/login", dist.username, PERSIAN_PASSPHRASE).status_code == 302


# ---------------------------------------------------------------------- 5: fixation


@pytest.mark.parametrize("kind", ["officer", "distributor", "staff"])
def test_login_starts_a_new_session(app, accounts, kind):
    _account, username, login_path, home, _logout = accounts[kind]
    client = app.test_client()
    client.get(login_path)
    with client.session_transaction() as session:
        session["_id"] = "attacker-chosen-id"
        session["_user_id"] = "attacker-chosen-token"
        session["planted"] = "x"
    planted_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    # A planted token is not a session.
    assert is_logged_out(client.get(home), login_path)
    assert login(client, login_path, username).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert cookie != planted_cookie
    with client.session_transaction() as session:
        assert session.get("_id") not in (None, "attacker-chosen-id")
        assert session["_user_id"] != "attacker-chosen-token" and len(session["_user_id"]) >= 32
        assert "planted" not in session
    assert client.get(home).status_code == 200
    # The cookie held before login is worth nothing afterwards.
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], planted_cookie)
    assert is_logged_out(replay.get(home), login_path)


# ---------------------------------------------------------------------- 6: replay after logout


@pytest.mark.parametrize("kind", ["distributor", "staff", "director"])
def test_cookie_replayed_after_logout_is_refused(app, accounts, kind):
    _account, username, login_path, home, logout_path = accounts[kind]
    client = logged_in(app, accounts, kind)
    assert client.get(home).status_code == 200
    captured = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.post(logout_path).status_code == 302
    assert is_logged_out(client.get(home), login_path)
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], captured)
    assert is_logged_out(thief.get(home), login_path)


# ---------------------------------------------------------------------- 7: logged out elsewhere


def _edit_form(director, url):
    """The edit form's current values, as the browser would post them back."""
    html = director.get(url).get_data(as_text=True)
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    for name in re.findall(r'<input[^>]*checked[^>]*name="([^"]+)"|<input[^>]*name="([^"]+)"[^>]*checked', html):
        data[[n for n in name if n][0]] = "y"
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', body)
        if selected:
            data[name] = selected.group(1) or selected.group(2)
    return data


@pytest.mark.parametrize("kind, view", [("distributor", "distributor"), ("staff", "staff")])
@pytest.mark.parametrize("change", ["disable", "new_password"])
def test_changes_by_the_directorate_log_the_account_out(app, accounts, kind, view, change, dbc):
    account, username, login_path, home, _logout = accounts[kind]
    victim = logged_in(app, accounts, kind)
    assert victim.get(home).status_code == 200
    director = logged_in(app, accounts, "director")
    url = f"/admin/{view}/edit/?id={account.id}"
    data = _edit_form(director, url)
    if change == "disable":
        data.pop("is_active", None)
    else:
        data["new_password"] = "Tazeh-Ramz-Baraye-Shoma-1403"
    response = director.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert is_logged_out(victim.get(home), login_path)
    if change == "new_password":
        assert login(app.test_client(), login_path, username, "Tazeh-Ramz-Baraye-Shoma-1403").status_code == 302
    else:
        assert login(app.test_client(), login_path, username).status_code == 422


def test_officer_password_change_ends_other_sessions_but_keeps_this_one(app, accounts):
    """(Officers only have a self-service password change; staff and distributors get a new
    password from the directorate, tested above.)"""
    first, second = logged_in(app, accounts, "officer"), logged_in(app, accounts, "officer")
    first.post(
        "/officer/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Tazeh-Ramz-1403-x",
            "new_password_confirm": "Tazeh-Ramz-1403-x",
        },
    )
    assert first.get("/officer/").status_code == 200
    assert is_logged_out(second.get("/officer/"), "/officer/login")


# ---------------------------------------------------------------------- 8: timeouts


@pytest.mark.parametrize("kind", ["officer", "distributor", "staff"])
def test_idle_and_absolute_timeouts(app, accounts, kind):
    _account, username, login_path, home, _logout = accounts[kind]
    start = dt.datetime(2025, 1, 1, 6, 0)
    with freeze_time(start) as frozen:
        idle = app.test_client()
        assert login(idle, login_path, username).status_code == 302
        frozen.tick(dt.timedelta(minutes=29))
        assert idle.get(home).status_code == 200
        frozen.tick(dt.timedelta(minutes=31))
        response = idle.get(home)
        assert is_logged_out(response, login_path)
    with freeze_time(start) as frozen:
        busy = app.test_client()
        assert login(busy, login_path, username).status_code == 302
        for _ in range(24):  # active every 29 minutes: 11 h 36 min
            frozen.tick(dt.timedelta(minutes=29))
            assert busy.get(home).status_code == 200
        frozen.tick(dt.timedelta(minutes=25))  # 12 h 1 min after login
        assert is_logged_out(busy.get(home), login_path)
        # And re-authenticating gives a fresh 12 hours.
        assert login(busy, login_path, username).status_code == 302
        assert busy.get(home).status_code == 200


# ---------------------------------------------------------------------- 9: cookie attributes


def cookie_attributes(header: str) -> tuple[str, dict]:
    name_value, *attributes = [part.strip() for part in header.split(";")]
    name = name_value.split("=", 1)[0]
    attrs = {}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        attrs[key.lower()] = value
    return name, attrs


def test_production_cookies(app, accounts, monkeypatch):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")  # these tests are about other settings
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    production = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "RATELIMIT_ENABLED": False,
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )
    assert production.config["WTF_CSRF_ENABLED"] is not False
    for kind in ("officer", "distributor", "staff"):
        _account, username, login_path, home, _logout = accounts[kind]
        client = production.test_client()
        base = "https://localhost"
        page = client.get(base + login_path)
        token = csrf_token_from(page.get_data(as_text=True))
        response = client.post(
            base + login_path,
            data={"username": username, "password": PASSWORD, "csrf_token": token, "remember": "y", "remember_me": "y"},
            headers={"Referer": base + login_path},
        )
        assert response.status_code == 302, (kind, response.status_code)
        cookies = [cookie_attributes(h) for h in response.headers.getlist("Set-Cookie")]
        names = [name for name, _ in cookies]
        assert names == ["__Host-session"], names  # and no remember-me cookie
        _name, attrs = cookies[0]
        assert "secure" in attrs and "httponly" in attrs, attrs
        assert attrs.get("samesite", "").lower() == "lax" and attrs.get("path") == "/" and "domain" not in attrs
        assert "expires" not in attrs and "max-age" not in attrs  # a browser-session cookie
        assert client.get(base + home).status_code == 200


def test_development_cookies_are_httponly_and_lax(app, accounts):
    client = app.test_client()
    response = login(client, "/officer/login", accounts["officer"][1])
    _name, attrs = cookie_attributes(response.headers["Set-Cookie"])
    assert "httponly" in attrs and attrs.get("samesite", "").lower() == "lax"


# ---------------------------------------------------------------------- 10: redirects stay here

BAD_TARGETS = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "https://evil.example/",
    "http:evil.example",
    "///evil.example",
    "/\t/evil.example",
    " //evil.example",
    "//evil.example/%2e%2e",
    "%2F%2Fevil.example",
    "data:text/html,<script>alert(1)</script>",
    "/%5Cevil.example",
]


def stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http", "https")
        and parts.netloc in ("", "localhost")
        and (parts.netloc or location.startswith("/"))
        and not location.startswith("//")
        and "\\" not in location
        and "evil" not in parts.netloc
    )


@pytest.mark.parametrize("kind", ["officer", "distributor", "staff"])
def test_next_after_login_stays_on_this_site(app, accounts, kind):
    _account, username, login_path, _home, _logout = accounts[kind]
    for target in BAD_TARGETS:
        client = app.test_client()
        page = client.get(login_path, query_string={"next": target}).get_data(as_text=True)
        # Every "next" the page carries (the login form's, the language switch's) is a local path.
        for value in re.findall(r'name="next"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="next"', page):
            value = html.unescape(value[0] or value[1])
            assert value == "" or stays_here(value), (target, value)
        response = client.post(
            login_path, query_string={"next": target}, data={"username": username, "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302 and stays_here(response.headers["Location"]), (target, response.headers)


# Scheme-relative targets ("http:evil.example") are tested below on their own.
FLASK_ADMIN_TARGETS = [t for t in BAD_TARGETS if not re.match(r"https?:[^/]", t)]


def test_language_switch_and_back_office_return_urls_stay_on_this_site(app, accounts, dbc):
    director = logged_in(app, accounts, "director")
    sms = models.SmsOutbox.create(to="09121234567", text="x", status="failed")
    for target in BAD_TARGETS:
        response = app.test_client().post("/lang/en", data={"next": target})
        assert response.status_code == 302 and stays_here(response.headers["Location"]), target
    for target in FLASK_ADMIN_TARGETS:
        # Flask-Admin's ?url= after an action, a refused delete and a form.
        for url, data in (
            (f"/admin/sms/action/?url={target}", {"action": "resend", "rowid": str(sms.id)}),
            (f"/admin/officer/delete/?url={target}", {"id": "1"}),
            (f"/admin/setting/new/?url={target}", {"key": "k", "value": "v"}),
            (f"/admin/sms/details/?id=999999&url={target}", None),
        ):
            response = director.post(url, data=data) if data is not None else director.get(url)
            assert response.status_code == 302, (url, response.status_code)
            assert stays_here(response.headers["Location"]), (url, response.headers["Location"])
        page = director.get(f"/admin/sms/details/?id={sms.id}&url={target}").get_data(as_text=True)
        for link in re.findall(r'href="([^"]*)"', page):
            assert stays_here(html.unescape(link)) or link.startswith("#") or link == "javascript:void(0)", (
                target,
                link,
            )
        models.Setting.delete().execute()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_back_office_return_url_with_a_bare_scheme_stays_on_this_site(app, accounts, dbc, scheme):
    director = logged_in(app, accounts, "director")
    base = f"{scheme}://localhost"
    sms = models.SmsOutbox.create(to="09121234567", text="x", status="failed")
    for target in (f"{scheme}:evil.example", f"{scheme}:/evil.example", f"{scheme}:\\evil.example"):
        for url, data in (
            (f"/admin/sms/details/?id=999999&url={target}", None),
            (f"/admin/sms/action/?url={target}", {"action": "resend", "rowid": str(sms.id)}),
            (f"/admin/officer/delete/?url={target}", {"id": "1"}),
        ):
            response = director.post(base + url, data=data) if data else director.get(base + url)
            assert response.status_code == 302
            # What the browser resolves the Location header to, against this page.
            assert stays_here(response.headers["Location"]), (url, response.headers["Location"])
