"""One table of the officer's fields (models.officer_rules.OFFICER_FIELDS) drives the labels,
the forms and the pages: a field declared there is labelled, has a form field, and shows on
the profile and the review page."""

from __future__ import annotations

import models
from models.officer_rules import FIELD_POLICY, OFFICER_FIELDS, REVIEWED_FIELDS

NAMES = [spec.name for spec in OFFICER_FIELDS]


def test_every_field_has_a_label_a_form_field_and_a_policy(app):
    from backoffice.labels import COLUMN_LABELS
    from publicforms.forms import OFFICER_FORM_FIELDS, RegistrationForm
    from web.labels import FIELD_LABELS

    assert list(OFFICER_FORM_FIELDS) == NAMES
    assert set(FIELD_POLICY) == set(NAMES) and set(FIELD_LABELS) == set(NAMES)
    assert all(COLUMN_LABELS[name] is FIELD_LABELS[name] for name in NAMES)
    with app.test_request_context():
        form = RegistrationForm()
        # The form lists its fields (and the error summary its errors) in the pages' order.
        assert [field.name for field in form][: len(NAMES)] == NAMES


def test_the_profile_and_the_review_page_show_every_field(app, officer_client, make_staff, dbc):
    officer = officer_client.officer
    profile = officer_client.get("/officer/profile").get_data(as_text=True)
    assert all(f'data-field="{name}"' in profile for name in NAMES)
    assert "زن" in profile and officer.city.name in profile  # a choice's label, a place's name
    request = models.QualificationRequest.create(
        officer=officer, status="submitted", university=officer.city.university
    )
    staff = make_staff("university")
    reviewer = app.test_client()
    # make_staff gives every account the suite's one password.
    login = reviewer.post("/admin/login", data={"username": staff.username, "password": "Kh0sh-Amad-2024"})
    assert login.status_code == 302
    page = reviewer.get(f"/admin/qualification/review/?id={request.id}").get_data(as_text=True)
    shown = [name for name in NAMES if name not in ("first_name", "last_name")]
    assert all(f'data-field="{name}"' in page for name in shown)
    assert officer.full_name in page and "1370/05/21" in page
    assert set(REVIEWED_FIELDS) <= set(NAMES)
