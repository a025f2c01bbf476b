"""Every list the screens offer reads an index, and a list page costs a fixed number of
SQL statements whatever its page size (issue 9).

The statements are the real ones: each page is requested through the test client while
a peewee query hook records what it runs; then each statement that touches a large table
is explained (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with enable_seqscan off, so
that a tiny table does not make a sequential scan the cheapest plan). No timing here:
the figures are in bench/RESULTS.md. The checks are in plan_checks.py; the cooperation and
edit-request cartables' pages are in test_query_plans_queues.py.
"""

from __future__ import annotations

import re

import pytest

import models
from helpers import login
from models import db
from plan_checks import assert_indexed, build_world, record, staff_client, view_of


@pytest.fixture
def world(app, make_officer, make_staff):
    return build_world(make_officer, make_staff)


# ------------------------------------------------------------------ plans

# Each page of the qualification cartable (issue 23): its query string, the index its list
# statement must read for the directorate and for a reviewer, and whether that read may walk
# the index in the page's order from its first entry ("walk": the pages whose rows are nearly
# every row, where the walk stops after one page) rather than search a range of it.
QUALIFICATION_PAGES = {
    # (the directorate's on SQLite: the queue index without the drafts, migration 020)
    "all": ("?tab=all", ("qr_queue_submitted", "qr_queue"), ("qr_queue_university",), True),
    "needs my decision": ("?tab=mine", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "waiting for the applicant": ("?tab=applicant", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "overdue tab": ("?tab=overdue", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "decided": ("?tab=decided", ("qr_queue_submitted", "qr_queue"), ("qr_queue_university",), True),
    "state": ("?tab=all&flt0_0=submitted", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "city": ("?tab=all&flt0_1={city}", ("qr_queue_city",), ("qr_queue_city",), False),
    "field": ("?tab=all&flt0_2={field}", ("qr_queue_field",), ("qr_queue_field",), False),
    "degree": ("?tab=all&flt0_3={degree}", ("qr_queue_degree",), ("qr_queue_degree",), False),
    "submitted from": (
        "?tab=all&flt0_4=1390/01/01",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        False,
    ),
    "submitted until": (
        "?tab=all&flt0_5=1500/01/01",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        False,
    ),
    "assigned to me": ("?tab=all&flt0_6=1", ("qr_queue_reviewer",), ("qr_queue_reviewer",), False),
    "overdue": ("?tab=all&flt0_7=1", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "district": ("?tab=all&flt0_8=7", ("qr_queue_district",), ("qr_queue_university_district",), False),
    "deep page": ("?tab=all&page=1", ("qr_queue_submitted", "qr_queue"), ("qr_queue_university",), True),
    # (PostgreSQL walks the primary key, filtering by university: its indexes hold no id order)
    "sort by id": (
        "?tab=all&sort=0",
        ("PRIMARY KEY", "qualification_request_pkey"),
        ("qualification_request_university_id", "qualification_request_pkey"),
        True,
    ),
    "sort by state": (
        "?tab=all&sort=8",
        ("qr_queue_status", "qualification_request_status"),
        ("qr_queue_university_status",),
        True,
    ),
    "sort by submission, descending": (
        "?tab=all&sort=9&desc=1",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        True,
    ),
    "sort by days waiting": (
        "?tab=all&sort=10",
        ("qr_waiting_submitted", "qr_waiting_status"),
        ("qr_waiting_university",),
        True,
    ),
    "sort by due date": (
        "?tab=all&sort=11&desc=1",
        ("qr_queue", "qr_queue_submitted", "qualification_request_due_on"),
        ("qr_queue_university",),
        True,
    ),
}


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_qualification_cartable_reads_indexes(app, world, role):
    """Every tab, filter and sort: each statement reads an index, the list reads the one of
    its page, as a range unless the page is a walk, and no list sorts the rows it matched."""
    client = staff_client(app, world[role])
    officer = world["officers"][0]
    for label, (suffix, director, reviewer, walk) in QUALIFICATION_PAGES.items():
        suffix = suffix.format(city=world["city"].id, field=officer.field_of_study_id, degree=officer.degree_level_id)
        expected = director if role == "director" else reviewer
        assert_indexed(client, "/admin/qualification/" + suffix, "qualification_request", expected, walk=walk), label


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_search_by_national_code_reads_the_officer_index(app, world, role):
    client = staff_client(app, world[role])
    code = world["officers"][3].national_code
    for endpoint in ("qualification", "cooperation", "editrequest"):
        assert_indexed(
            client, f"/admin/{endpoint}/?search={code}", "officer", ("officer_national_code", "officer_user_code")
        )


def test_officer_pages_and_verification_read_indexes(app, world):
    officer = world["officers"][5]
    request_ = world["requests"][5]
    client = app.test_client()
    assert login(client, "/officer/login", officer.user_code).status_code == 302
    assert_indexed(client, "/officer/", "qualification_request")
    assert_indexed(client, "/officer/", "notice")
    assert_indexed(client, f"/officer/qualification/{request_.id}", "request_event")
    assert_indexed(client, f"/officer/qualification/{request_.id}", "document")
    public = app.test_client()
    assert_indexed(public, f"/verify?q={officer.national_code}", "officer", ("officer_national_code",))
    qualified = world["officers"][0]
    with db.connection_context():
        number = models.Officer.get_by_id(qualified.id).qualification_number
    assert_indexed(public, f"/verify?q={number}", "officer", ("officer_qualification_number",))


# ------------------------------------------------------------------ statements per page


@pytest.mark.parametrize("endpoint", ["qualification", "cooperation", "editrequest"])
def test_a_list_page_costs_three_statements_whatever_its_size(app, world, endpoint):
    """The session check (2), the page with its capped count (1) and one capped count per
    tab of the cartable (issue 20): no statement per row, no separate COUNT(*), no query per
    filter's options."""
    from backoffice.base import clear_options_cache

    view = view_of(app, endpoint)
    view.can_set_page_size, view.page_size_options = True, (25, 100)
    client = staff_client(app, world["director"])
    clear_options_cache()  # an entry left by an earlier test could expire in the middle of this one
    record(client, f"/admin/{endpoint}/")  # the filter options are read (once a minute), then cached
    counts = {size: len(record(client, f"/admin/{endpoint}/?page_size={size}")) for size in (25, 100)}
    budget = 3 + len(models.cartable.TABS)
    assert counts[25] == counts[100] <= budget, counts
    assert len(record(client, f"/admin/{endpoint}/?page=1&page_size=25")) <= budget


def test_the_count_is_capped_and_shown(app, world, monkeypatch):
    from backoffice import base

    monkeypatch.setattr(base, "COUNT_CAP", 10)
    client = staff_client(app, world["director"])
    html = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    assert "(10+)" in html
    monkeypatch.setattr(base, "COUNT_CAP", 10_000)
    html = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    with db.connection_context():  # the directorate's cartable leaves drafts out (issue 20)
        shown = models.QualificationRequest.select().where(models.QualificationRequest.status != "draft").count()
    assert 10 < shown < 30 and f"({shown})" in html


def test_deep_pages_and_searches_show_the_same_rows_as_a_plain_offset(app, world):
    """The deep-page rewrite (ids first, then the join) changes no row."""
    client = staff_client(app, world["director"])
    ids = []
    for page in range(3):
        html = client.get(f"/admin/qualification/?tab=all&page={page}&sort=0").get_data(as_text=True)
        ids += re.findall(r"review/\?id=(\d+)", html)
    with db.connection_context():
        # The directorate's cartable leaves drafts out (issue 20).
        expected = [
            str(r.id)
            for r in models.QualificationRequest.select()
            .where(models.QualificationRequest.status != "draft")
            .order_by(models.QualificationRequest.id)
        ]
    assert sorted(set(ids), key=int) == expected


def test_the_directorates_whole_list_skips_no_draft_on_sqlite(app, world):
    """SQLite sorts the undated first: the "all" tab reads the queue index without the drafts
    (migration 020) rather than walking past every draft at its start."""
    if not models.is_sqlite():
        pytest.skip("PostgreSQL sorts the undated last: its walk of qr_queue starts where the tab does")
    client = staff_client(app, world["director"])
    for suffix, index in (
        ("?tab=all", "qr_queue_submitted"),
        ("?tab=all&page=1", "qr_queue_submitted"),
        ("?tab=decided", "qr_queue_submitted"),
        ("?tab=all&sort=10", "qr_waiting_submitted"),
    ):
        assert_indexed(client, "/admin/qualification/" + suffix, "qualification_request", (index,), walk=True)


def test_postgres_knows_a_reviewers_requests_are_their_universitys(app):
    """The dependency statistics of migration 021, made by create_tables too (PostgreSQL)."""
    if models.is_sqlite():
        pytest.skip("SQLite has no extended statistics")
    with db.connection_context():
        kinds = db.execute_sql(
            "SELECT stxkind FROM pg_statistic_ext WHERE stxname = %s", ("qr_reviewer_university",)
        ).fetchall()
    assert kinds and "f" in kinds[0][0]  # f: functional dependencies
