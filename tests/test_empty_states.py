"""Empty lists say what to do next (with the action where there is one) instead of
drawing an empty table; the distributor has a menu that marks the current page."""

import models
from helpers import PASSWORD, login


def distributor_client(app):
    with models.db.connection_context():
        models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا")
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh").status_code == 302
    return client


def test_an_empty_distributor_dashboard_offers_to_define_a_branch(app):
    client = distributor_client(app)
    html = client.get("/distributor/").get_data(as_text=True)
    assert "<table" not in html
    branches = html[html.index('data-empty="branches"') :]
    assert 'href="/distributor/branches/new"' in branches[: branches.index("</div>")]
    assert 'data-empty="requests"' in html
    # The menu: three items, the dashboard marked as the current page.
    assert 'href="/distributor/" aria-current="page"' in html
    assert 'href="/distributor/branches/new"' in html and 'href="/distributor/password"' in html


def test_with_a_branch_and_no_request_the_dashboard_offers_to_name_an_officer(app):
    client = distributor_client(app)
    with models.db.connection_context():
        isfahan = models.City.get(models.City.name == "اصفهان")
    response = client.post(
        "/distributor/branches/new",
        data={
            "name": "شعبه مرکزی",
            "province": isfahan.province_id,
            "city": isfahan.id,
            "address": "اصفهان، خیابان چهارباغ، پلاک ۱۲",
        },
    )
    assert response.status_code == 302
    html = client.get("/distributor/").get_data(as_text=True)
    assert 'data-empty="branches"' not in html and "<table" in html
    requests = html[html.index('data-empty="requests"') :]
    with models.db.connection_context():
        branch = models.Branch.get()
    assert f'href="/distributor/branches/{branch.id}/nominate"' in requests[: requests.index("</div>")]
    assert 'aria-current="page">تعریف شعبه' in client.get("/distributor/branches/new").get_data(as_text=True)


def test_the_officers_empty_lists_say_so_without_a_table(officer_client):
    for path, marker in (
        ("/officer/cooperation/", 'data-empty="archive"'),
        ("/officer/termination/", 'data-empty="terminations"'),
        ("/officer/edit-requests/", 'data-empty="requests"'),
    ):
        html = officer_client.get(path).get_data(as_text=True)
        assert marker in html and "<table" not in html, path
