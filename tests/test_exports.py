"""CSV exports of the cartables: the fast tuple path gives exactly the cells of the model path,
with Jalali Tehran times (across Iran's former DST), Persian labels and formula escaping."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

import models
import persian
from backoffice import export
from helpers import PASSWORD, staff_client_for

TEHRAN = "دانشگاه علوم پزشکی تهران"
NOW = models.utcnow().replace(microsecond=0)

# (UTC timestamp, Jalali Tehran time): +4:30 under the DST Iran kept until 2022, +3:30 after.
STAMPS = [
    (dt.datetime(2021, 6, 1, 20, 45, 10), "1400/03/12 01:15"),
    (dt.datetime(2025, 3, 20, 21, 0), "1404/01/01 00:30"),
    (dt.datetime(2025, 3, 20, 20, 29, 59, 999999), "1403/12/30 23:59"),
    (dt.datetime(2026, 11, 25, 12, 5, 0, 123456), "1405/09/04 15:35"),
]


def sweep():
    """Every 7 minutes through both of 2021's DST changes and a stretch of 2026."""
    for start in (dt.datetime(2021, 3, 20, 12), dt.datetime(2021, 9, 20, 12), dt.datetime(2026, 3, 19, 0)):
        for step in range(0, 2 * 24 * 60, 7):
            yield start + dt.timedelta(minutes=step, seconds=step % 60)


def test_jalali_stamp_matches_the_general_conversion_for_both_drivers_forms():
    for stamp in sweep():
        expected = persian.format_jalali_datetime(persian.to_tehran(stamp))
        assert export.jalali_stamp(stamp) == expected, stamp  # PostgreSQL: a datetime
        assert export.jalali_stamp(str(stamp)) == expected, stamp  # SQLite: peewee's text
    aware = dt.datetime(2025, 3, 20, 21, 0, tzinfo=dt.UTC).astimezone(persian.TEHRAN)
    assert export.jalali_stamp(aware) == "1404/01/01 00:30"
    assert export.jalali_stamp(None) == ""
    for stamp, jalali in STAMPS:
        assert export.jalali_stamp(stamp) == jalali
        assert export.jalali_stamp(str(stamp)) == jalali


def test_jalali_date_cell_and_escaping():
    assert export.jalali_date_cell(dt.date(2025, 3, 21)) == "1404/01/01"
    assert export.jalali_date_cell("2025-03-21") == "1404/01/01"
    assert export.jalali_date_cell(None) == ""
    assert export.escape_formula("=1+1") == "'=1+1"
    assert export.escape_formula(-5) == "'-5"
    assert export.escape_formula(None) == ""


@pytest.fixture
def world(app, make_officer, make_staff, dbc):
    """Requests of the three kinds, with dangerous names, empty snapshots and old timestamps."""
    university = models.University.get(models.University.name == TEHRAN)
    tehran = models.City.get(models.City.name == "تهران")
    field = models.FieldOfStudy.select().first()
    degree = models.DegreeLevel.select().first()
    distributor = models.create_distributor("pakhsh", PASSWORD, "=شرکت پخش", "company", "09121110000")
    names = ['=HYPERLINK("x")', "مریم", "\u200f+1", "علی‌رضا"]
    statuses = ["submitted", "approved", "rejected", "deficient"]
    for i, (stamp, _jalali) in enumerate(STAMPS * 2):
        officer = make_officer()
        models.Officer.update(first_name=names[i % 4], last_name="محمدی‌نژاد").where(
            models.Officer.id == officer.id
        ).execute()
        waiting = statuses[i % 4] == "submitted"
        models.QualificationRequest.create(
            officer=officer,
            status=statuses[i % 4],
            university=university,
            city=tehran if i % 3 else None,
            field_of_study=field if i % 2 else None,
            degree_level=degree,
            submitted_at=stamp,
            last_submitted_at=NOW - dt.timedelta(days=i) if waiting else stamp,
            decided_at=None if waiting else stamp + dt.timedelta(days=3, minutes=17),
        )
        branch = models.Branch.create(
            distributor=distributor,
            name=f"-شعبه {i}",
            province=tehran.province,
            city=tehran,
            address="تهران، خیابان انقلاب، پلاک ۱",
        )
        models.Cooperation.create(
            branch=branch,
            distributor=distributor,
            officer=officer,
            university=university,
            status=["pending_university", "active", "ended", "rejected"][i % 4],
            last_submitted_at=NOW - dt.timedelta(days=2 * i),
            submitted_at=stamp,
            started_at=stamp if i % 4 in (1, 2) else None,
            ended_at=stamp if i % 4 == 2 else None,
            end_reason="released" if i % 4 == 2 else "",
        )
        models.EditRequest.create(
            officer=officer,
            university=university,
            status=statuses[i % 4],
            submitted_at=stamp,
            last_submitted_at=NOW - dt.timedelta(days=i),
            decided_at=None if waiting else stamp,
        )
    return {
        "director": staff_client_for(app, make_staff("directorate")),
        "reviewer": staff_client_for(app, make_staff("university", TEHRAN)),
    }


def admin_view(app, endpoint):
    return next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)


