"""The cartable's lean list (issue 23, backoffice/lean_list.py) draws exactly the rows
Flask-Admin's own cells would: the same page is drawn both ways (the lean path, then the
view with its ``lean_fields`` taken away) and the table bodies must be the same, in every
tab, filter, sort and search, for the directorate and a reviewer, in Persian and English.
And the lean page's statement reads the shown columns only, never a password hash."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import models
from helpers import staff_client_for
from models import db


@pytest.fixture
def desk(app, make_officer, make_staff):
    """Requests in every state: overdue, resubmitted, a Tehran district, one without a city."""
    director = make_staff(role="directorate", username="director")
    reviewer = make_staff(username="reviewer")
    officers = [make_officer(district="17") for _ in range(9)]
    now = models.utcnow()
    with db.connection_context():
        university = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
        city = models.City.get_by_id(officers[0].city_id)
        rows = (
            ("submitted", -3, 0, 17),  # overdue
            ("submitted", 6, 1.5, None),  # resubmitted after a deficiency (no tie with another row)
            ("submitted", 9, 0, 7),
            ("deficient", None, 0, None),
            ("approved", None, 0, 17),
            ("rejected", None, 0, None),
            ("cancelled", None, 0, None),
            ("draft", None, 0, None),
            ("submitted", 1, 0, None),
        )
        for i, (officer, (status, due_in, resubmitted_days, district)) in enumerate(zip(officers, rows, strict=True)):
            submitted = None if status == "draft" else now - dt.timedelta(days=20 - i)
            models.QualificationRequest.create(
                officer=officer,
                status=status,
                university=university if submitted else None,
                reviewer=reviewer.id if status in ("deficient", "approved") else None,
                submitted_at=submitted,
                last_submitted_at=submitted + dt.timedelta(days=resubmitted_days) if submitted else None,
                due_on=(now + dt.timedelta(days=due_in)).date() if due_in is not None else None,
                decided_at=now if status in ("approved", "rejected") else None,
                city=city if submitted and i != 8 else None,
                district=district,
                field_of_study=officer.field_of_study_id if submitted else None,
                degree_level=officer.degree_level_id if submitted else None,
            )
    return {"director": director, "reviewer": reviewer, "code": officers[2].national_code, "city": city.id}


def view_of(app, endpoint):
    return next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == endpoint)


def table_body(html: str) -> str:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.sub(r"\s+", " ", body).strip()


PAGES = (
    "?tab=all",
    "?tab=mine",
    "?tab=overdue",
    "?tab=applicant",
    "?tab=decided",
    "?tab=all&flt0_0=submitted",
    "?tab=all&flt0_1={city}",
    "?tab=all&flt0_7=1",
    "?tab=all&flt0_8=17",
    "?tab=all&sort=0&desc=1",
    "?tab=all&sort=10",
    "?search={code}",
    "?tab=all&page=1&page_size=3",
)


@pytest.mark.parametrize("role", ["director", "reviewer"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_lean_rows_are_flask_admins_rows(app, desk, monkeypatch, role, lang):
    view = view_of(app, "qualification")
    view.can_set_page_size = True
    client = staff_client_for(app, desk[role])
    client.set_cookie("lang", lang)
    shown = 0
    for page in PAGES:
        path = "/admin/qualification/" + page.format(city=desk["city"], code=desk["code"])
        lean = client.get(path)
        assert lean.status_code == 200, path
        with monkeypatch.context() as patch:
            patch.setattr(view, "lean_fields", {})
            stock = client.get(path)
        assert stock.status_code == 200, path
        assert table_body(lean.get_data(as_text=True)) == table_body(stock.get_data(as_text=True)), path
        shown += table_body(lean.get_data(as_text=True)).count('class="cartable-row"')
    assert shown > 20  # the pages were not all empty


def test_the_lean_page_reads_the_shown_columns_only(app, desk):
    client = staff_client_for(app, desk["director"])
    statements = []
    db.obj.query_hooks.append(statements.append)
    try:
        html = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    finally:
        db.obj.query_hooks.remove(statements.append)
    page = [
        e.sql for e in statements if e.sql.startswith('SELECT "t1"."id"') and 'FROM "qualification_request"' in e.sql
    ]
    assert len(page) == 1, [event.sql for event in statements]
    selected = page[0].split(" FROM ", 1)[0]
    assert "password_hash" not in selected and '"t2"."mobile"' not in selected
    assert selected.count('"t1".') + selected.count('"t2".') <= 14
    assert html.count('class="cartable-row"') == 8  # every request but the draft


def test_the_menu_is_each_roles_own(app, desk):
    """The menu is drawn once per view, role and language: each role still gets its own."""
    director = staff_client_for(app, desk["director"])
    reviewer = staff_client_for(app, desk["reviewer"])
    for _round in range(2):
        mine = director.get("/admin/qualification/?tab=all").get_data(as_text=True)
        theirs = reviewer.get("/admin/qualification/?tab=all").get_data(as_text=True)
        assert 'href="/admin/staff/"' in mine and 'href="/admin/staff/"' not in theirs
    reviewer.set_cookie("lang", "en")
    english = reviewer.get("/admin/qualification/?tab=all").get_data(as_text=True)
    assert "Qualification requests" in english.split("</nav>", 1)[0]
    assert app.extensions["admin_menu_cache"]
