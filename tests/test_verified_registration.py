"""Registration with a verified mobile (the code step), the limits on registration SMS
(red-team M3, t_regspam.py) and changing the mobile with the password and a code (L3)."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest

import models
from helpers import PASSWORD, national_code, register_through_the_form, registration_data, sms_code_to
from models import registration


def start(client, **overrides):
    response = client.post("/officer/register", data=registration_data(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    return response.headers["Location"]


def test_the_form_answers_with_a_code_form_and_no_account_exists_before_the_code(client, dbc):
    confirm_url = start(client)
    assert models.Officer.select().count() == 0
    page = client.get(confirm_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="code"' in html and f'action="{urlsplit(confirm_url).path}"' in html
    form = html[html.index('id="register-confirm-form"') :]
    form = form[: form.index("</form>")]
    names = set(re.findall(r'\bname="([^"]+)"', form))
    assert names - {"csrf_token"} == {"code"}


def test_the_code_is_six_digits_stored_hashed_and_never_shown(client, dbc):
    confirm_url = start(client)
    code = sms_code_to("09121234567")
    assert len(code) == 6
    row = models.MobileVerification.get()
    assert code not in row.code_hash and code not in row.payload and PASSWORD not in row.payload
    assert row.password_hash.startswith("$argon2id$")
    assert code not in client.get(confirm_url).get_data(as_text=True)
    assert row.expires_at - row.created_at == datetime.timedelta(minutes=10)


def test_the_right_code_creates_the_account_and_redirects_to_the_user_code_which_survives_a_reload(client, dbc):
    confirm_url = start(client)
    response = client.post(confirm_url, data={"code": sms_code_to("09121234567")})
    assert response.status_code == 303
    officer = models.Officer.get()
    assert officer.national_code == "0499370899" and officer.check_password(PASSWORD)
    for _reload in range(2):
        page = client.get(response.headers["Location"])
        assert page.status_code == 200 and 'id="user-code"' in page.get_data(as_text=True)
        assert officer.user_code in page.get_data(as_text=True)
    assert models.MobileVerification.get().password_hash == ""  # not kept once used
    # The same code again does nothing more.
    again = client.post(confirm_url, data={"code": sms_code_to("09121234567")})
    assert again.status_code == 410 and models.Officer.select().count() == 1


def test_another_browser_cannot_see_the_user_code_page(app, client, dbc):
    register_through_the_form(client)
    assert app.test_client().get("/officer/register/done").status_code == 404


def test_persian_digits_in_the_code_are_accepted(client, dbc):
    import persian

    confirm_url = start(client)
    response = client.post(confirm_url, data={"code": persian.to_persian_digits(sms_code_to("09121234567"))})
    assert response.status_code == 303


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_wrong_code_says_so_and_five_end_the_attempt(client, dbc):
    confirm_url = start(client)
    code = sms_code_to("09121234567")
    for left in (4, 3, 2, 1):
        response = client.post(confirm_url, data={"code": wrong(code)})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and 'role="alert"' in html and 'aria-invalid="true"' in html
        assert models.MobileVerification.get().attempts == 5 - left
    fifth = client.post(confirm_url, data={"code": wrong(code)})
    assert fifth.status_code == 410 and 'role="alert"' in fifth.get_data(as_text=True)
    # Even the right code is refused now: start again.
    assert client.post(confirm_url, data={"code": code}).status_code == 410
    assert models.Officer.select().count() == 0


def test_tries_are_counted_in_the_database_not_from_a_stale_read(client, dbc):
    """The counter moves in one conditional UPDATE: a try read before four parallel ones
    were spent cannot be compared once the limit is reached (red-team L5's pattern)."""
    start(client)
    row = models.MobileVerification.get()
    models.MobileVerification.update(attempts=registration.MAX_ATTEMPTS).where(
        models.MobileVerification.id == row.id
    ).execute()
    with pytest.raises(models.DomainError) as ended:
        # pending() would no longer find it; _check_code re-checks in its UPDATE anyway.
        registration._check_code(row.token, registration.REGISTRATION, sms_code_to("09121234567"), "")
    assert ended.value.code == "verification_ended"


def test_ten_minutes_end_the_attempt(client, dbc):
    confirm_url = start(client)
    models.MobileVerification.update(expires_at=models.utcnow() - datetime.timedelta(seconds=1)).execute()
    response = client.post(confirm_url, data={"code": sms_code_to("09121234567")})
    assert response.status_code == 410 and models.Officer.select().count() == 0


def test_a_national_code_registered_meanwhile_ends_the_other_attempt(client, app, dbc):
    first = start(client)
    second_client = app.test_client()
    second = start(second_client, mobile="09351112233")
    assert client.post(first, data={"code": sms_code_to("09121234567")}).status_code == 303
    response = second_client.post(second, data={"code": sms_code_to("09351112233")})
    assert response.status_code == 410 and "قبلاً" in response.get_data(as_text=True)
    assert models.Officer.select().count() == 1


def test_an_unknown_token_is_an_ended_attempt(client, dbc):
    assert client.get("/officer/register/confirm/not-a-token").status_code == 410


def test_purging_removes_only_attempts_that_ended_a_day_ago(client, dbc):
    start(client)
    start(client, national_code=national_code(4242), mobile="09351112233")
    old = models.MobileVerification.select().order_by(models.MobileVerification.id).first()
    models.MobileVerification.update(expires_at=models.utcnow() - datetime.timedelta(days=2)).where(
        models.MobileVerification.id == old.id
    ).execute()
    assert registration.purge_ended_verifications() == 1
    assert models.MobileVerification.select().count() == 1


def test_flask_tick_purges_the_ended_attempts(app, client, dbc):
    start(client)
    start(client, national_code=national_code(4242), mobile="09351112233")
    models.MobileVerification.update(expires_at=models.utcnow() - datetime.timedelta(days=2)).where(
        models.MobileVerification.mobile == "09121234567"
    ).execute()
    result = app.test_cli_runner().invoke(args=["tick", "--only", "purge_ended_verifications"])
    assert result.exit_code == 0, result.output
    assert "purge_ended_verifications=1" in result.output
    assert [v.mobile for v in models.MobileVerification.select()] == ["09351112233"]


# ------------------------------------------------------------------ limits (M3)


def sms_to(mobile):
    return models.SmsOutbox.select().where(models.SmsOutbox.to == mobile).count()


def test_registration_sms_to_one_number_are_limited(client, dbc):
    """t_regspam.py: 20 registrations naming the victim's mobile queued 20 SMS to it."""
    victim = "09351234567"
    statuses = [
        client.post(
            "/officer/register", data=registration_data(national_code=national_code(13000 + i), mobile=victim)
        ).status_code
        for i in range(20)
    ]
    assert sms_to(victim) == 3
    assert statuses[:3] == [303] * 3 and set(statuses[3:]) == {429}


def test_a_throttled_form_says_why_and_keeps_what_was_typed(client, dbc):
    for i in range(3):
        client.post("/officer/register", data=registration_data(national_code=national_code(500 + i)))
    response = client.post("/officer/register", data=registration_data(national_code=national_code(600)))
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and 'role="alert"' in html and 'data-code="throttled"' in html
    assert "یک ساعت" in html and "مریم" in html


def test_registrations_from_one_address_are_limited_whatever_the_numbers(client, dbc):
    statuses = [
        client.post(
            "/officer/register",
            data=registration_data(national_code=national_code(7000 + i), mobile=f"0935{i:07d}"),
            environ_base={"REMOTE_ADDR": "10.1.2.3"},
        ).status_code
        for i in range(12)
    ]
    assert statuses.count(303) == 10 and statuses[10:] == [429, 429]
    other = client.post(
        "/officer/register",
        data=registration_data(national_code=national_code(7999), mobile="09129999999"),
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other.status_code == 303


def test_codes_for_one_national_code_are_limited_across_numbers_and_addresses(client, dbc):
    statuses = [
        client.post(
            "/officer/register",
            data=registration_data(mobile=f"0936{i:07d}"),
            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
        ).status_code
        for i in range(7)
    ]
    assert statuses.count(303) == 5 and statuses[5:] == [429, 429]


def test_a_refused_form_sends_nothing_and_counts_nothing(client, dbc):
    for _ in range(5):
        client.post("/officer/register", data=registration_data(postal_code="12"))
    assert models.SmsOutbox.select().count() == 0
    assert client.post("/officer/register", data=registration_data()).status_code == 303


# ------------------------------------------------------------------ changing the mobile (L3)


def profile_post(client, **data):
    return client.post("/officer/profile/edit", data=data)


def test_a_new_mobile_needs_the_password_and_changes_nothing_without_it(officer_client, dbc):
    officer = officer_client.officer
    response = profile_post(officer_client, mobile="09399999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html
    wrong = profile_post(officer_client, mobile="09399999999", current_password="Wrong-pass-99")
    assert wrong.status_code == 422
    assert models.Officer.get_by_id(officer.id).mobile == officer.mobile
    assert sms_to("09399999999") == 0


def test_a_new_mobile_takes_effect_after_the_code_and_the_old_number_is_told(officer_client, app, dbc):
    """L3: the mobile (the recovery channel) changed with the session alone, and nobody told."""
    officer = officer_client.officer
    response = profile_post(officer_client, mobile="09399999999", current_password=PASSWORD, email="new@example.com")
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    confirm_url = response.headers["Location"]
    assert models.Officer.get_by_id(officer.id).mobile == officer.mobile  # not yet
    assert models.Officer.get_by_id(officer.id).email == "new@example.com"  # the rest was saved
    page = officer_client.get(confirm_url).get_data(as_text=True)
    assert 'name="code"' in page
    # Another officer cannot use this attempt.
    assert officer_client.post(confirm_url, data={"code": wrong(sms_code_to("09399999999"))}).status_code == 422
    done = officer_client.post(confirm_url, data={"code": sms_code_to("09399999999")})
    assert done.status_code == 303
    assert models.Officer.get_by_id(officer.id).mobile == "09399999999"
    told = models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).order_by(models.SmsOutbox.id.desc())
    assert "تغییر" in told.get().text
    # The next reset code goes to the new, confirmed number.
    app.test_client().post("/officer/password/reset", data={"username": officer.national_code})
    assert models.SmsOutbox.select().order_by(models.SmsOutbox.id.desc()).get().to == "09399999999"


def test_another_officer_cannot_confirm_someone_elses_mobile_change(officer_client, app, make_officer, dbc):
    from helpers import login

    response = profile_post(officer_client, mobile="09399999999", current_password=PASSWORD)
    confirm_url = response.headers["Location"]
    other = app.test_client()
    login(other, "/officer/login", make_officer().user_code)
    assert other.post(confirm_url, data={"code": sms_code_to("09399999999")}).status_code == 302
    assert models.Officer.get_by_id(officer_client.officer.id).mobile == officer_client.officer.mobile


def test_the_domain_never_changes_the_mobile_directly(officer_client, dbc):
    officer = officer_client.officer
    with pytest.raises(models.ValidationFailed):
        models.update_profile(officer, {"mobile": "09399999999"}, officer.as_actor())
    assert models.Officer.get_by_id(officer.id).mobile == officer.mobile


def test_a_mobile_change_is_checked_with_shahkar(officer_client, app, httpserver, dbc):
    from models.identity import SHAHKAR_PATH, HttpIdentity

    httpserver.expect_request(SHAHKAR_PATH, method="POST").respond_with_json({"match": False})
    app.extensions["identity"] = HttpIdentity(httpserver.url_for(""), timeout=1)
    response = profile_post(officer_client, mobile="09399999999", current_password=PASSWORD)
    assert response.status_code == 422 and "شاهکار" in response.get_data(as_text=True)
    assert sms_to("09399999999") == 0


def test_password_change_and_reset_tell_the_officer_by_sms(officer_client, app, dbc):
    officer = officer_client.officer
    before = sms_to(officer.mobile)
    response = officer_client.post(
        "/officer/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Tazeh-Ramz-2025",
            "new_password_confirm": "Tazeh-Ramz-2025",
        },
    )
    assert response.status_code == 302
    assert sms_to(officer.mobile) == before + 1
    anonymous = app.test_client()
    anonymous.post("/officer/password/reset", data={"username": officer.user_code})
    code = sms_code_to(officer.mobile)
    anonymous.post(
        "/officer/password/reset/confirm",
        data={
            "username": officer.user_code,
            "code": code,
            "new_password": "Sevomin-Ramz-2026",
            "new_password_confirm": "Sevomin-Ramz-2026",
        },
    )
    assert models.Officer.get_by_id(officer.id).check_password("Sevomin-Ramz-2026")
    assert sms_to(officer.mobile) == before + 3  # change, reset code, reset done


def test_a_distributor_changes_its_password_and_the_manager_is_told(app, dbc):
    from helpers import login

    models.create_distributor("dist1", PASSWORD, "شرکت الف", "company", "09120000001")
    client = app.test_client()
    assert login(client, "/distributor/login", "dist1").status_code == 302
    assert 'name="current_password"' in client.get("/distributor/password").get_data(as_text=True)
    wrong = client.post(
        "/distributor/password",
        data={
            "current_password": "nope-nope-1",
            "new_password": "Tazeh-Ramz-2025",
            "new_password_confirm": "Tazeh-Ramz-2025",
        },
    )
    assert wrong.status_code == 422 and 'role="alert"' in wrong.get_data(as_text=True)
    response = client.post(
        "/distributor/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Tazeh-Ramz-2025",
            "new_password_confirm": "Tazeh-Ramz-2025",
        },
    )
    assert response.status_code == 302
    assert models.Distributor.get().check_password("Tazeh-Ramz-2025")
    assert sms_to("09120000001") == 1
