"""The time-based rules (models/time_rules.py), the clock driven by freezegun: nominations
expire, overdue requests are escalated, deficiencies are reminded, branches without an
officer are chased; each rule run twice does nothing the second time. And the settings
they read: bounded, Tehran's working days, the weekend as a setting."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

import models
from helpers import MANAGER_MOBILE, attach_all, nominate_someone
from models import DomainError, sla, tick, time_rules
from models import cooperation as coops
from models import qualification as quals

SAT = dt.datetime(2025, 11, 22, 8, 0)  # Saturday 1404/09/01, 11:30 in Tehran


def sms_to(mobile):
    return [row.text for row in models.SmsOutbox.select().where(models.SmsOutbox.to == mobile)]


def officer_subjects(officer_id):
    return [n.subject for n in models.Notice.select().where(models.Notice.officer == officer_id)]


# ------------------------------------------------------------------ expiry


def test_an_unanswered_nomination_expires_after_the_setting_with_notices_to_both_sides(make_officer, dbc):
    with freeze_time(SAT):
        cooperation = nominate_someone(make_officer)
    models.SmsOutbox.delete().execute()
    with freeze_time(SAT + dt.timedelta(days=13, hours=23)):
        assert coops.expire_nominations(models.utcnow()) == 0
    with freeze_time(SAT + dt.timedelta(days=14)):
        assert coops.expire_nominations(models.utcnow()) == 1
        assert coops.expire_nominations(models.utcnow()) == 0  # idempotent
    cooperation = models.Cooperation.get_by_id(cooperation.id)
    assert cooperation.status == "expired" and cooperation.decided_at is not None
    assert [e.action for e in cooperation.history()] == ["nominate", "expire"]
    assert officer_subjects(cooperation.officer_id)[-1] == models.translate("A cooperation request expired")
    [text] = sms_to(MANAGER_MOBILE)
    assert "14" in text and cooperation.branch.name in text
    # The branch is free again: another officer may be named at once.
    branch = cooperation.branch
    other = make_officer(qualified=True)
    assert coops.nominate(branch, branch.distributor.as_actor(), other.national_code).status == "pending_officer"


def test_the_expiry_follows_the_setting_and_spares_answered_nominations(make_officer, dbc):
    models.Setting.create(key="nomination_expiry_days", value="۳")
    with freeze_time(SAT):
        waiting = nominate_someone(make_officer)
        answered = nominate_someone(make_officer)
        answered.apply("officer_approve", answered.officer.as_actor())
    with freeze_time(SAT + dt.timedelta(days=3)):
        assert coops.expire_nominations(models.utcnow()) == 1
    assert models.Cooperation.get_by_id(waiting.id).status == "expired"
    assert models.Cooperation.get_by_id(answered.id).status == "pending_university"


def test_a_withdrawn_nomination_frees_the_branch_and_tells_the_officer(make_officer, dbc):
    cooperation = nominate_someone(make_officer)
    distributor = cooperation.distributor.as_actor()
    coops.withdraw(cooperation, distributor)
    assert models.Cooperation.get_by_id(cooperation.id).status == "withdrawn"
    assert officer_subjects(cooperation.officer_id)[-1] == models.translate("A cooperation request was withdrawn")
    assert coops.branch_open_request(cooperation.branch) is None
    with pytest.raises(models.ConflictError):
        coops.withdraw(models.Cooperation.get_by_id(cooperation.id), distributor)


# ------------------------------------------------------------------ escalation


def submitted_on(moment, make_officer):
    officer = make_officer()
    with freeze_time(moment):
        request = quals.start_request(officer, officer.as_actor())
        attach_all(request, officer.as_actor())
        request.apply("submit", officer.as_actor())
    return request


def test_overdue_requests_go_to_the_reviewers_then_to_the_directorate_once(make_officer, make_staff, dbc):
    models.Setting.create(key="sla_working_days", value="3")
    models.Setting.create(key="escalation_working_days", value="2")
    make_staff("university")
    make_staff("directorate")
    request = submitted_on(SAT, make_officer)
    assert request.due_on == dt.date(2025, 11, 25)  # Sun, Mon, Tue
    with freeze_time(dt.datetime(2025, 11, 24, 12, 0)):  # Monday: not due yet
        assert time_rules.escalate_overdue(models.utcnow()) == 0
    with freeze_time(dt.datetime(2025, 11, 25, 6, 0)):  # Tuesday, the due date: the university
        assert time_rules.escalate_overdue(models.utcnow()) == 1
        assert time_rules.escalate_overdue(models.utcnow()) == 0
        assert list(time_rules.escalated(models.QualificationRequest)) == []
    # Wed, Thu are the two working days past; (Fri off): escalated on Thursday.
    with freeze_time(dt.datetime(2025, 11, 26, 12, 0)):
        assert time_rules.escalate_overdue(models.utcnow()) == 0
    with freeze_time(dt.datetime(2025, 11, 27, 6, 0)):
        assert time_rules.escalate_overdue(models.utcnow()) == 1
        assert time_rules.escalate_overdue(models.utcnow()) == 0
        assert [r.id for r in time_rules.escalated(models.QualificationRequest)] == [request.id]
    notices = [
        (n.university_id is None, n.subject) for n in models.StaffNotice.select().order_by(models.StaffNotice.id)
    ]
    assert notices == [
        (False, models.translate("A request is due today")),
        (True, models.translate("An overdue request was escalated")),
    ]
    assert [e.action for e in request.history()][-1] == "escalate"


def test_a_decided_request_is_neither_escalated_nor_listed(make_officer, make_staff, dbc):
    models.Setting.create(key="sla_working_days", value="1")
    request = submitted_on(SAT, make_officer)
    request.apply("approve", make_staff("university").as_actor())
    with freeze_time(SAT + dt.timedelta(days=20)):
        assert time_rules.escalate_overdue(models.utcnow()) == 0
        assert list(time_rules.escalated(models.QualificationRequest)) == []


def test_the_escalation_list_and_counts_on_the_dashboard(app, make_officer, make_staff, dbc):
    from helpers import staff_client_for

    models.Setting.create(key="sla_working_days", value="1")
    request = submitted_on(SAT - dt.timedelta(days=40), make_officer)
    director = staff_client_for(app, make_staff("directorate"))
    page = director.get("/admin/").get_data(as_text=True)
    assert 'data-escalated-count="1"' in page and 'data-overdue-count="1"' in page
    listing = director.get("/admin/qualification/escalated/").get_data(as_text=True)
    assert f'data-id="{request.id}"' in listing
    other = staff_client_for(app, make_staff("university", "دانشگاه علوم پزشکی شیراز"))
    assert f'data-id="{request.id}"' not in other.get("/admin/qualification/escalated/").get_data(as_text=True)


# ------------------------------------------------------------------ deficiency reminders


def test_a_deficient_request_is_reminded_at_7_and_14_days_once_each(make_officer, make_staff, dbc):
    reviewer = make_staff("university").as_actor()
    request = submitted_on(SAT, make_officer)
    with freeze_time(SAT + dt.timedelta(hours=1)):
        request.apply("deficiency", reviewer, note="عکس واضح نیست")
    mobile = request.officer.mobile
    models.SmsOutbox.delete().execute()
    for days, expected in ((6, 0), (7, 1), (8, 1), (14, 2), (30, 2)):
        with freeze_time(SAT + dt.timedelta(days=days, hours=2)):
            time_rules.remind_deficient(models.utcnow())
        assert len(sms_to(mobile)) == expected, days


def test_a_tick_that_missed_the_7th_day_sends_only_the_14_day_reminder(make_officer, make_staff, dbc):
    request = submitted_on(SAT, make_officer)
    with freeze_time(SAT + dt.timedelta(hours=1)):
        request.apply("deficiency", make_staff("university").as_actor(), note="نقص")
    models.SmsOutbox.delete().execute()
    with freeze_time(SAT + dt.timedelta(days=15)):
        assert time_rules.remind_deficient(models.utcnow()) == 1
        assert time_rules.remind_deficient(models.utcnow()) == 0
    assert len(sms_to(request.officer.mobile)) == 1


# ------------------------------------------------------------------ branches without an officer


def active_branch(make_officer, make_staff):
    cooperation = nominate_someone(make_officer)
    cooperation.apply("officer_approve", cooperation.officer.as_actor())
    cooperation.apply("approve", make_staff("university").as_actor())
    return cooperation


def test_a_branch_that_loses_its_officer_is_chased_then_non_compliant(make_officer, make_staff, dbc):
    models.Setting.create(key="branch_grace_days", value="10")
    make_staff("directorate")
    with freeze_time(SAT):
        cooperation = active_branch(make_officer, make_staff)
        coops.release(cooperation.branch, cooperation.distributor.as_actor())
    models.SmsOutbox.delete().execute()
    with freeze_time(SAT + dt.timedelta(days=1)):
        [vacancy] = time_rules.vacancies(models.utcnow())
        assert vacancy.branch.id == cooperation.branch_id and vacancy.days_left == 9 and vacancy.lost_officer
        assert time_rules.chase_vacancies(models.utcnow()) == 1
        assert time_rules.chase_vacancies(models.utcnow()) == 0
    assert len(sms_to(MANAGER_MOBILE)) == 1
    assert models.StaffNotice.select().where(models.StaffNotice.university.is_null(False)).count() == 1
    with freeze_time(SAT + dt.timedelta(days=11)):
        [vacancy] = time_rules.vacancies(models.utcnow())
        assert vacancy.non_compliant
        assert time_rules.chase_vacancies(models.utcnow()) == 1
        assert time_rules.chase_vacancies(models.utcnow()) == 0
    assert len(sms_to(MANAGER_MOBILE)) == 2
    assert models.StaffNotice.select().where(models.StaffNotice.university.is_null()).count() == 1


def test_a_branch_with_an_officer_again_is_no_vacancy(make_officer, make_staff, dbc):
    with freeze_time(SAT):
        cooperation = active_branch(make_officer, make_staff)
        coops.release(cooperation.branch, cooperation.distributor.as_actor())
        other = make_officer(qualified=True)
        again = coops.nominate(cooperation.branch, cooperation.distributor.as_actor(), other.national_code)
        again.apply("officer_approve", other.as_actor())
        again.apply("approve", make_staff("university").as_actor())
    assert time_rules.vacancies(SAT + dt.timedelta(days=3)) == []


def test_the_dashboards_show_the_vacancy_countdown(app, client, make_officer, make_staff, dbc):
    from helpers import login, staff_client_for

    models.Setting.create(key="branch_grace_days", value="30")
    cooperation = active_branch(make_officer, make_staff)
    coops.release(cooperation.branch, cooperation.distributor.as_actor())
    login(client, "/distributor/login", "pakhsh")
    page = client.get("/distributor/").get_data(as_text=True)
    assert 'data-vacancy="grace" data-days-left="30"' in page
    director = staff_client_for(app, make_staff("directorate")).get("/admin/").get_data(as_text=True)
    assert 'data-vacancy-count="1"' in director and 'data-days-left="30"' in director
    shiraz = staff_client_for(app, make_staff("university", "دانشگاه علوم پزشکی شیراز")).get("/admin/")
    assert 'data-vacancy-count="0"' in shiraz.get_data(as_text=True)


# ------------------------------------------------------------------ settings and working days


def test_a_huge_working_day_target_is_read_within_bounds(make_officer, dbc):
    """Finding I2: sla_working_days = 5000000 made every submission a 500 (OverflowError)."""
    models.Setting.create(key="sla_working_days", value="5000000")
    request = submitted_on(SAT, make_officer)
    assert request.status == "submitted"
    assert request.due_on == sla.add_working_days(SAT.date(), 60)


@pytest.mark.parametrize(
    "key, value, stored",
    [
        ("sla_working_days", "۱۲", "12"),
        ("nomination_expiry_days", "14", "14"),
        ("branch_grace_days", "180", "180"),
        ("weekend_days", "Thursday ، friday", "thursday, friday"),
    ],
)
def test_settings_are_normalised(key, value, stored):
    assert sla.validate_setting(key, value) == stored


@pytest.mark.parametrize(
    "key, value",
    [
        ("sla_working_days", "5000000"),
        ("sla_working_days", "0"),
        ("nomination_expiry_days", "abc"),
        ("weekend_days", "jomeh"),
        ("weekend_days", "monday,tuesday,wednesday,thursday,friday,saturday,sunday"),
        ("unknown_key", "1"),
    ],
)
def test_settings_out_of_bounds_are_refused(key, value):
    with pytest.raises(DomainError):
        sla.validate_setting(key, value)


def test_the_back_office_refuses_a_setting_out_of_bounds(app, make_staff, dbc):
    from helpers import staff_client_for

    director = staff_client_for(app, make_staff("directorate"))
    response = director.post("/admin/setting/new/", data={"key": "sla_working_days", "value": "5000000"})
    assert models.Setting.select().count() == 0, response.status_code
    assert "60" in response.get_data(as_text=True)
    director.post("/admin/setting/new/", data={"key": "sla_working_days", "value": "۱۲"})
    assert models.Setting.get().value == "12"


def test_the_weekend_is_a_setting(make_officer, dbc):
    models.Setting.create(key="sla_working_days", value="5")
    models.Setting.create(key="weekend_days", value="thursday, friday")
    request = submitted_on(SAT, make_officer)
    # Sun, Mon, Tue, Wed, (Thu, Fri off), Sat.
    assert request.due_on == dt.date(2025, 11, 29)


def test_working_days_are_counted_in_tehran(make_officer, dbc):
    """Friday 21:00 UTC is Saturday 00:30 in Tehran: the clock starts on Saturday."""
    models.Setting.create(key="sla_working_days", value="1")
    request = submitted_on(dt.datetime(2025, 11, 21, 21, 0), make_officer)
    assert request.due_on == dt.date(2025, 11, 23)  # Saturday + 1 working day = Sunday


def test_working_days_before_walks_back_over_the_weekend(dbc):
    friday = dt.date(2025, 11, 28)
    assert time_rules.working_days_before(friday, 1) == dt.date(2025, 11, 26)  # Thu counted, cutoff Wed
    assert time_rules.working_days_before(dt.date(2025, 11, 23), 1) == dt.date(2025, 11, 22)
    assert time_rules.working_days_before(friday, 0) == friday


def test_the_tick_command_runs_the_due_jobs(app, make_officer, dbc):
    with freeze_time(models.utcnow() - dt.timedelta(days=20)):
        cooperation = nominate_someone(make_officer)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "expire_nominations=1" in result.output
    assert models.Cooperation.get_by_id(cooperation.id).status == "expired"
    assert "nothing due" in app.test_cli_runner().invoke(args=["tick"]).output
    assert set(tick.job_lags()) >= {"expire_nominations"}
