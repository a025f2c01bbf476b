"""The district on the officer's pages (issue 19): the select on the registration form, its
rule (required in Tehran, empty elsewhere), the question put to the first release's Tehran
officers at login, and the Persian order of the form's lists."""

from __future__ import annotations

import re

import pytest

import models
import persian
from helpers import PASSWORD, city_named, login, register_through_the_form, registration_data, staff_client_for
from models import Officer, QualificationRequest


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', html, re.S)
    assert match, name
    return match.group(0)


def _options(select_html: str) -> list[tuple[str, str]]:
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_html)


def test_the_registration_form_offers_tehran_s_22_districts(client, dbc):
    html = client.get("/officer/register").get_data(as_text=True)
    district = _select(html, "district")
    options = _options(district)
    assert options[0][0] == ""
    assert options[1:] == [(str(n), f"منطقه {persian.to_persian_digits(n)}") for n in range(1, 23)]
    # The script shows it for Tehran alone; without the script it is there for everyone.
    assert f'data-split-cities="{city_named("تهران").id}"' in district
    assert 'data-city-select="city"' in district


def test_the_form_s_lists_are_in_persian_order(client, dbc):
    html = client.get("/officer/register").get_data(as_text=True)
    provinces = [label for value, label in _options(_select(html, "province")) if value]
    assert provinces == sorted(provinces, key=persian.sort_key)
    assert provinces.index("کرمان") < provinces.index("همدان") and provinces[-1] == "یزد"
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', _select(html, "city"), re.S)
    assert [label for label, _ in groups] == provinces
    for label, body in groups:
        cities = [name for _, name in _options(body)]
        assert cities == sorted(cities, key=persian.sort_key), label
    fields = [label for value, label in _options(_select(html, "field_of_study")) if value]
    assert fields == sorted(fields, key=persian.sort_key)


@pytest.mark.parametrize("district, university", [("5", "iran"), ("۱۲", "shahid-beheshti"), ("17", "tehran")])
def test_a_tehran_registration_is_routed_by_its_district(client, dbc, district, university):
    response = register_through_the_form(client, district=district)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    officer = Officer.get(Officer.national_code == "0499370899")
    assert officer.district == int(persian.to_ascii_digits(district))
    assert officer.reviewing_university().code == university


@pytest.mark.parametrize("district", ["", "23", "0"])
def test_a_tehran_registration_without_a_known_district_is_refused(client, dbc, district):
    response = client.post("/officer/register", data=registration_data(district=district))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    tag = _select(html, "district")
    assert 'aria-invalid="true"' in tag
    assert not Officer.select().exists()


def test_elsewhere_the_district_stays_empty(client, dbc):
    shiraz = city_named("شیراز")
    refused = client.post(
        "/officer/register", data=registration_data(province=str(shiraz.province_id), city=str(shiraz.id), district="3")
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in _select(refused.get_data(as_text=True), "district")
    accepted = register_through_the_form(client, province=str(shiraz.province_id), city=str(shiraz.id), district="")
    assert accepted.status_code == 303
    officer = Officer.get(Officer.national_code == "0499370899")
    assert officer.district is None and officer.reviewing_university().code == "shiraz"


def _first_release_tehran_officer(make_officer):
    """A Tehran officer registered before districts existed, with a request under review."""
    officer = make_officer()
    Officer.update(district=None).where(Officer.id == officer.id).execute()
    request_ = QualificationRequest.create(
        officer=officer,
        status="submitted",
        submitted_at=models.utcnow(),
        last_submitted_at=models.utcnow(),
        university=city_named("تهران").university_id,
    )
    return Officer.get_by_id(officer.id), request_


def test_a_tehran_officer_without_a_district_is_asked_at_login(app, make_officer, dbc):
    officer, request_ = _first_release_tehran_officer(make_officer)
    client = app.test_client()
    response = login(client, "/officer/login", officer.user_code, PASSWORD)
    assert response.status_code == 302
    dashboard = client.get("/officer/")
    assert dashboard.status_code == 302 and "/officer/district" in dashboard.headers["Location"]
    page = client.get(dashboard.headers["Location"])
    assert page.status_code == 200
    assert [value for value, _ in _options(_select(page.get_data(as_text=True), "district")) if value] == [
        str(n) for n in range(1, 23)
    ]
    refused = client.post("/officer/district", data={"district": "40"})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    saved = client.post("/officer/district", data={"district": "5", "next": "/officer/"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/officer/")
    again = Officer.get_by_id(officer.id)
    assert again.district == 5 and again.reviewing_university().code == "iran"
    # The request already under review stays where it was.
    assert QualificationRequest.get_by_id(request_.id).university.code == "tehran"
    assert client.get("/officer/").status_code == 200


def test_officers_elsewhere_or_with_a_district_are_not_asked(app, make_officer, dbc):
    for officer in (make_officer(), make_officer(city="اصفهان")):
        client = app.test_client()
        login(client, "/officer/login", officer.user_code, PASSWORD)
        assert client.get("/officer/").status_code == 200
        assert client.get("/officer/district").status_code == 302


def test_back_office_lists_sort_names_in_persian_order(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    html = director.get("/admin/province/?sort=1").get_data(as_text=True)  # by name
    shown = [
        name
        for name in re.findall(r"<td[^>]*>\s*([^<]+?)\s*</td>", html)
        if name in {p.name for p in models.Province.select()}
    ]
    assert shown == sorted(shown, key=persian.sort_key) and len(shown) >= 10
    # In code-point order «چهارمحال و بختیاری» would come after «همدان», off the first page.
    assert "چهارمحال و بختیاری" in shown


def test_the_directorate_restricts_a_field_to_some_degrees_in_the_back_office(app, make_staff, dbc):
    """The field form's matrix: the degrees chosen are the only ones the field is accepted at,
    everywhere the switches are checked; choosing none lifts the restriction."""
    director = staff_client_for(app, make_staff("directorate"))
    field = models.FieldOfStudy.get(models.FieldOfStudy.code == "biomedical-engineering")
    bachelor = models.DegreeLevel.get(models.DegreeLevel.code == "bachelor")
    master = models.DegreeLevel.get(models.DegreeLevel.code == "master")
    form = {"code": field.code, "name": field.name, "name_en": field.name_en, "eligible": "y"}
    try:
        response = director.post(f"/admin/field/edit/?id={field.id}", data=dict(form, allowed_degrees=[str(master.id)]))
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert [d.code for d in models.allowed_degrees(field)] == ["master"]
        with pytest.raises(models.DomainError) as refused:
            models.check_study(field, bachelor)
        assert refused.value.code == "degree_not_allowed_for_field"
        models.check_study(field, master)
        listed = director.get("/admin/field/", query_string={"search": field.name}).get_data(as_text=True)
        row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(field.code)}(?:(?!</tr>).)*</tr>", listed, re.S)
        assert row and master.name in row.group(0) and bachelor.name not in row.group(0).replace(master.name, "")
        shown = director.get(f"/admin/field/edit/?id={field.id}").get_data(as_text=True)
        assert re.search(
            rf'<option[^>]*selected[^>]*value="{master.id}"|<option[^>]*value="{master.id}"[^>]*selected', shown
        )
        assert models.AuditLog.select().where(models.AuditLog.action == "field_degrees_changed").exists()
    finally:
        response = director.post(f"/admin/field/edit/?id={field.id}", data=form)
    assert response.status_code == 302 and models.allowed_degrees(field) == []
    models.check_study(field, bachelor)