def exported(client, endpoint, query=""):
    response = client.get(f"/admin/{endpoint}/export/csv/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", ["qualification", "cooperation", "editrequest"])
@pytest.mark.parametrize("who", ["director", "reviewer"])
def test_tuple_export_gives_the_cells_of_the_model_export(app, world, monkeypatch, endpoint, who):
    view = admin_view(app, endpoint)
    plans = []
    original = view.export_plan

    def recording(query, names):
        rows, cells = original(query, names)
        plans.append(type(rows).__name__ + ":" + rows.__name__)
        return rows, cells

    monkeypatch.setattr(view, "export_plan", recording)
    fast = exported(world[who], endpoint)
    # Without its declared columns the view can only build model instances.
    monkeypatch.setattr(view, "export_columns", {})
    slow = exported(world[who], endpoint)
    reader = "tuple_batches" if models.is_sqlite() else "read_ahead"
    assert plans == [f"generator:{reader}", "generator:model_batches"]
    assert fast == slow
    rows = list(csv.reader(io.StringIO(fast[1:])))
    assert len(rows) == 1 + len(STAMPS) * 2
    assert all(not cell.startswith(export.FORMULA_PREFIXES) for row in rows[1:] for cell in row)


def test_qualification_export_cells(app, world):
    text = exported(world["director"], "qualification", "?sort=0")  # by id: the order of STAMPS
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert text.startswith("\ufeff")
    assert header[:3] == ["شماره", "مسئول فنی", "کد ملی"]
    first = dict(zip(header, rows[0], strict=True))
    assert first["مسئول فنی"] == '\'=HYPERLINK("x") محمدی‌نژاد'
    assert first["شهر"] == ""  # no snapshot: an empty cell, not "None"
    assert first["وضعیت"] == "ارسال‌شده"
    assert first["تاریخ ارسال"] == STAMPS[0][1]
    assert first["روزهای انتظار"] == "0"
    second = dict(zip(header, rows[1], strict=True))
    assert second["شهر"] == "تهران" and second["وضعیت"] == "تأییدشده"
    assert second["روزهای انتظار"] == ""
    assert second["تاریخ تصمیم"] == persian.format_jalali_datetime(
        persian.to_tehran(STAMPS[1][0] + dt.timedelta(days=3, minutes=17))
    )


def test_export_follows_the_lists_filter_search_and_scope(app, world, make_staff):
    other = staff_client_for(app, make_staff("university", "دانشگاه علوم پزشکی شهید بهشتی"))
    assert exported(other, "qualification").count("\n") == 1  # the header only
    approved = exported(world["director"], "qualification", "?flt0_0=approved")
    assert approved.count("\n") == 1 + 2
    officer = models.Officer.select().order_by(models.Officer.id).first()
    found = exported(world["director"], "qualification", f"?search={officer.national_code}")
    assert found.count("\n") == 2 and officer.national_code in found


def test_read_ahead_hands_over_every_batch_raises_the_readers_error_and_stops_when_closed(app, dbc):
    import threading

    def numbers():
        for n in range(100):
            yield [n]

    assert [batch[0] for batch in export.read_ahead(numbers, depth=2)] == list(range(100))

    def failing():
        yield [1]
        raise ValueError("disk read error")

    reader = export.read_ahead(failing)
    assert next(reader) == [1]
    with pytest.raises(ValueError, match="disk read error"):
        next(reader)

    closed = threading.Event()

    def endless():
        try:
            while True:
                yield [models.City.select().count()]  # on the reader's own connection
        finally:
            closed.set()

    reader = export.read_ahead(endless, depth=2)
    assert next(reader)[0] > 400
    reader.close()  # the client went away
    assert closed.wait(5)
    assert not any(t.name == "export-reader" for t in threading.enumerate())


def test_an_export_leaves_no_transaction_open(app, world):
    """On PostgreSQL the rows come through a cursor declared in a transaction on the reader's
    own connection: a finished (or abandoned) export must end it, or VACUUM would stall."""
    response = world["director"].get("/admin/qualification/export/csv/", buffered=False)
    first = next(iter(response.response))
    assert first.startswith("\ufeff".encode())
    response.close()  # the client stops reading after the header
    assert exported(world["director"], "qualification").count("\n") == 1 + len(STAMPS) * 2
    if not models.is_sqlite():
        idle = models.db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"
        ).fetchone()[0]
        assert idle == 0


def test_every_back_office_export_reads_tuples(app, world, monkeypatch):
    """Every list's export selects its columns as tuples: no view builds model instances
    (export.model_batches is only the reference the test above compares against)."""
    paths = {}
    for view in app.extensions["admin"][0]._views:
        if not getattr(view, "can_export", False):
            continue
        original = view.export_plan

        def recording(query, names, view=view, original=original):
            rows, cells = original(query, names)
            paths[view.endpoint] = rows.__name__
            return rows, cells

        monkeypatch.setattr(view, "export_plan", recording)
        exported(world["director"], view.endpoint)
    reader = "tuple_batches" if models.is_sqlite() else "read_ahead"
    assert len(paths) >= 18 and {e: p for e, p in paths.items() if p != reader} == {}
