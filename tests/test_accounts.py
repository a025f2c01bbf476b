"""Login, logout, sessions, password change, throttling."""

import pytest

import models
from helpers import PASSWORD, login


def test_officer_logs_in_with_user_code_or_national_code(app, make_officer):
    officer = make_officer()
    for username in (
        officer.user_code,
        officer.national_code,
        officer.national_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
    ):
        client = app.test_client()
        response = login(client, "/officer/login", username)
        assert response.status_code == 302 and response.headers["Location"] == "/officer/"
        assert client.get("/officer/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_message(app, make_officer):
    officer = make_officer()
    client = app.test_client()
    wrong = login(client, "/officer/login", officer.user_code, "Wrong-pass-99").get_data(as_text=True)
    unknown = login(client, "/officer/login", "99999999", "Wrong-pass-99").get_data(as_text=True)
    message = "نام کاربری یا گذرواژه درست نیست"
    assert message in wrong and message in unknown


def test_failed_logins_are_throttled_per_account_even_with_rotating_forwarded_for(app, make_officer):
    officer = make_officer()
    client = app.test_client()
    statuses = []
    for i in range(8):
        response = client.post(
            "/officer/login",
            data={"username": officer.user_code, "password": "nope-nope-1"},
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429
    # Even the right password is refused while the account is throttled.
    assert login(client, "/officer/login", officer.user_code).status_code == 429


def test_session_id_changes_at_login_and_logout_ends_it(app, make_officer):
    officer = make_officer()
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    login(client, "/officer/login", officer.user_code)
    with client.session_transaction() as session:
        assert "planted" not in session
        token = session["_user_id"]
    stolen = app.test_client()
    with stolen.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    assert stolen.get("/officer/").status_code == 200
    client.post("/officer/logout")
    assert client.get("/officer/").status_code == 302
    # A copy of the cookie taken before logout no longer works.
    assert stolen.get("/officer/").status_code == 302


def test_password_change_logs_out_other_sessions(app, make_officer):
    officer = make_officer()
    first, second = app.test_client(), app.test_client()
    login(first, "/officer/login", officer.user_code)
    login(second, "/officer/login", officer.user_code)
    response = first.post(
        "/officer/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Tazeh-Ramz-1403",
            "new_password_confirm": "Tazeh-Ramz-1403",
        },
    )
    assert response.status_code == 302
    assert first.get("/officer/").status_code == 200
    assert second.get("/officer/").status_code == 302
    assert login(app.test_client(), "/officer/login", officer.user_code, "Tazeh-Ramz-1403").status_code == 302


@pytest.mark.parametrize(
    "current, new, confirm, message",
    [
        ("wrong-one-22", "Tazeh-Ramz-1403", "Tazeh-Ramz-1403", "گذرواژه فعلی درست نیست"),
        (PASSWORD, "short", "short", "۸ نویسه"),
        (PASSWORD, "Tazeh-Ramz-1403", "Other-Ramz-1403", "یکسان نیستند"),
    ],
)
def test_password_change_refusals(officer_client, current, new, confirm, message):
    response = officer_client.post(
        "/officer/password", data={"current_password": current, "new_password": new, "new_password_confirm": confirm}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\\evil.example", "javascript:alert(1)", "https://evil.example/", "/officer/profile"]
)
def test_next_after_login_stays_on_this_site(app, make_officer, target):
    officer = make_officer()
    client = app.test_client()
    response = client.post(
        "/officer/login?next=" + target, data={"username": officer.user_code, "password": PASSWORD, "next": target}
    )
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert location == (target if target == "/officer/profile" else "/officer/")


def test_disabled_account_is_logged_out(app, make_officer, dbc):
    officer = make_officer()
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    models.Officer.update(is_active=False).where(models.Officer.id == officer.id).execute()
    assert client.get("/officer/").status_code == 302


def test_idle_timeout(app, make_officer, dbc):
    import datetime as dt

    from freezegun import freeze_time

    officer = make_officer()
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)):
        assert client.get("/officer/").status_code == 302


@pytest.mark.real_hasher
def test_stored_hash_is_argon2id_with_strong_parameters(make_officer, dbc):
    from argon2 import PasswordHasher

    officer = make_officer()
    stored = models.Officer.get_by_id(officer.id).password_hash
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2
    assert models.accounts.PASSWORD_HASHER.check_needs_rehash(stored) is False
    assert isinstance(models.accounts.PASSWORD_HASHER, PasswordHasher)


def test_legacy_aspnet_hash_verifies_and_upgrades(make_officer, dbc):
    officer = make_officer()
    salt, legacy = "UhVlqavmEX9CiKcUXkSwCw==", "h8A5hga0Cy93JsKxYnJl/U2AluU="
    assert models.accounts.aspnet_membership_hash("12345678", salt) == legacy
    wrapped = models.accounts.wrap_legacy_hash(legacy, salt)
    assert legacy not in wrapped
    models.Officer.update(password_hash=wrapped).where(models.Officer.id == officer.id).execute()
    fresh = models.Officer.get_by_id(officer.id)
    assert not fresh.check_password("12345679")
    assert models.Officer.get_by_id(officer.id).password_hash == wrapped
    assert fresh.check_password("12345678")
    upgraded = models.Officer.get_by_id(officer.id).password_hash
    assert upgraded.startswith("$argon2id$")
