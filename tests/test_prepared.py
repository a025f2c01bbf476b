"""Prepared statements: the hot queries compiled once give what peewee's query gives,
and on PostgreSQL are prepared on the server once per connection."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

import models
from models import Officer, db
from models.prepared import Prepared, check_peewee_internals

BY_CITY = Prepared(
    lambda city_id, province_id: (
        Officer.select().where((Officer.city == city_id) & (Officer.province == province_id)).order_by(Officer.id)
    )
)


def test_prepared_rows_are_the_querys_rows(app, make_officer, dbc):
    officers = [make_officer(), make_officer(), make_officer(city="اصفهان")]
    tehran = officers[0]
    expected = list(
        Officer.select()
        .where((Officer.city == tehran.city_id) & (Officer.province == tehran.province_id))
        .order_by(Officer.id)
    )
    found = list(BY_CITY.rows(tehran.city_id, tehran.province_id))
    assert [o.id for o in found] == [o.id for o in expected] == [officers[0].id, officers[1].id]
    assert found[0].national_code == officers[0].national_code and found[0].birth_date == officers[0].birth_date
    assert BY_CITY.first(officers[2].city_id, officers[2].province_id).id == officers[2].id
    assert BY_CITY.first(-1, tehran.province_id) is None
    assert BY_CITY.first(None, None) is None  # NULL compares as nothing, not as IS NULL


def test_session_check_finds_each_kind_of_account(app, make_officer, make_staff, dbc):
    officer = make_officer()
    staff = make_staff("directorate")
    distributor = models.create_distributor("pakhsh", "Kh0sh-Amad-2024", "شرکت", "company", "09121110000")
    day, hours = dt.timedelta(days=1), dt.timedelta(hours=12)
    for kind, account in (("officer", officer), ("staff", staff), ("distributor", distributor)):
        token = models.start_session(kind, account.id)
        loaded = models.load_session(token, day, hours)
        assert type(loaded) is type(account) and loaded.id == account.id
        models.end_session(token)
        assert models.load_session(token, day, hours) is None
    # A session whose kind names no account table, or a disabled account, gives nobody.
    token = models.start_session("robot", officer.id)
    assert models.load_session(token, day, hours) is None
    Officer.update(is_active=False).where(Officer.id == officer.id).execute()
    assert models.load_session(models.start_session("officer", officer.id), day, hours) is None


def test_postgresql_prepares_once_per_connection_and_survives_a_rollback(app, make_officer, dbc):
    officer = make_officer()
    if models.is_sqlite():
        assert BY_CITY.first(officer.city_id, officer.province_id).id == officer.id
        return
    name = BY_CITY._name

    def prepared_here():
        return db.execute_sql("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (name,)).fetchone()[0]

    with db.atomic() as transaction:
        assert BY_CITY.first(officer.city_id, officer.province_id).id == officer.id
        transaction.rollback()
    assert prepared_here() == 1
    for _ in range(3):
        assert BY_CITY.first(officer.city_id, officer.province_id).id == officer.id
    assert prepared_here() == 1


def test_peewee_still_offers_what_prepared_relies_on():
    """An upgrade of peewee that renames what models/prepared.py uses fails here, by name."""
    check_peewee_internals()


def test_a_renamed_peewee_internal_is_reported_by_name(monkeypatch):
    monkeypatch.setattr(peewee.ModelSelect, "_get_cursor_wrapper", None)
    with pytest.raises(RuntimeError, match=r"peewee\.ModelSelect\._get_cursor_wrapper is gone"):
        check_peewee_internals()


def test_a_changed_value_conversion_is_reported(monkeypatch):
    # As if Value(obj, converter=False) converted obj (to its text) like a field would.
    original = peewee.Value.__init__

    def converting(self, value, converter=None, unpack=True):
        original(self, str(value), converter, unpack)

    monkeypatch.setattr(peewee.Value, "__init__", converting)
    with pytest.raises(RuntimeError, match=r"converter=False"):
        check_peewee_internals()
