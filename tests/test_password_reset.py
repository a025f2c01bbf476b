"""Forgotten password: a one-time code by SMS, short-lived, limited attempts, single use.

Officers and distributors recover the same way (one implementation in models.auth): the
officer by user code or national code, to the registered mobile; the distributor by its user
name, to the manager's mobile."""

import datetime as dt

import pytest
from freezegun import freeze_time

import models
from helpers import PASSWORD, login, sms_code_to


class Account:
    """One account that can recover its password: where its pages are, the name it types,
    the mobile its codes go to."""

    def __init__(self, prefix, username, mobile, model, account_id):
        self.prefix, self.username, self.mobile = prefix, username, mobile
        self.model, self.id = model, account_id

    def reload(self):
        return self.model.get_by_id(self.id)


@pytest.fixture(params=["officer", "distributor"])
def account(request, make_officer, dbc):
    if request.param == "officer":
        officer = make_officer()
        return Account("/officer", officer.national_code, officer.mobile, models.Officer, officer.id)
    distributor = models.create_distributor("pakhsh-reset", PASSWORD, "شرکت پخش البرز", "company", "09127770000")
    return Account("/distributor", "pakhsh-reset", "09127770000", models.Distributor, distributor.id)


def ask(client, account, username=None):
    return client.post(account.prefix + "/password/reset", data={"username": username or account.username})


def confirm(client, account, code, password="Tazeh-Ramz-1403", username=None):
    return client.post(
        account.prefix + "/password/reset/confirm",
        data={
            "username": username or account.username,
            "code": code,
            "new_password": password,
            "new_password_confirm": password,
        },
    )


def test_reset_with_the_sms_code(app, client, account):
    other_session = app.test_client()
    assert login(other_session, account.prefix + "/login", account.username).status_code == 302
    assert ask(client, account).status_code == 302
    code = sms_code_to(account.mobile)
    assert confirm(client, account, code).status_code == 302
    assert account.reload().check_password("Tazeh-Ramz-1403")
    assert login(app.test_client(), account.prefix + "/login", account.username, "Tazeh-Ramz-1403").status_code == 302
    assert other_session.get(account.prefix + "/").status_code == 302  # old sessions ended
    # The owner is told by SMS that the password changed.
    newest = models.SmsOutbox.select().where(models.SmsOutbox.to == account.mobile).order_by(models.SmsOutbox.id.desc())
    assert newest.first().msgid == models.auth.PASSWORD_CHANGED
    # Single use.
    assert confirm(client, account, code, "Digar-Ramz-1403").status_code == 422


def test_the_code_is_stored_hashed(client, account):
    ask(client, account)
    code = sms_code_to(account.mobile)
    reset = models.PasswordReset.get()
    assert code not in reset.code_hash and len(reset.code_hash) == 64
    assert reset.account() == account.reload()


def test_unknown_account_gets_the_same_answer(client, account):
    known = client.post(account.prefix + "/password/reset", data={"username": account.username}, follow_redirects=True)
    unknown = client.post(account.prefix + "/password/reset", data={"username": "99999999"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "اگر این حساب"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_code_expires(client, account):
    ask(client, account)
    code = sms_code_to(account.mobile)
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        assert confirm(client, account, code).status_code == 422
    assert not account.reload().check_password("Tazeh-Ramz-1403")


def test_attempts_are_limited(client, account):
    ask(client, account)
    code = sms_code_to(account.mobile)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert confirm(client, account, wrong).status_code == 422
    assert confirm(client, account, code).status_code == 422  # locked after five tries
    assert models.PasswordReset.get().attempts == 5


def test_codes_per_hour_are_limited(client, account):
    before = models.SmsOutbox.select().count()
    for _ in range(5):
        ask(client, account)
    assert models.SmsOutbox.select().count() - before == 3


def test_a_code_opens_no_account_that_was_disabled_after_it_was_sent(client, account):
    ask(client, account)
    code = sms_code_to(account.mobile)
    account.model.update(is_active=False).where(account.model.id == account.id).execute()
    assert confirm(client, account, code).status_code == 422
    assert not account.reload().check_password("Tazeh-Ramz-1403")


def test_a_code_resets_only_the_account_it_was_sent_to(client, make_officer, dbc):
    """An officer and a distributor share row ids: a distributor's code never opens the
    officer whose id is the same, nor the other way round."""
    officer = make_officer()
    distributor = models.create_distributor("pakhsh-twin", PASSWORD, "شرکت دوقلو", "company", "09127770001")
    models.Distributor.update(id=officer.id).where(models.Distributor.id == distributor.id).execute()
    client.post("/distributor/password/reset", data={"username": "pakhsh-twin"})
    code = sms_code_to("09127770001")
    officer_side = Account("/officer", officer.user_code, officer.mobile, models.Officer, officer.id)
    assert confirm(client, officer_side, code).status_code == 422
    assert not models.Officer.get_by_id(officer.id).check_password("Tazeh-Ramz-1403")
    distributor_side = Account("/distributor", "pakhsh-twin", "09127770001", models.Distributor, officer.id)
    assert confirm(client, distributor_side, code).status_code == 302
    assert distributor_side.reload().check_password("Tazeh-Ramz-1403")


def test_an_officers_user_code_is_no_distributors_name(client, make_officer, dbc):
    """Each door looks for its own kind of account: an officer's code typed on the
    distributor's page sends nothing."""
    officer = make_officer()
    before = models.SmsOutbox.select().count()
    client.post("/distributor/password/reset", data={"username": officer.user_code})
    assert models.SmsOutbox.select().count() == before


def test_the_distributor_login_links_to_the_reset(client):
    page = client.get("/distributor/login").get_data(as_text=True)
    assert 'href="/distributor/password/reset"' in page


def test_an_account_without_a_mobile_gets_the_same_answer_and_no_sms(client, account):
    """A migrated account may have no mobile yet (the distributor gives its manager's at the
    next login): nothing is sent, and the page says what it says to everyone."""
    column = account.model.manager_mobile if account.model is models.Distributor else account.model.mobile
    account.model.update({column: ""}).where(account.model.id == account.id).execute()
    before = models.SmsOutbox.select().count()
    response = client.post(
        account.prefix + "/password/reset", data={"username": account.username}, follow_redirects=True
    )
    assert response.status_code == 200 and "اگر این حساب" in response.get_data(as_text=True)
    assert models.SmsOutbox.select().count() == before
    assert models.PasswordReset.select().count() == 0
