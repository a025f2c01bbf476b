"""The parts of a cartable page drawn once (backoffice/fragments.py), the filters' data
written once (backoffice/encoded.py), the URLs built without the URL map
(backoffice/fast_urls.py) and the page statements compiled once (issue 23): each gives the
same page as drawing everything afresh, for every tab, filter, sort, search and page, for
the directorate and a reviewer, in Persian and English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import url_for

import models
from backoffice import fast_urls
from helpers import staff_client_for
from models import db

PAGES = (
    "",
    "?tab=all",
    "?tab=overdue",
    "?tab=decided",
    "?tab=all&flt0_0=submitted",
    "?tab=all&flt0_7=1",
    "?tab=all&flt0_4=1400/01/01",
    "?tab=all&sort=9&desc=1",
    "?tab=all&sort=10",
    "?tab=all&page=1&page_size=2",
    "?search={code}",
    "?search=%D8%B9%D9%84%DB%8C",
)


@pytest.fixture
def queue(app, make_officer, make_staff):
    director = make_staff(role="directorate", username="director")
    reviewer = make_staff(username="reviewer")
    officers = [make_officer() for _ in range(7)]
    now = models.utcnow()
    with db.connection_context():
        university = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
        for i, officer in enumerate(officers):
            status = ("submitted", "deficient", "approved", "submitted", "rejected", "draft", "submitted")[i]
            submitted = None if status == "draft" else now - dt.timedelta(days=10 - i)
            models.QualificationRequest.create(
                officer=officer,
                status=status,
                university=university if submitted else None,
                submitted_at=submitted,
                last_submitted_at=submitted,
                due_on=(now + dt.timedelta(days=i - 2)).date() if status == "submitted" else None,
            )
    return {"director": director, "reviewer": reviewer, "code": officers[0].national_code}


def stable(html: str) -> str:
    """A page without what is drawn anew at each request: the CSP nonce, the CSRF token."""
    html = re.sub(r'nonce="[^"]+"', 'nonce=""', html)
    return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]+"', 'name="csrf_token"', html)


def view_of(app, endpoint):
    return next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == endpoint)


@pytest.mark.parametrize("role", ["director", "reviewer"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_kept_parts_draw_the_page_drawn_afresh(app, queue, monkeypatch, role, lang):
    view_of(app, "qualification").can_set_page_size = True
    caches = [app.extensions[name] for name in ("fragments", "list_counts", "page_frames")]
    client = staff_client_for(app, queue[role])
    client.set_cookie("lang", lang)
    for cache in caches:
        cache.clear()  # once: each page's kept parts must not show on another page
    for page in PAGES:
        path = "/admin/qualification/" + page.format(code=queue["code"])
        for cache in caches:
            cache.seconds = 60.0
        first = client.get(path)
        kept = client.get(path)  # every part, count, statement and frame from the caches
        for cache in caches:
            cache.seconds = 0.0
        with monkeypatch.context() as patch:
            patch.setattr(view_of(app, "qualification"), "compile_pages", False)
            patch.setattr(fast_urls.FastUrlMixin, "get_url", lambda self, endpoint, **kw: url_for(endpoint, **kw))
            afresh = client.get(path)
        assert first.status_code == kept.status_code == afresh.status_code == 200, path
        assert stable(kept.get_data(as_text=True)) == stable(afresh.get_data(as_text=True)), path
        assert stable(first.get_data(as_text=True)) == stable(kept.get_data(as_text=True)), path


def test_each_role_gets_its_own_parts(app, queue):
    app.extensions["fragments"].seconds = 60.0
    director = staff_client_for(app, queue["director"])
    reviewer = staff_client_for(app, queue["reviewer"])
    for _round in range(2):
        mine = director.get("/admin/qualification/?tab=all").get_data(as_text=True)
        theirs = reviewer.get("/admin/qualification/?tab=all").get_data(as_text=True)
        # The directorate's table has a university column; a reviewer's does not.
        assert "col-university" in mine.split("</thead>")[0]
        assert "col-university" not in theirs.split("</thead>")[0]


def test_a_write_forgets_the_parts(app, queue):
    fragments = app.extensions["fragments"]
    fragments.seconds = 60.0
    client = staff_client_for(app, queue["director"])
    client.get("/admin/qualification/?tab=all")
    assert fragments._entries
    client.post("/admin/qualification/ajax/update/", data={})
    assert not fragments._entries


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"tab": "mine"},
        {"page": 3, "sort": 9, "desc": 1, "search": None, "page_size": 25},
        {"search": "علی رضا", "flt0_4": "1400/01/01", "tab": "all"},
        {"search": "a&b=c/d?e#f+g%h", "flt3_1": ["1", "2"]},
        {"id": 987654321987, "tab": "decided"},
    ],
)
def test_page_urls_are_werkzeugs(app, arguments):
    view = view_of(app, "qualification")
    with app.test_request_context("/admin/qualification/"):
        for endpoint in ("qualification.index_view", "qualification.review_view"):
            assert fast_urls.page_url(endpoint, arguments) == url_for(endpoint, **arguments)
        for endpoint in (".index_view", ".review_view"):
            short = endpoint.lstrip(".")
            assert view.get_url(endpoint, **arguments) == url_for(f"qualification.{short}", **arguments)
        assert fast_urls.static_url("admin.static", filename="admin/js/helpers.js", v="1.0.0") == url_for(
            "admin.static", filename="admin/js/helpers.js", v="1.0.0"
        )
