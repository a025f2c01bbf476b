"""Iran's official holidays loaded from the `holidays` package, read by the SLA and the
escalation (issue 15, "Working days that match Iran")."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

import models
from helpers import nominate_someone
from models import DomainError, sla, time_rules
from models.official_holidays import (
    SOURCE,
    current_jalali_year,
    jalali_year_range,
    load_official_holidays,
    official_holidays,
)

NOWRUZ = dt.date(2026, 3, 21)  # 1 Farvardin 1405


def holidays_of(year):
    first, last = jalali_year_range(year)
    return {h.date: h for h in models.Holiday.select().where(models.Holiday.date.between(first, last))}


def test_the_jalali_year_runs_from_nowruz_to_the_end_of_esfand():
    assert jalali_year_range(1405) == (NOWRUZ, dt.date(2027, 3, 20))
    assert current_jalali_year(dt.date(2026, 3, 20)) == 1404
    assert current_jalali_year(NOWRUZ) == 1405


def test_a_year_is_loaded_with_persian_names(dbc):
    result = load_official_holidays(1405)
    stored = holidays_of(1405)
    assert result.added == len(stored) >= 20
    for day in (
        NOWRUZ,
        NOWRUZ + dt.timedelta(days=1),
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 2),
    ):  # Nowruz, 12-13 Farvardin
        assert day in stored and stored[day].source == SOURCE
    assert "نوروز" in stored[NOWRUZ].name
    assert "طبیعت" in stored[dt.date(2026, 4, 2)].name  # Sizdah Bedar
    first, last = jalali_year_range(1405)
    assert all(first <= day <= last for day in stored)


def test_loading_again_changes_nothing(dbc):
    first = load_official_holidays(1405)
    again = load_official_holidays(1405)
    assert (again.added, again.renamed, again.removed) == (0, 0, 0)
    assert len(holidays_of(1405)) == first.added


def test_holidays_entered_by_hand_stay(dbc):
    models.Holiday.create(date=NOWRUZ, name="تعطیل دستی نوروز")  # a date the package names too
    models.Holiday.create(date=dt.date(2026, 5, 5), name="تعطیلی به‌دلیل آلودگی هوا")
    result = load_official_holidays(1405)
    assert result.kept_by_hand == 2
    stored = holidays_of(1405)
    assert stored[NOWRUZ].name == "تعطیل دستی نوروز" and stored[NOWRUZ].source == ""
    assert stored[dt.date(2026, 5, 5)].name == "تعطیلی به‌دلیل آلودگی هوا"
    assert len(stored) == len(official_holidays(1405)) + 1


def test_a_loaded_holiday_the_package_no_longer_lists_is_removed_and_a_renamed_one_renamed(dbc):
    load_official_holidays(1405)
    models.Holiday.create(date=dt.date(2026, 5, 6), name="برآورد قدیمی", source=SOURCE)
    models.Holiday.update(name="نام کهنه").where(models.Holiday.date == NOWRUZ).execute()
    result = load_official_holidays(1405)
    assert (result.added, result.renamed, result.removed) == (0, 1, 1)
    assert dt.date(2026, 5, 6) not in holidays_of(1405)
    assert "نوروز" in holidays_of(1405)[NOWRUZ].name


@pytest.mark.parametrize("year", [1200, 1357, 1501, 99999])
def test_a_year_out_of_reach_is_refused(dbc, year):
    with pytest.raises(DomainError) as refused:
        load_official_holidays(year)
    assert refused.value.field == "year"
    assert models.Holiday.select().count() == 0


def test_the_sla_skips_the_loaded_holidays(make_officer, dbc):
    """A nomination the officer accepts on Wednesday 27 Esfand 1404 (18 March 2026): with
    the Nowruz holidays loaded its 10 working days end 18 days later than without them."""
    models.Setting.create(key="sla_working_days", value="10")
    with freeze_time(dt.datetime(2026, 3, 18, 8, 0)):
        without = nominate_someone(make_officer)
        without.apply("officer_approve", models.Officer.get_by_id(without.officer_id).as_actor())
        load_official_holidays(1404)
        load_official_holidays(1405)
        distributor = models.Distributor.get(models.Distributor.username == "pakhsh")
        with_holidays = nominate_someone(make_officer, distributor=distributor)
        with_holidays.apply("officer_approve", models.Officer.get_by_id(with_holidays.officer_id).as_actor())
    holidays = sla.holidays_between(dt.date(2026, 3, 18), dt.date(2026, 5, 1))
    assert without.due_on == sla.add_working_days(dt.date(2026, 3, 18), 10, holidays=set())
    assert with_holidays.due_on == sla.add_working_days(dt.date(2026, 3, 18), 10, holidays=holidays)
    assert with_holidays.due_on > without.due_on
    days = (with_holidays.due_on - dt.date(2026, 3, 18)).days
    off = [d for d in (dt.date(2026, 3, 18) + dt.timedelta(n) for n in range(1, days + 1)) if d in holidays]
    assert len(off) >= 5  # 29 Esfand, 1-4 Farvardin, and the Eid al-Fitr days that fall with them


def test_the_escalation_counts_working_days_past_the_holidays(dbc):
    models.Setting.create(key="escalation_working_days", value="3")
    before = time_rules.escalation_cutoff(dt.date(2026, 3, 25))
    load_official_holidays(1404)
    load_official_holidays(1405)
    after = time_rules.escalation_cutoff(dt.date(2026, 3, 25))
    assert after < before  # a request is escalated only after three days people worked


def test_the_command_loads_a_year_and_init_db_loads_this_year_and_the_next(app, dbc):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-holidays", "۱۴۰۵"])
    assert result.exit_code == 0, result.output
    assert "1405:" in result.output and "added" in result.output
    assert "0 added" in runner.invoke(args=["load-holidays", "1405"]).output
    refused = runner.invoke(args=["load-holidays", "next"])
    assert refused.exit_code != 0
    refused = runner.invoke(args=["load-holidays", "1200"])
    assert refused.exit_code != 0 and "1358" in refused.output
    with freeze_time(dt.datetime(2026, 12, 1, 12, 0)):  # 10 Azar 1405
        output = runner.invoke(args=["init-db"]).output
    assert "official holidays 1405:" in output and "official holidays 1406:" in output
    assert holidays_of(1406)
