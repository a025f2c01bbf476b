"""Public verification, a branch's page, and the certificate: nothing beyond what is listed."""

import pytest

import models
from models import cooperation as coops


@pytest.fixture
def serving_officer(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True, email="secret@example.com")
    distributor = models.create_distributor("d1", "Kh0sh-Amad-2024", "شرکت نمونه", "company", "09120000009")
    city = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه شمال", city.province, city, "تهران، خیابان شمالی، پلاک ۱", district="17"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", make_staff("university").as_actor())
    return models.Officer.get_by_id(officer.id), branch


PRIVATE_FIELDS = (
    "mobile",
    "email",
    "address",
    "postal_code",
    "national_code",
    "birth_date",
    "father_name",
    "id_card_number",
    "user_code",
)


def test_by_qualification_number(client, serving_officer):
    officer, branch = serving_officer
    html = client.get("/verify", query_string={"q": officer.qualification_number}).get_data(as_text=True)
    assert 'id="verify-result"' in html and 'data-status="approved"' in html
    assert officer.full_name in html and officer.field_of_study.name in html and branch.name in html
    for name in PRIVATE_FIELDS:
        value = str(getattr(officer, name))
        assert value not in html.replace(officer.qualification_number, ""), name


def test_by_national_code_answers_only_qualified_or_not(client, serving_officer, make_officer):
    officer, branch = serving_officer
    persian = officer.national_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    html = client.get("/verify", query_string={"q": persian}).get_data(as_text=True)
    assert 'data-status="approved"' in html
    assert officer.full_name not in html and branch.name not in html and officer.field_of_study.name not in html
    unqualified = make_officer()
    html = client.get("/verify", query_string={"q": unqualified.national_code}).get_data(as_text=True)
    assert 'data-status="rejected"' in html and unqualified.full_name not in html


def test_unknown_number_is_not_valid(client, dbc):
    html = client.get("/verify", query_string={"q": "1405-999999"}).get_data(as_text=True)
    assert 'data-status="rejected"' in html


def test_verification_is_rate_limited(app, dbc):
    from app import create_app

    limited = create_app(dict(app.config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://"))
    client = limited.test_client()
    statuses = [client.get("/verify", query_string={"q": "x"}).status_code for _ in range(35)]
    assert statuses[0] == 200 and statuses[-1] == 429


def test_branch_page_shows_its_current_officer(client, serving_officer):
    officer, branch = serving_officer
    html = client.get(f"/branch/{branch.public_token}").get_data(as_text=True)
    assert officer.full_name in html and 'data-status="active"' in html and "<svg" in html
    assert officer.national_code not in html and officer.mobile not in html


def test_certificate(app, serving_officer):
    officer, _branch = serving_officer
    client = app.test_client()
    client.post("/officer/login", data={"username": officer.user_code, "password": "Kh0sh-Amad-2024"})
    html = client.get("/officer/certificate").get_data(as_text=True)
    assert officer.qualification_number in html and "<svg" in html
    assert f"/verify?q={officer.qualification_number}" in html


def test_unqualified_officer_has_no_certificate(officer_client):
    assert officer_client.get("/officer/certificate").status_code == 302
