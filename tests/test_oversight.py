"""The service-level clock and the dashboard numbers, against hand-computed fixtures."""

import datetime as dt

import pytest
from freezegun import freeze_time

import models
from helpers import attach_all, staff_client_for
from models import dashboards, sla
from models import qualification as quals

# 1404/09/01 is Saturday 2025-11-22.
SAT = dt.date(2025, 11, 22)


@pytest.mark.parametrize(
    "start, days, holidays, expected",
    [
        (SAT, 1, set(), SAT + dt.timedelta(days=1)),  # Sunday
        (SAT, 5, set(), SAT + dt.timedelta(days=5)),  # Thursday
        (SAT, 6, set(), SAT + dt.timedelta(days=7)),  # skips Friday -> Saturday
        (SAT, 6, {SAT + dt.timedelta(days=7)}, SAT + dt.timedelta(days=8)),  # Saturday a holiday too
        (SAT + dt.timedelta(days=5), 1, set(), SAT + dt.timedelta(days=7)),  # Thursday + 1 = Saturday
        (SAT, 0, set(), SAT),
    ],
)
def test_add_working_days(start, days, holidays, expected):
    assert sla.add_working_days(start, days, holidays) == expected


@pytest.mark.parametrize(
    "start, end, holidays, expected",
    [
        (SAT, SAT, set(), 0),
        (SAT, SAT + dt.timedelta(days=7), set(), 6),
        (SAT, SAT + dt.timedelta(days=7), {SAT + dt.timedelta(days=2)}, 5),
        (SAT + dt.timedelta(days=5), SAT + dt.timedelta(days=6), set(), 0),  # Thursday -> Friday
    ],
)
def test_working_days_between(start, end, holidays, expected):
    assert sla.working_days_between(start, end, holidays) == expected


def test_clock_pauses_while_deficient_and_resumes(make_officer, make_staff, dbc):
    models.Setting.create(key="sla_working_days", value="10")
    models.Holiday.create(date=SAT + dt.timedelta(days=3), name="تعطیل رسمی")  # Tuesday
    officer = make_officer()
    reviewer = make_staff("university").as_actor()
    owner = officer.as_actor()
    with freeze_time(dt.datetime(2025, 11, 22, 8, 0)):  # Saturday
        request = quals.start_request(officer, owner)
        attach_all(request, owner, folder="ab")
        request.apply("submit", owner)
        # Sun, Mon, (Tue holiday), Wed, Thu, (Fri), Sat, Sun, Mon, Tue, Wed, Thu = 10.
        assert request.due_on == dt.date(2025, 12, 4)
    with freeze_time(dt.datetime(2025, 11, 26, 9, 0)):  # Wednesday: used Sun, Mon, Wed = 3
        request.apply("deficiency", reviewer, note="نقص")
        assert request.clock_used_days == 3 and request.due_on is None
    with freeze_time(dt.datetime(2025, 12, 13, 9, 0)):  # Saturday, weeks later: resumes with 7 left
        request.apply("resubmit", owner)
        assert request.due_on == dt.date(2025, 12, 21)
        assert sla.overdue(models.QualificationRequest).count() == 0
    with freeze_time(dt.datetime(2025, 12, 22, 9, 0)):
        assert [r.id for r in sla.overdue(models.QualificationRequest)] == [request.id]


def test_dashboard_numbers_match_hand_computed_values(app, make_officer, make_staff, dbc):
    reviewer = make_staff("university")
    actor = reviewer.as_actor()
    durations = [1, 2, 3, 4, 10]  # days from submission to decision
    for days in durations:
        officer = make_officer()
        with freeze_time(dt.datetime(2025, 11, 1, 8, 0)):
            request = quals.start_request(officer, officer.as_actor())
            attach_all(request, officer.as_actor(), folder="ab")
            request.apply("submit", officer.as_actor())
        with freeze_time(dt.datetime(2025, 11, 1, 8, 0) + dt.timedelta(days=days)):
            request.apply("reject" if days == 10 else "approve", actor, note="دلیل", reason="wrong_province")
    waiting = make_officer()
    request = quals.start_request(waiting, waiting.as_actor())
    attach_all(request, waiting.as_actor(), folder="ab")
    request.apply("submit", waiting.as_actor())

    rows = dashboards.decision_time_percentiles(models.QualificationRequest)
    assert rows == [("دانشگاه علوم پزشکی تهران", 5, 3.0, 10.0)]
    states = dict(((u, s), n) for u, s, n in dashboards.counts_by_state_and_university(models.QualificationRequest))
    assert states[("دانشگاه علوم پزشکی تهران", "approved")] == 4
    assert states[("دانشگاه علوم پزشکی تهران", "rejected")] == 1
    assert states[("دانشگاه علوم پزشکی تهران", "submitted")] == 1
    assert dashboards.reasons_used() == [("wrong_province", 1)]
    assert [r.id for r in dashboards.longest_waiting(models.QualificationRequest)] == [request.id]
    director = staff_client_for(app, make_staff("directorate"))
    page = director.get("/admin/").get_data(as_text=True)
    assert 'data-median="3.0"' in page and 'data-p90="10.0"' in page
    assert 'id="decisions-chart"' in page


def test_reviewer_dashboard_is_limited_to_their_university(app, make_officer, make_staff, dbc):
    isfahan_officer = make_officer(city="اصفهان")
    request = quals.start_request(isfahan_officer, isfahan_officer.as_actor())
    attach_all(request, isfahan_officer.as_actor(), folder="ab")
    request.apply("submit", isfahan_officer.as_actor())
    tehran = staff_client_for(app, make_staff("university"))
    page = tehran.get("/admin/").get_data(as_text=True)
    assert "دانشگاه علوم پزشکی اصفهان" not in page
    isfahan = staff_client_for(app, make_staff("university", "دانشگاه علوم پزشکی اصفهان"))
    assert "دانشگاه علوم پزشکی اصفهان" in isfahan.get("/admin/").get_data(as_text=True)
