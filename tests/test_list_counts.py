"""The cartables' counts kept a few seconds per process (issue 23, backoffice/list_counts.py):
the rows of a page are always read afresh; the list's and the tabs' counts come from the
cache while fresh, for the same staff member, list, filters and day only; a write this
process handles forgets them at once; another process's write shows when they expire."""

from __future__ import annotations

import re

import pytest

from helpers import attach_all, staff_client_for
from models import QualificationRequest, db
from models import qualification as quals
from web import kept as kept_module
from web.kept import KeptValues

TEHRAN = "دانشگاه علوم پزشکی تهران"


@pytest.fixture
def kept(app):
    """The counts kept a minute (the suite's other tests count on every page)."""
    cache = app.extensions["list_counts"]
    cache.seconds = 60.0
    cache.clear()
    return cache


@pytest.fixture
def waiting(app, make_officer, make_staff):
    """Three requests waiting on Tehran's university, one approved; a reviewer, the directorate."""
    reviewer = make_staff("university", TEHRAN)
    director = make_staff("directorate")
    with db.connection_context():
        ids = []
        for _ in range(4):
            officer = make_officer()
            request = quals.start_request(officer, officer.as_actor())
            attach_all(request, officer.as_actor(), folder="lc")
            ids.append(request.apply("submit", officer.as_actor()).id)
        QualificationRequest.get_by_id(ids[3]).apply("approve", reviewer.as_actor())
    return {"reviewer": reviewer, "director": director, "ids": ids}


def tab_count(html: str, tab: str) -> int:
    return int(re.search(rf'data-tab="{tab}".*?data-count="(\d+)"', html, re.S).group(1))


def list_count(html: str) -> int:
    return int(re.search(r'class="nav-link active">[^<(]*\((\d+)\)</a>', html).group(1))


def rows(html: str) -> set[int]:
    return {int(found) for found in re.findall(r'class="cartable-row" data-id="(\d+)"', html)}


def statements_of(client, path: str) -> tuple[list[str], str]:
    seen = []
    db.obj.query_hooks.append(seen.append)
    try:
        html = client.get(path).get_data(as_text=True)
    finally:
        db.obj.query_hooks.remove(seen.append)
    return [event.sql for event in seen], html


def counts(statements) -> list[str]:
    return [sql for sql in statements if "COUNT(" in sql.upper()]


def test_a_second_page_reads_no_count(app, kept, waiting):
    client = staff_client_for(app, waiting["reviewer"])
    first, html = statements_of(client, "/admin/qualification/?tab=mine")
    # Each tab's count, and the list's own inside the page's statement.
    assert len(counts(first)) == 6, first
    again, same = statements_of(client, "/admin/qualification/?tab=mine")
    assert counts(again) == [], again
    assert rows(same) == rows(html) == set(waiting["ids"][:3])
    assert tab_count(same, "mine") == 3 and list_count(same) == 3 and tab_count(same, "decided") == 1


def test_the_rows_are_always_fresh_the_counts_follow_when_they_expire(app, kept, waiting, monkeypatch):
    client = staff_client_for(app, waiting["reviewer"])
    client.get("/admin/qualification/?tab=mine")
    # Another process (another worker, another host) decides a request.
    with db.connection_context():
        # (as a decision does: the clock stops, the due date goes)
        QualificationRequest.update(status="rejected", due_on=None).where(
            QualificationRequest.id == waiting["ids"][0]
        ).execute()
    html = client.get("/admin/qualification/?tab=mine").get_data(as_text=True)
    assert rows(html) == set(waiting["ids"][1:3])  # the rows: at once
    assert tab_count(html, "mine") == 3  # the counts: kept, for at most the lifetime
    later = kept_module.time.monotonic() + 61
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: later)
    html = client.get("/admin/qualification/?tab=mine").get_data(as_text=True)
    assert tab_count(html, "mine") == 2 and list_count(html) == 2 and tab_count(html, "decided") == 2


def test_a_write_in_this_process_forgets_every_count(app, kept, waiting):
    client = staff_client_for(app, waiting["reviewer"])
    html = client.get("/admin/qualification/?tab=mine").get_data(as_text=True)
    assert tab_count(html, "mine") == 3
    target = waiting["ids"][0]
    response = client.post(f"/admin/qualification/review/?id={target}&tab=mine", data={"decision": "approve"})
    assert response.status_code == 302
    with db.connection_context():
        assert QualificationRequest.get_by_id(target).status == "approved"
    html = client.get("/admin/qualification/?tab=mine").get_data(as_text=True)
    assert tab_count(html, "mine") == 2 and list_count(html) == 2 and tab_count(html, "decided") == 2


def test_each_person_list_and_filter_has_its_own_count(app, kept, waiting, make_officer):
    """The directorate sees every university: a count kept for one reviewer is never shown
    to it, nor a whole list's count on a filtered list, nor the other way round."""
    with db.connection_context():
        officer = make_officer(city="اصفهان")
        request = quals.start_request(officer, officer.as_actor())
        attach_all(request, officer.as_actor(), folder="lc2")
        request.apply("submit", officer.as_actor())
    reviewer = staff_client_for(app, waiting["reviewer"])
    director = staff_client_for(app, waiting["director"])
    for _round in range(2):
        assert tab_count(reviewer.get("/admin/qualification/?tab=all").get_data(as_text=True), "mine") == 3
        page = director.get("/admin/qualification/?tab=all").get_data(as_text=True)
        assert tab_count(page, "mine") == 4 and list_count(page) == 5
        filtered = director.get("/admin/qualification/?tab=all&flt0_0=approved").get_data(as_text=True)
        assert list_count(filtered) == 1 and rows(filtered) == {waiting["ids"][3]}
        assert list_count(director.get("/admin/qualification/?tab=decided").get_data(as_text=True)) == 1


def test_counting_on_every_page_when_the_lifetime_is_zero(app, waiting):
    assert app.extensions["list_counts"].seconds == 0
    client = staff_client_for(app, waiting["reviewer"])
    for _round in range(2):
        statements, _html = statements_of(client, "/admin/qualification/?tab=mine")
        assert len(counts(statements)) == 6


def test_the_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(kept_module, "MAX_ENTRIES", 10)
    cache = KeptValues(60)
    for key in range(25):
        assert cache.get(key, lambda key=key: key * 2) == key * 2
    assert len(cache._entries) <= 10
    assert cache.get(24, lambda: "recounted") == 48  # the newest entry survived
