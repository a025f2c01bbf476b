"""The red-team report's findings on accounts, logins and SMS (issue 17), each as the
attack its script performed (``../shared/findings/attack-scripts/``): t_throttle.py (H1),
t_lockdos.py (L6), t_pwchange.py (L4), t_reset_race.py (L5), t_auditflood.py (L11),
t_sms.py (M2), the reset redirect (L10) and the production settings (I1)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import stat
import threading

import pytest
from freezegun import freeze_time

import models
import notify
from helpers import PASSWORD, login, national_code, registration_data

PRODUCTION_SECRET = "0c8f2d6a4b1e9f7035d2c8a61b4e7f90d3a5c2b8e1f4a7d0c9b6e3f2a1d8c5b4"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def victim(app):
    """An officer whose national code starts with a zero, so it also logs in without it."""
    with models.db.connection_context():
        return models.register_officer(registration_data(national_code=national_code(12345678), mobile="09125550001"))


def spellings(officer):
    """Every way t_throttle.py wrote the same account's name."""
    code = officer.national_code
    return [
        code,
        officer.user_code,
        code.translate(PERSIAN),
        code.translate(ARABIC),
        " ".join(code),
        code.lstrip("0"),
        f"{code[:3]}-{code[3:]}",
    ]


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# ---------------------------------------------------------------- H1: one lockout per account


def test_h1_five_failures_lock_the_account_whatever_the_spelling(app, victim):
    names = spellings(victim)
    assert models.find_officer_for_login(names[-1]).id == victim.id  # each spelling logs in
    attacker = app.test_client()
    for name in names[:5]:  # one wrong guess per spelling, five in all
        assert login(attacker, "/officer/login", name, "Wrong-pass-1").status_code == 422
    for name in names:
        assert login(app.test_client(), "/officer/login", name).status_code == 429, name


def test_h1_an_unknown_name_is_counted_once_normalised(app):
    attacker = app.test_client()
    unknown = national_code(777)
    for name in (unknown, unknown.translate(PERSIAN), " ".join(unknown), unknown.translate(ARABIC), unknown):
        login(attacker, "/officer/login", name, "Wrong-pass-1")
    assert {f.account_key for f in models.LoginFailure.select()} == {f"officer:{unknown}"}


# ---------------------------------------------------------------- L6: a delay, and known devices


def test_l6_a_staff_lockout_is_a_short_delay_that_grows(app, make_staff):
    make_staff("directorate", username="directorate")
    start = dt.datetime(2026, 12, 1, 8, 0, 0)
    with freeze_time(start):
        for _ in range(5):
            assert login(client_at(app, "127.0.0.7"), "/admin/login", "directorate", "Wrong-pass-1").status_code == 422
        assert login(client_at(app, "127.0.0.8"), "/admin/login", "directorate").status_code == 429
    with freeze_time(start + dt.timedelta(seconds=31)):
        # A 6th failure doubles the wait to a minute...
        assert login(client_at(app, "127.0.0.7"), "/admin/login", "directorate", "Wrong-pass-2").status_code == 422
    with freeze_time(start + dt.timedelta(seconds=62)):
        assert login(client_at(app, "127.0.0.8"), "/admin/login", "directorate").status_code == 429
    with freeze_time(start + dt.timedelta(seconds=95)):
        # ...not the 15 minutes a stranger could renew for ever.
        assert login(client_at(app, "127.0.0.8"), "/admin/login", "directorate").status_code == 302


@pytest.mark.parametrize(
    ("kind", "path"),
    [("staff", "/admin/login"), ("distributor", "/distributor/login"), ("officer", "/officer/login")],
)
def test_l6_a_device_that_logged_in_before_is_not_locked_out(app, make_staff, make_officer, kind, path):
    if kind == "staff":
        username = make_staff("university", username="tehran-reviewer").username
    elif kind == "distributor":
        username = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش", "company", "09121110000").username
    else:
        username = make_officer().user_code
    own_browser = client_at(app, "127.0.0.8")
    assert login(own_browser, path, username).status_code == 302
    assert own_browser.get_cookie(f"device-{kind}") is not None
    for _ in range(8):
        login(client_at(app, "127.0.0.7"), path, username, "Wrong-pass-1")
    assert login(client_at(app, "127.0.0.9"), path, username).status_code == 429  # a new browser waits
    assert login(own_browser, path, username).status_code == 302  # the owner's does not
    # A device cookie copied to another account vouches for nothing there.
    stolen = own_browser.get_cookie(f"device-{kind}").value
    other = client_at(app, "127.0.0.10")
    other.set_cookie(f"device-{kind}", stolen)
    if kind == "staff":
        other_name = make_staff("university", username="isfahan-reviewer").username
        for _ in range(5):
            login(client_at(app, "127.0.0.7"), path, other_name, "Wrong-pass-1")
        assert login(other, path, other_name).status_code == 429


