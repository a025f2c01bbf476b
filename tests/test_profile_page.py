"""The profile form shows the reviewed fields until the first approval, not after it."""


def test_profile_edit_page_renders_for_an_unqualified_officer(officer_client):
    html = officer_client.get("/officer/profile/edit").get_data(as_text=True)
    assert 'name="first_name"' in html and 'name="mobile"' in html


def test_profile_edit_page_hides_reviewed_fields_after_approval(app, make_officer):
    from helpers import login

    officer = make_officer(qualified=True)
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    html = client.get("/officer/profile/edit").get_data(as_text=True)
    assert 'name="first_name"' not in html and 'name="mobile"' in html
