"""Forgotten password: a one-time code by SMS, short-lived, limited attempts, single use."""

import datetime as dt
import re

from freezegun import freeze_time

import models
from helpers import login


def last_code(officer):
    sms = (
        models.SmsOutbox.select()
        .where(models.SmsOutbox.to == officer.mobile)
        .order_by(models.SmsOutbox.id.desc())
        .first()
    )
    return re.search(r"\d{6}", sms.render().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))).group(0)


def confirm(client, officer, code, password="Tazeh-Ramz-1403"):
    return client.post(
        "/officer/password/reset/confirm",
        data={"username": officer.user_code, "code": code, "new_password": password, "new_password_confirm": password},
    )


def test_reset_with_the_sms_code(app, client, make_officer, dbc):
    officer = make_officer()
    other_session = app.test_client()
    login(other_session, "/officer/login", officer.user_code)
    assert client.post("/officer/password/reset", data={"username": officer.national_code}).status_code == 302
    code = last_code(officer)
    assert confirm(client, officer, code).status_code == 302
    assert login(app.test_client(), "/officer/login", officer.user_code, "Tazeh-Ramz-1403").status_code == 302
    assert other_session.get("/officer/").status_code == 302  # old sessions ended
    # Single use.
    assert confirm(client, officer, code, "Digar-Ramz-1403").status_code == 422


def test_unknown_account_gets_the_same_answer(client, make_officer, dbc):
    officer = make_officer()
    known = client.post("/officer/password/reset", data={"username": officer.user_code}, follow_redirects=True)
    unknown = client.post("/officer/password/reset", data={"username": "99999999"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "اگر این حساب"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_code_expires(client, make_officer, dbc):
    officer = make_officer()
    client.post("/officer/password/reset", data={"username": officer.user_code})
    code = last_code(officer)
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        assert confirm(client, officer, code).status_code == 422


def test_attempts_are_limited(client, make_officer, dbc):
    officer = make_officer()
    client.post("/officer/password/reset", data={"username": officer.user_code})
    code = last_code(officer)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert confirm(client, officer, wrong).status_code == 422
    assert confirm(client, officer, code).status_code == 422  # locked after five tries


def test_codes_per_hour_are_limited(client, make_officer, dbc):
    officer = make_officer()
    before = models.SmsOutbox.select().count()
    for _ in range(5):
        client.post("/officer/password/reset", data={"username": officer.user_code})
    assert models.SmsOutbox.select().count() - before == 3