def test_l6_a_rotated_secret_key_keeps_the_devices_it_vouched_for(app, make_staff):
    """SECRET_KEY moved to SECRET_KEY_FALLBACKS: the owner's browser is still let through
    while a stranger is held back, and gets a token of the new key, which stays good once
    the old key is gone."""
    username = make_staff("university", username="tehran-reviewer").username
    old_key, new_key = PRODUCTION_SECRET, PRODUCTION_SECRET[::-1]
    app.config.update(SECRET_KEY=old_key, SECRET_KEY_FALLBACKS=[])
    own_browser = client_at(app, "127.0.0.8")
    assert login(own_browser, "/admin/login", username).status_code == 302
    app.config.update(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key])
    for _ in range(8):
        login(client_at(app, "127.0.0.7"), "/admin/login", username, "Wrong-pass-1")
    assert login(client_at(app, "127.0.0.9"), "/admin/login", username).status_code == 429
    assert login(own_browser, "/admin/login", username).status_code == 302
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert login(own_browser, "/admin/login", username).status_code == 302
    assert len(own_browser.get_cookie("device-staff").value.split(",")) == 1  # the old token was replaced


def test_l6_a_device_mac_is_made_with_a_key_derived_for_it_not_with_secret_key_itself(app, make_staff):
    import hashlib
    import hmac

    staff = make_staff("university", username="tehran-reviewer")
    secret = app.config["SECRET_KEY"]
    nonce = "n0nce"
    raw = hmac.new(secret.encode(), f"staff:{staff.id}:{staff.password_hash}:{nonce}".encode(), hashlib.sha256)
    assert not models.device_is_known(models.device_keys(secret), [f"{nonce}.{raw.hexdigest()[:32]}"], "staff", staff)
    token = models.device_token(models.device_keys(secret), "staff", staff)
    assert models.device_is_known(models.device_keys(secret), [token], "staff", staff)
    assert not models.device_is_known(models.device_keys(secret + "x"), [token], "staff", staff)
    assert models.device_is_known(models.device_keys(secret + "x", [secret]), [token], "staff", staff)


# ---------------------------------------------------------------- L4: the password-change oracle


def test_l4_a_wrong_current_password_counts_as_a_failed_login(app, officer_client):
    officer = officer_client.officer
    for _ in range(5):
        response = officer_client.post(
            "/officer/password",
            data={
                "current_password": "Wrong-pass-1",
                "new_password": "N3w-passw0rd!",
                "new_password_confirm": "N3w-passw0rd!",
            },
        )
        assert response.status_code == 422
    assert models.LoginFailure.select().count() == 5
    # The right one is now refused too, at the login and on the same form.
    assert login(app.test_client(), "/officer/login", officer.user_code).status_code == 429
    response = officer_client.post(
        "/officer/password",
        data={"current_password": PASSWORD, "new_password": "N3w-passw0rd!", "new_password_confirm": "N3w-passw0rd!"},
    )
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    assert models.Officer.get_by_id(officer.id).check_password(PASSWORD)


# ---------------------------------------------------------------- L5: the reset-code race


def test_l5_parallel_wrong_codes_take_one_attempt_each(app, make_officer, dbc, monkeypatch):
    """t_reset_race.py: 19 parallel guesses got 7 comparisons. Here every guess has read the
    reset row (4 attempts used) before any of them writes: only one may compare a code."""
    officer = make_officer()
    models.request_password_reset(officer.user_code)
    models.PasswordReset.update(attempts=4).execute()
    guesses = 4
    barrier = threading.Barrier(guesses, timeout=10)
    real_update = models.PasswordReset.update.__func__

    def update_after_everyone_read(cls, *args, **kwargs):
        barrier.wait()
        return real_update(cls, *args, **kwargs)

    monkeypatch.setattr(models.PasswordReset, "update", classmethod(update_after_everyone_read))

    def guess(n):
        with models.db.connection_context(), contextlib.suppress(models.DomainError):
            models.reset_password(officer.user_code, f"{n:06d}", "N3w-passw0rd!")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    compared = models.AuditLog.select().where(models.AuditLog.action == "password_reset_failed").count()
    assert compared == 1
    assert models.PasswordReset.get().attempts == 5


