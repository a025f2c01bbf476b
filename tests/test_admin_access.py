"""Every back-office URL refuses anonymous users and the wrong role."""

import re

import models
from helpers import login, staff_client_for

DIRECTORATE_ONLY = (
    "officer",
    "staff",
    "message",
    "sms",
    "audit",
    "province",
    "city",
    "university",
    "field",
    "degree",
    "documentkind",
    "distributor",
    "branch",
    "setting",
    "holiday",
)
SHARED = ("qualification", "cooperation", "editrequest")


def admin_urls(app):
    """Every GET-able /admin rule with placeholder arguments filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "csv" if m.group(1) == "export_type" else "1", rule.rule)
        urls.append((rule.endpoint, url))
    return urls


def test_anonymous_users_are_sent_to_the_login_page_everywhere(app):
    client = app.test_client()
    checked = 0
    for endpoint, url in admin_urls(app):
        if endpoint in ("admin.login_view", "admin.static") or endpoint.endswith(".static"):
            continue
        response = client.get(url + ("?id=1" if "?" not in url else ""))
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "/admin/login" in response.headers["Location"], url
        checked += 1
    assert checked > 40


def test_officers_cannot_reach_the_back_office(app, officer_client):
    for endpoint, url in admin_urls(app):
        if endpoint in ("admin.login_view",) or endpoint.endswith("static"):
            continue
        response = officer_client.get(url)
        assert response.status_code in (302, 403), (url, response.status_code)


def test_reviewers_reach_only_the_cartables(app, make_staff):
    reviewer = staff_client_for(app, make_staff("university"))
    assert reviewer.get("/admin/").status_code == 200
    for endpoint, url in admin_urls(app):
        view = endpoint.split(".")[0]
        if endpoint.endswith("static") or endpoint.startswith("admin."):
            continue
        response = reviewer.get(url)
        if view in DIRECTORATE_ONLY:
            assert response.status_code == 403, (url, response.status_code)
        elif view in SHARED and endpoint.endswith("index_view"):
            assert response.status_code == 200, url


def test_directorate_reaches_every_list(app, make_staff):
    director = staff_client_for(app, make_staff("directorate"))
    for endpoint, url in admin_urls(app):
        if endpoint.endswith(".index_view"):
            response = director.get(url)
            assert response.status_code == 200, (url, response.status_code)


def test_no_admin_view_deletes(app, make_staff, make_officer, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    officer = make_officer()
    for endpoint, url in admin_urls(app):
        if endpoint.endswith(".index_view") and endpoint != "admin.index":
            base = url.rstrip("/")
            response = director.post(base + "/delete/", data={"id": str(officer.id)})
            assert response.status_code in (302, 404, 405), (url, response.status_code)
    assert models.Officer.get_or_none(models.Officer.id == officer.id) is not None


def test_disabled_staff_is_logged_out(app, make_staff, dbc):
    staff = make_staff("directorate")
    client = staff_client_for(app, staff)
    models.StaffUser.update(is_active=False).where(models.StaffUser.id == staff.id).execute()
    assert client.get("/admin/officer/").status_code == 302


def test_staff_login_with_wrong_password_fails_generically(app, make_staff):
    staff = make_staff("directorate")
    response = login(app.test_client(), "/admin/login", staff.username, "Wrong-pass-99")
    assert response.status_code == 422
    assert "نام کاربری یا گذرواژه درست نیست" in response.get_data(as_text=True)


def test_directorate_filters_officers_by_status_and_searches_by_national_code(app, make_staff, make_officer, dbc):
    qualified, pending = make_officer(qualified=True), make_officer()
    director = staff_client_for(app, make_staff("directorate"))
    listing = director.get("/admin/officer/").get_data(as_text=True)
    assert qualified.national_code in listing and pending.national_code in listing
    only_qualified = director.get("/admin/officer/", query_string={"search": qualified.national_code})
    body = only_qualified.get_data(as_text=True)
    assert qualified.national_code in body and pending.national_code not in body
    # The status filter (the fifth filter) keeps only qualified officers.
    body = director.get("/admin/officer/?flt0_4=1").get_data(as_text=True)
    assert qualified.national_code in body and pending.national_code not in body
