"""The cooperation and edit-request cartables are index-served like the qualification one
(issue 23): each tab, filter, sort and deep page, for the directorate and for a university's
reviewer, reads a range of the index of its own order and stops after its page; a walk of a
whole index only where the page is a walk of the whole ordered list, and no list sorts every
row it matched (the checks: plan_checks.py). The tab counts are held to "no full scan".
"""

from __future__ import annotations

import pytest

from plan_checks import assert_indexed, build_world, staff_client


@pytest.fixture
def world(app, make_officer, make_staff):
    return build_world(make_officer, make_staff)


# label: (query string, the directorate's index, a reviewer's index, whether the read may walk).
# A university's waiting cooperations may be read through the partial co_waiting_university
# (PostgreSQL does: models/cooperation.py says why).
COOPERATION_PAGES = {
    "needs my decision": (
        "?tab=mine",
        ("co_queue_status",),
        ("co_queue_university_status", "co_waiting_university"),
        False,
    ),
    "waiting for the applicant": ("?tab=applicant", ("co_queue_status",), ("co_queue_university_status",), False),
    "overdue tab": (
        "?tab=overdue",
        ("co_queue_status",),
        ("co_queue_university_status", "co_waiting_university"),
        False,
    ),
    "decided": ("?tab=decided", ("co_queue",), ("co_queue_university",), True),
    "all": ("?tab=all", ("co_queue",), ("co_queue_university",), True),
    "state": ("?tab=all&flt0_0=ended", ("co_queue_status",), ("co_queue_university_status",), False),
    "university": ("?tab=all&flt0_1={university}", ("co_queue_university",), ("co_queue_university",), True),
    "assigned to me": ("?tab=all&flt0_2=1", ("co_queue_reviewer",), ("co_queue_reviewer",), False),
    "overdue": (
        "?tab=all&flt0_3=1",
        ("co_queue_status",),
        ("co_queue_university_status", "co_waiting_university"),
        False,
    ),
    "deep page": ("?tab=all&page=1", ("co_queue",), ("co_queue_university",), True),
    "deep page of my decisions": (
        "?tab=mine&page=1",
        ("co_queue_status",),
        ("co_queue_university_status", "co_waiting_university"),
        False,
    ),
    # (PostgreSQL walks the primary key, filtering by university: its indexes hold no id order)
    "sort by id": (
        "?tab=all&sort=0",
        ("PRIMARY KEY", "cooperation_pkey"),
        ("cooperation_university_id", "cooperation_pkey"),
        True,
    ),
    # (a sort by state alone: any index led by the state serves it, migration 002's as well)
    "sort by state": (
        "?tab=all&sort=7",
        ("co_queue_status", "cooperation_status_last_submitted_at"),
        ("co_queue_university_status", "cooperation_university_id_status_last_submitted_at"),
        True,
    ),
    "sort by start": ("?tab=all&sort=8", ("cooperation_started_at",), ("co_started_university",), True),
    "sort by end, descending": ("?tab=all&sort=9&desc=1", ("cooperation_ended_at",), ("co_ended_university",), True),
    "sort by days waiting": (
        "?tab=all&sort=10",
        ("cooperation_last_submitted_at",),
        ("cooperation_university_id_last_submitted_at_status",),
        True,
    ),
    "sort by due date": ("?tab=all&sort=11&desc=1", ("co_queue", "cooperation_due_on"), ("co_queue_university",), True),
}

EDIT_REQUEST_PAGES = {
    "needs my decision": ("?tab=mine", ("er_queue_status",), ("er_queue_university_status",), False),
    "waiting for the applicant": ("?tab=applicant", ("er_queue_status",), ("er_queue_university_status",), False),
    "overdue tab": ("?tab=overdue", ("er_queue_status",), ("er_queue_university_status",), False),
    "decided": ("?tab=decided", ("er_queue",), ("er_queue_university",), True),
    "all": ("?tab=all", ("er_queue",), ("er_queue_university",), True),
    "state": ("?tab=all&flt0_0=submitted", ("er_queue_status",), ("er_queue_university_status",), False),
    "assigned to me": ("?tab=all&flt0_1=1", ("er_queue_reviewer",), ("er_queue_reviewer",), False),
    "overdue": ("?tab=all&flt0_2=1", ("er_queue_status",), ("er_queue_university_status",), False),
    "deep page": ("?tab=all&page=1", ("er_queue",), ("er_queue_university",), True),
    "deep page of my decisions": ("?tab=mine&page=1", ("er_queue_status",), ("er_queue_university_status",), False),
    "sort by id": (
        "?tab=all&sort=0",
        ("PRIMARY KEY", "edit_request_pkey"),
        ("edit_request_university_id", "edit_request_pkey"),
        True,
    ),
    "sort by state": (
        "?tab=all&sort=4",
        ("er_queue_status", "edit_request_status_last_submitted_at"),
        ("er_queue_university_status", "edit_request_university_id_status_last_submitted_at"),
        True,
    ),
    "sort by submission, descending": (
        "?tab=all&sort=5&desc=1",
        ("edit_request_submitted_at",),
        ("er_submitted_university",),
        True,
    ),
    "sort by days waiting": (
        "?tab=all&sort=7",
        ("edit_request_last_submitted_at",),
        ("edit_request_university_id_last_submitted_at",),
        True,
    ),
    "sort by due date": ("?tab=all&sort=8&desc=1", ("er_queue", "edit_request_due_on"), ("er_queue_university",), True),
}

CARTABLES = {
    "cooperation": ("cooperation", COOPERATION_PAGES),
    "editrequest": ("edit_request", EDIT_REQUEST_PAGES),
}


@pytest.mark.parametrize("role", ["director", "reviewer"])
@pytest.mark.parametrize("endpoint", sorted(CARTABLES))
def test_cartable_reads_queue_indexes(app, world, endpoint, role):
    """Every tab, filter and sort: each statement reads an index, the list reads the one of
    its page, as a range unless the page is a walk, and no list sorts the rows it matched.
    Every page is checked; the failures are reported together."""
    table, pages = CARTABLES[endpoint]
    client = staff_client(app, world[role])
    failed = {}
    for label, (suffix, director, reviewer, walk) in pages.items():
        expected = director if role == "director" else reviewer
        path = f"/admin/{endpoint}/" + suffix.format(university=world["university"].id)
        try:
            assert_indexed(client, path, table, expected, walk=walk)
        except AssertionError as error:
            failed[label] = str(error).splitlines()[0]
    assert not failed, "\n".join(f"{label}: {problem}" for label, problem in failed.items())


def test_every_tab_filter_and_sort_is_listed():
    """The tables cover every tab, filter and sortable column of the two views."""
    from backoffice.requests import CooperationView, EditRequestView
    from models.cartable import TAB_CODES

    for view, pages in ((CooperationView, COOPERATION_PAGES), (EditRequestView, EDIT_REQUEST_PAGES)):
        suffixes = [suffix for suffix, *_ in pages.values()]
        for tab in TAB_CODES:
            assert any(f"tab={tab}" in s for s in suffixes), (view, tab)
        for number in range(len(view.column_filters)):
            assert any(f"flt0_{number}=" in s for s in suffixes), (view, number)
        sortable = [c if isinstance(c, str) else c[0] for c in view.column_sortable_list]
        for column in sortable:
            assert any(f"sort={view.column_list.index(column)}" in s for s in suffixes), (view, column)
