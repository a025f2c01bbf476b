"""A filtered list and a filtered export never come back unfiltered when many threads of
one worker draw the cartable at once (issue 23).

Flask-Admin used to rebuild the view's filter tables (``_filters``, ``_filter_args``,
``_filter_groups``) on every list page, which a gthread worker's other threads read while
they parse their own ``?flt…``: a filter missing at that moment was silently dropped. The
test runs real threads against the real app with the filter options' cache lifetime at
zero (so every page reads them from the database, giving the threads room to interleave)
and a tiny interpreter switch interval, and checks every response.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import threading

import pytest

import models
from helpers import staff_client_for
from models import db

THREADS = 6
ROUNDS = 12


@pytest.fixture
def queue(app, make_officer, make_staff):
    """Three overdue requests among eleven others (drafts, decided, waiting but not late)."""
    director = make_staff(role="directorate", username="director")
    officers = [make_officer() for _ in range(14)]
    now = models.utcnow()
    with db.connection_context():
        university = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
        overdue = set()
        for i, officer in enumerate(officers):
            status = ("submitted", "approved", "rejected", "deficient", "draft", "submitted", "submitted")[i % 7]
            late = status == "submitted" and i < 7
            submitted = None if status == "draft" else now - dt.timedelta(days=i + 1)
            row = models.QualificationRequest.create(
                officer=officer,
                status=status,
                university=university if submitted else None,
                submitted_at=submitted,
                last_submitted_at=submitted,
                due_on=(now - dt.timedelta(days=3) if late else now + dt.timedelta(days=9)).date()
                if status == "submitted"
                else None,
            )
            if late:
                overdue.add(row.id)
    assert len(overdue) == 3
    return {"director": director, "overdue": overdue}


@pytest.fixture
def crowded(app, monkeypatch):
    """Filter options read from the database on every page, the lists' counts, drawn
    parts and page frames kept a millisecond (so that threads keep replacing them),
    threads switched often."""
    from backoffice import base

    monkeypatch.setattr(base, "FILTER_OPTIONS_TTL", 0.0)
    for kept in ("list_counts", "fragments", "page_frames"):
        monkeypatch.setattr(app.extensions[kept], "seconds", 0.001)
    base.clear_options_cache()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def listed_ids(response) -> set[int]:
    html = response.get_data(as_text=True)
    return {int(found) for found in re.findall(r'class="cartable-row" data-id="(\d+)"', html)}


def listed_count(response) -> int | None:
    """The list's count, as Flask-Admin writes it after "List" (``nav-link active``)."""
    found = re.search(r'class="nav-link active">[^<(]*\((\d+)\)</a>', response.get_data(as_text=True))
    return int(found.group(1)) if found else None


def exported_ids(response) -> set[int]:
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return {int(row[0]) for row in rows[1:]}


def run_threads(app, staff, work):
    """``work(client, round)`` in THREADS threads, ROUNDS times each; the failures seen."""
    clients = [staff_client_for(app, staff) for _ in range(THREADS)]
    failures, start = [], threading.Barrier(THREADS)

    def worker(client):
        start.wait()
        for n in range(ROUNDS):
            try:
                problem = work(client, n)
            except Exception as error:  # noqa: BLE001 - a crash in a thread is a failure too
                problem = repr(error)
            if problem:
                failures.append(problem)

    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return failures


def test_a_filtered_list_never_comes_back_unfiltered(app, queue, crowded):
    overdue = queue["overdue"]

    def work(client, n):
        # Half the threads ask for the overdue filter, half for the whole list: a page without
        # a filter refreshes the filters' data too.
        if n % 2:
            response = client.get("/admin/qualification/?tab=all")
            return None if response.status_code == 200 else f"whole list: {response.status_code}"
        response = client.get("/admin/qualification/?tab=all&flt0_7=1")
        if response.status_code != 200:
            return f"filtered list: {response.status_code}"
        found = listed_ids(response)
        if found != overdue:
            return f"filtered list showed {sorted(found)}, not {sorted(overdue)}"
        # ... and counted as filtered: a count kept for the whole list must not show here.
        counted = listed_count(response)
        return None if counted == len(overdue) else f"filtered list counted {counted}, not {len(overdue)}"

    failures = run_threads(app, queue["director"], work)
    assert not failures, f"{len(failures)} of {THREADS * ROUNDS} pages were wrong: {failures[:5]}"


def test_a_filtered_export_never_comes_back_unfiltered(app, queue, crowded):
    overdue = queue["overdue"]

    def work(client, n):
        if n % 2:
            response = client.get("/admin/qualification/?tab=all")
            return None if response.status_code == 200 else f"whole list: {response.status_code}"
        response = client.get("/admin/qualification/export/csv/?tab=all&flt0_7=1")
        if response.status_code != 200:
            return f"export: {response.status_code}"
        found = exported_ids(response)
        return None if found == overdue else f"export held {sorted(found)}, not {sorted(overdue)}"

    failures = run_threads(app, queue["director"], work)
    assert not failures, f"{len(failures)} of {THREADS * ROUNDS} exports were wrong: {failures[:5]}"


def test_the_filter_tables_are_built_once(app, queue):
    """The parsing tables a thread reads are the ones the view was registered with."""
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "qualification")
    before = (view._filters, view._filter_args)
    client = staff_client_for(app, queue["director"])
    for path in ("/admin/qualification/?tab=all", "/admin/qualification/?tab=all&flt0_7=1"):
        assert client.get(path).status_code == 200
    assert (view._filters, view._filter_args) == before
    assert view._filters is before[0] and view._filter_args is before[1]