# ---------------------------------------------------------------- L11: audit write amplification


def test_l11_throttled_logins_write_one_audit_row_per_window(app, victim):
    attacker = app.test_client()
    statuses = [login(attacker, "/officer/login", victim.user_code, f"Wrong-{i}-pass").status_code for i in range(40)]
    assert statuses.count(422) == 5 and statuses.count(429) == 35
    actions = [a.action for a in models.AuditLog.select().where(models.AuditLog.action.startswith("login"))]
    assert actions.count("login_failed") == 5
    assert actions.count("login_throttled") == 1


# ---------------------------------------------------------------- M2: reset codes out of reach


def test_m2_a_reset_code_is_never_readable_in_the_back_office_or_the_outbox(app, victim, make_staff, tmp_path):
    client = app.test_client()
    client.post("/officer/password/reset", data={"username": victim.national_code})
    with models.db.connection_context():
        sms = models.SmsOutbox.select().order_by(models.SmsOutbox.id.desc()).first()
        code = sms.render().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
        code = "".join(ch for ch in code if ch.isascii() and ch.isdigit())
        assert len(code) >= 6 and code[:6] not in sms.text  # masked from the start
        code = code[:6]
    director = app.test_client()
    make_staff("directorate", username="directorate")
    assert login(director, "/admin/login", "directorate").status_code == 302
    pages = [
        director.get(f"/admin/sms/?search={victim.mobile}"),
        director.get("/admin/sms/export/csv/"),
        director.get(f"/admin/sms/details/?id={sms.id}"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert code not in text and code.translate(PERSIAN) not in text
    assert "••••••" in pages[0].get_data(as_text=True)
    # Sent through the developer's log backend: the code is in that private file only.
    log = tmp_path / "private" / "sms.log"
    with models.db.connection_context():
        assert notify.deliver_pending(notify.LogBackend(log))["sent"] >= 1
        row = models.SmsOutbox.get_by_id(sms.id)
        stored = " ".join(str(v) for v in models.SmsOutbox.select().tuples().where(models.SmsOutbox.id == sms.id).get())
    assert row.status == "sent"
    assert code not in stored and code.translate(PERSIAN) not in stored
    assert code.translate(PERSIAN) in log.read_text(encoding="utf-8") or code in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600  # L12
    assert stat.S_IMODE(os.stat(log.parent).st_mode) == 0o700
    # A message whose code is gone is never sent again.
    with models.db.connection_context():
        models.SmsOutbox.update(status="failed").where(models.SmsOutbox.id == sms.id).execute()
        assert notify.resend([sms.id]) == 0


def test_m2_messages_without_secrets_keep_their_text(app, make_officer, dbc):
    officer = make_officer()
    sms = models.SmsOutbox.get(models.SmsOutbox.to == officer.mobile)
    assert officer.user_code in sms.text and sms.render() == sms.text


# ---------------------------------------------------------------- L10: no national code in a URL


def test_l10_the_reset_redirect_carries_no_national_code(app, victim):
    client = app.test_client()
    response = client.post("/officer/password/reset", data={"username": victim.national_code})
    assert response.status_code == 302
    assert victim.national_code not in response.headers["Location"]
    assert "?" not in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'value="{victim.national_code}"' in page  # the form is still filled in


def test_l10_the_production_access_log_omits_query_strings(monkeypatch, tmp_path):
    import runpy

    # Given a metrics folder, gunicorn.conf.py names none of its own in the environment:
    # this one is taken away after the test, or this process's other tests would read
    # their metrics from a folder.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config = runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "gunicorn.conf.py"))
    log_format = config["access_log_format"]
    assert "%(r)s" not in log_format and "%(q)s" not in log_format and "%(U)s" in log_format
    assert "%(f)s" not in log_format  # a Referer holds the previous page's query


# ---------------------------------------------------------------- I1: production settings


@pytest.mark.parametrize(
    ("secret", "env", "database", "refused"),
    [
        (" ", {"SMS_BACKEND_LOG_ACKNOWLEDGED": "1"}, True, "SECRET_KEY"),
        ("a" * 64, {"SMS_BACKEND_LOG_ACKNOWLEDGED": "1"}, True, "SECRET_KEY"),
        (PRODUCTION_SECRET, {"SMS_BACKEND_LOG_ACKNOWLEDGED": "1"}, False, "DATABASE_URL"),
        (PRODUCTION_SECRET, {}, True, "SMS_BACKEND"),
        (PRODUCTION_SECRET, {"SMS_BACKEND_LOG_ACKNOWLEDGED": "1"}, True, None),
        (PRODUCTION_SECRET, {"SMS_BACKEND": "kavenegar", "KAVENEGAR_API_KEY": "k"}, True, None),
    ],
)
def test_i1_production_refuses_unsafe_defaults(app, monkeypatch, secret, env, database, refused):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")  # these tests are about other settings
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in ("SMS_BACKEND", "SMS_BACKEND_LOG_ACKNOWLEDGED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = {"UPLOAD_DIR": app.config["UPLOAD_DIR"], "SMS_DELIVER_IN_BACKGROUND": False}
    if database:
        config["DATABASE_URL"] = app.config["DATABASE_URL"]
    if refused:
        with pytest.raises(RuntimeError, match=refused):
            create_app(config)
    else:
        assert create_app(config).config["SESSION_COOKIE_SECURE"] is True


# ---------------------------------------------------------------- I3: personal data in the audit log


def test_i3_audit_details_name_fields_not_values(app, make_officer, dbc):
    officer = make_officer()
    # The mobile changes only through a code to the new number (issue 16): email and address here.
    models.update_profile(
        officer,
        {"email": "maryam.ahmadi@example.com", "address": "اصفهان، خیابان چهارباغ، کوچه دوم، پلاک ۹"},
        officer.as_actor(),
    )
    row = models.AuditLog.get(models.AuditLog.action == "profile_changed")
    assert "email" in row.detail and "address" in row.detail
    assert "maryam.ahmadi" not in row.detail and "چهارباغ" not in row.detail and officer.mobile not in row.detail


def test_i3_a_four_eyes_identity_correction_audits_field_names_not_values(app, make_officer, make_staff, dbc):
    import datetime
    import io

    import persian
    import storage
    from helpers import MINIMAL_PDF
    from models import account_admin

    officer = make_officer()
    before = models.Officer.get_by_id(officer.id)
    first, second = make_staff("directorate").as_actor(), make_staff("directorate").as_actor()
    new_code = national_code(4242)
    wanted = {"national_code": new_code, "birth_date": "1365/02/03", "first_name": "زهرا", "last_name": "کریمی"}
    evidence = storage.DocumentStore(app.config["UPLOAD_DIR"]).save(io.BytesIO(MINIMAL_PDF), "evidence.pdf")
    correction = account_admin.propose_correction(officer, first, wanted, "سند سجلی جدید", evidence)
    account_admin.confirm_correction(officer, second, correction.id, "سند دیده شد")
    after = models.Officer.get_by_id(officer.id)
    assert after.national_code == new_code and after.first_name == "زهرا"  # the correction applied
    rows = list(models.AuditLog.select().where(models.AuditLog.action.startswith("identity_correction_")))
    assert sorted(r.action for r in rows) == ["identity_correction_confirmed", "identity_correction_proposed"]
    values = {before.national_code, new_code, before.first_name, before.last_name, "زهرا", "کریمی"}
    for day in (before.birth_date, datetime.date(1986, 4, 23)):  # 1365/02/03
        values |= {day.isoformat(), persian.format_jalali_date(day), persian.to_persian_digits(day.isoformat())}
    values |= {persian.to_persian_digits(v) for v in (before.national_code, new_code)}
    for row in rows:
        for name in ("national_code", "birth_date", "first_name", "last_name"):
            assert name in row.detail, row.detail
        leaked = [v for v in values if v and v in row.detail]
        assert not leaked, (row.action, row.detail)
