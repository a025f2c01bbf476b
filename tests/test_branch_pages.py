"""The distributor's pages for changing a branch, closing it, and the manager's mobile."""

import pytest

import models
from helpers import PASSWORD, csrf_token_from, login, sms_code_to

MANAGER = "09121110000"


@pytest.fixture
def distributor_client(app, dbc):
    distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", MANAGER)
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh").status_code == 302
    client.distributor = distributor
    return client


@pytest.fixture
def branch(distributor_client):
    tehran = models.City.get(models.City.name == "تهران")
    return models.cooperation.create_branch(
        distributor_client.distributor.as_actor(),
        "شعبه ونک",
        tehran.province,
        tehran,
        "تهران، میدان ونک، پلاک ۵",
        district="17",
    )


def edit_form(branch, **changes):
    data = {
        "name": branch.name,
        "province": str(branch.province_id),
        "city": str(branch.city_id),
        "district": "" if branch.district is None else str(branch.district),
        "address": branch.address,
    }
    return dict(data, **changes)


def test_the_dashboard_offers_change_and_close(distributor_client, branch):
    page = distributor_client.get("/distributor/").get_data(as_text=True)
    assert f"/distributor/branches/{branch.id}/edit" in page
    assert f"/distributor/branches/{branch.id}/close" in page
    assert "/distributor/manager-mobile" in page


def test_the_edit_page_shows_the_branch_as_it_is(distributor_client, branch):
    page = distributor_client.get(f"/distributor/branches/{branch.id}/edit").get_data(as_text=True)
    assert 'value="شعبه ونک"' in page and "میدان ونک" in page
    assert 'selected value="17"' in page and f'selected value="{branch.city_id}"' in page


EDITS = [
    # (changes, status, stored name, stored district, the message shown)
    ({"name": "شعبه ونک شمالی"}, 303, "شعبه ونک شمالی", 17, None),
    ({"district": "۲"}, 303, "شعبه ونک", 2, None),
    ({"district": ""}, 422, "شعبه ونک", 17, "منطقه"),
    ({"address": "کوتاه"}, 422, "شعبه ونک", 17, "نشانی"),
]


@pytest.mark.parametrize(("changes", "status", "name", "district", "message"), EDITS)
def test_editing_through_the_page(distributor_client, branch, changes, status, name, district, message):
    response = distributor_client.post(f"/distributor/branches/{branch.id}/edit", data=edit_form(branch, **changes))
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    stored = models.Branch.get_by_id(branch.id)
    assert (stored.name, stored.district) == (name, district)
    if message:
        assert message in response.get_data(as_text=True)


def test_another_distributors_branch_is_not_found(app, distributor_client, branch, dbc):
    models.create_distributor("other", PASSWORD, "شرکت دیگر", "company", "09121110001")
    other = app.test_client()
    assert login(other, "/distributor/login", "other").status_code == 302
    for path in ("edit", "close"):
        assert other.get(f"/distributor/branches/{branch.id}/{path}").status_code == 404
    assert other.post(f"/distributor/branches/{branch.id}/close", data={"reason": "بسته شد"}).status_code == 404
    assert (
        other.post(f"/distributor/branches/{branch.id}/edit", data=edit_form(branch, name="تغییر")).status_code == 404
    )
    assert models.Branch.get_by_id(branch.id).is_active and models.Branch.get_by_id(branch.id).name == "شعبه ونک"


def test_closing_through_the_page(distributor_client, branch, make_officer, dbc):
    officer = make_officer(qualified=True)
    models.cooperation.nominate(branch, distributor_client.distributor.as_actor(), officer.national_code)
    page = distributor_client.get(f"/distributor/branches/{branch.id}/close").get_data(as_text=True)
    assert 'data-closes="pending_officer"' in page
    refused = distributor_client.post(f"/distributor/branches/{branch.id}/close", data={"reason": ""})
    assert refused.status_code == 422 and models.Branch.get_by_id(branch.id).is_active
    assert "بسته" in refused.get_data(as_text=True)  # the Persian message: why is it closed
    done = distributor_client.post(f"/distributor/branches/{branch.id}/close", data={"reason": "پایان اجاره مغازه"})
    assert done.status_code == 303
    assert not models.Branch.get_by_id(branch.id).is_active
    assert models.Cooperation.get().status == "withdrawn"
    dashboard = distributor_client.get("/distributor/").get_data(as_text=True)
    assert 'data-closed="1"' in dashboard and f"/distributor/branches/{branch.id}/edit" not in dashboard
    # A closed branch's pages send back to the dashboard; its public page is gone.
    for path in ("edit", "close", "nominate"):
        assert distributor_client.get(f"/distributor/branches/{branch.id}/{path}").status_code == 302
    assert distributor_client.get(f"/branch/{branch.public_token}").status_code == 404


def test_the_forms_need_the_csrf_token(app, branch, dbc):
    from app import create_app

    guarded = create_app(dict(app.config, WTF_CSRF_ENABLED=True))
    client = guarded.test_client()
    page = client.get("/distributor/login").get_data(as_text=True)
    client.post(
        "/distributor/login", data={"username": "pakhsh", "password": PASSWORD, "csrf_token": csrf_token_from(page)}
    )
    assert client.post(f"/distributor/branches/{branch.id}/close", data={"reason": "پایان اجاره"}).status_code == 400
    assert client.post("/distributor/manager-mobile", data={"mobile": "09130000009"}).status_code == 400
    assert models.Branch.get_by_id(branch.id).is_active
    page = client.get(f"/distributor/branches/{branch.id}/close").get_data(as_text=True)
    data = {"reason": "پایان اجاره", "csrf_token": csrf_token_from(page)}
    assert client.post(f"/distributor/branches/{branch.id}/close", data=data).status_code == 303
    assert not models.Branch.get_by_id(branch.id).is_active


def test_the_managers_mobile_changes_after_the_code(distributor_client, dbc):
    wrong_password = distributor_client.post(
        "/distributor/manager-mobile", data={"mobile": "09130000009", "current_password": "nope"}
    )
    assert wrong_password.status_code == 422
    response = distributor_client.post(
        "/distributor/manager-mobile", data={"mobile": "۰۹۱۳۰۰۰۰۰۰۹", "current_password": PASSWORD}
    )
    assert response.status_code == 303
    confirm = response.headers["Location"]
    assert models.Distributor.get(models.Distributor.username == "pakhsh").manager_mobile == MANAGER
    page = distributor_client.get(confirm).get_data(as_text=True)
    assert 'name="code"' in page
    code = sms_code_to("09130000009")
    wrong = distributor_client.post(confirm, data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.get_data(as_text=True)
    assert distributor_client.post(confirm, data={"code": code}).status_code == 303
    assert models.Distributor.get(models.Distributor.username == "pakhsh").manager_mobile == "09130000009"
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == MANAGER).exists()
    # The attempt is spent: its page sends back to step one.
    assert distributor_client.get(confirm).status_code == 302
