"""Legacy migration of real data (issue 18): nobody who works today is locked out tomorrow.

Legacy sets with each problem of real old data, written in each encoding old Iranian
systems export (Windows-1256, UTF-16 with a BOM, UTF-8 with and without a BOM), with
Arabic letters and digits: what imports, what the report says, and what the officer or
the distributor sees at the first login."""

from __future__ import annotations

import csv
import datetime as _dt

import pytest

import models
from helpers import login
from legacy_real_set import (
    ENCODINGS,
    FIELD,
    PASSWORD,
    B,
    C,
    D,
    LegacySet,
    O,
    expected,
    officer,
    officer_row,
    run,
    write_real_set,
)
from models import legacy
from persian import format_jalali_date, parse_jalali_date, to_tehran


@pytest.fixture(params=ENCODINGS)
def real_set(request, tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, request.param)
    write_real_set(files)
    return files


@pytest.fixture
def utf8_set(tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, "utf-8-sig")
    write_real_set(files)
    return files


# ----------------------------------------------------------------- what imports


def test_only_what_makes_a_person_unknowable_refuses_a_row(dbc, real_set):
    """Each encoding, read with --encoding auto: the same import, the same report."""
    result = run(real_set)
    assert real_set.problems() == expected(real_set)
    counts = result.counts
    assert (counts[O].imported, counts[O].refused, counts[O].warned) == (10, 2, 7)
    assert (counts[D].imported, counts[D].refused, counts[D].warned) == (2, 0, 1)
    assert (counts[B].imported, counts[B].refused) == (11, 0)
    # Every working officer keeps working: ten contracts, all active.
    assert (counts[C].imported, counts[C].refused) == (10, 0)
    assert models.Cooperation.select().where(models.Cooperation.status == "active").count() == 10
    # Arabic letters and digits were normalised on the way in.
    complete = officer_row("complete", real_set)
    assert (complete.first_name, complete.last_name, complete.mobile) == ("علی", "کریمی", "09120000001")
    assert complete.city.name == "تهران" and complete.field_of_study.name == FIELD
    assert complete.address == "تهران، خیابان آزادی، کوچه دوم، پلاک 12"
    assert complete.gender == "male" and not complete.profile_incomplete


def test_incomplete_rows_are_kept_as_they_were(dbc, utf8_set):
    run(utf8_set)
    short = officer_row("short_address", utf8_set)
    assert short.address == "تهران" and short.profile_incomplete
    no_degree = officer_row("no_degree", utf8_set)
    assert no_degree.field_of_study_id is None and no_degree.degree_level_id is None
    assert no_degree.is_qualified and no_degree.university.name == "دانشگاه علوم پزشکی تهران"
    landline = officer_row("landline", utf8_set)
    assert landline.mobile == "" and landline.profile_incomplete  # no SMS to a landline
    unknown = officer_row("unknown_city", utf8_set)
    assert unknown.city_id is None and unknown.province.name == "تهران" and unknown.profile_incomplete
    # The closest known names are suggested.
    reason = next(r["reason"] for r in utf8_set.report() if r["code"] == "unknown_city")
    assert "تهران" in reason.split("تهرانن", 1)[1]
    guild = models.Distributor.get(models.Distributor.legacy_id == "D2")
    assert guild.manager_mobile == "" and guild.needs_manager_mobile
    assert models.Branch.get(models.Branch.legacy_id == "B11").address == "کوچه"


def test_an_unqualified_working_officer_keeps_the_contract_and_is_flagged(dbc, utf8_set):
    run(utf8_set)
    unqualified = officer_row("unqualified", utf8_set)
    assert not unqualified.is_qualified and unqualified.qualification_due
    contract = models.Cooperation.get(models.Cooperation.officer == unqualified)
    assert contract.status == "active" and contract.legacy
    # Qualified ones are not flagged.
    assert not officer_row("complete", utf8_set).qualification_due


@pytest.mark.parametrize("encoding", ["utf-8", "cp1256", "utf-16"])
def test_a_named_encoding_reads_the_files_in_it(dbc, tmp_path, encoding):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, encoding if encoding != "utf-8" else "utf-8-sig")
    write_real_set(files)
    result = run(files, encoding=encoding)
    assert result.counts[O].imported == 10 and files.problems() == expected(files)


def test_a_wrong_named_encoding_stops_before_writing(dbc, tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, "utf-16")
    write_real_set(files)
    with pytest.raises(legacy.LegacyFileError):
        run(files, encoding="utf-8")
    assert models.Officer.select().count() == 0


def test_the_cli_reads_every_encoding_with_auto(app, tmp_path):
    runner = app.test_cli_runner()
    for encoding in ENCODINGS:
        directory = tmp_path / encoding
        directory.mkdir()
        write_real_set(LegacySet(directory, encoding))
        result = runner.invoke(args=["import-legacy", str(directory), "--dry-run", "--encoding", "auto"])
        assert result.exit_code == 0, result.output
        assert "officers.csv: would import 10, already present 0, refused 2, with warnings 7" in result.output, encoding


# ---------------------------------------------------------------- aliases, qualification number


def test_aliases_map_old_names_to_the_reference_data(dbc, tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, "cp1256")
    write_real_set(files)
    old = officer(
        20, province="خراسان", city="مشهد مقدس", field_of_study="مهندسی پزشکی - بالینی", degree_level="لیسانس"
    )
    files.write(O, [("old_names", old)])
    files.write(
        legacy.files.ALIASES,
        [
            ("p", {"kind": "province", "legacy_name": "خراسان", "name": "خراسان رضوی"}),
            ("c", {"kind": "city", "legacy_name": "مشهد مقدس", "name": "مشهد"}),
            ("f", {"kind": "field_of_study", "legacy_name": "مهندسی پزشکی - بالینی", "name": FIELD}),
            ("d", {"kind": "degree_level", "legacy_name": "لیسانس", "name": "کارشناسی"}),
        ],
    )
    files.write(C, [])
    run(files)
    imported = models.Officer.get(models.Officer.user_code == "800020")
    assert imported.province.name == "خراسان رضوی" and imported.city.name == "مشهد"
    assert imported.field_of_study.name == FIELD and imported.degree_level.name == "کارشناسی"
    assert not imported.profile_incomplete
    assert [r for r in files.report() if r["file"] == O] == []


def test_an_alias_to_an_unknown_name_stops_the_import(dbc, utf8_set):
    utf8_set.write(legacy.files.ALIASES, [("bad", {"kind": "city", "legacy_name": "قدیم", "name": "شهر ناموجود"})])
    with pytest.raises(legacy.LegacyFileError) as failure:
        run(utf8_set)
    assert failure.value.code == "bad_alias"
    assert models.Officer.select().count() == 0


def test_legacy_qualifications_keep_their_number_and_date(dbc, tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, "utf-8")
    write_real_set(files)
    columns = legacy.COLUMNS[O] + ("qualification_number", "qualified_at")
    files.write(
        O,
        [
            ("numbered", officer(30, qualification_number="QN-1390-77", qualified_at="1390/06/15")),
            ("plain", officer(31)),
            ("bad_date", officer(32, qualified_at="1390/13/40")),
        ],
        columns=columns,
    )
    files.write(C, [])
    result = run(files)
    numbered = models.Officer.get(models.Officer.user_code == "800030")
    assert numbered.qualification_number == "QN-1390-77"
    assert format_jalali_date(to_tehran(numbered.qualified_at)) == "1390/06/15"
    assert models.Officer.get(models.Officer.user_code == "800031").qualification_number == "L-800031"
    bad = models.Officer.get(models.Officer.user_code == "800032")
    assert bad.is_qualified and (O, files.line(O, "bad_date"), "invalid_qualified_at", "warning") in files.problems()
    assert result.counts[O].imported == 3


# ------------------------------------------------------------ the directorate's rehearsal


def test_the_dry_run_counts_by_severity_reason_and_province(dbc, utf8_set):
    before = models.Officer.select().count()
    result = run(utf8_set, dry_run=True)
    assert models.Officer.select().count() == before == 0
    with open(utf8_set.directory / "import-summary.csv", encoding="utf-8-sig", newline="") as handle:
        summary = {(r["group"], r["name"], r["severity"]): int(r["count"]) for r in csv.DictReader(handle)}
    assert summary[("severity", "error", "error")] == 2
    # 11 of the officers' and distributors' problems, and every Tehran branch without a
    # district (the old system had none: issue 19's missing_district, one per branch).
    assert summary[("severity", "warning", "warning")] == 22
    assert summary[("reason", "missing_district", "warning")] == 11
    assert summary[("reason", "missing_postal_code", "warning")] == 1
    assert summary[("reason", "officer_not_qualified", "warning")] == 1
    # Rows by province: the officers, branches and contracts of Tehran.
    assert summary[("province", "تهران", "warning")] == 18
    assert summary[("province", "تهران", "error")] == 2
    printed = "\n".join(result.summary_lines())
    assert "reason missing_postal_code (warning): 1" in printed
    assert "province تهران (error): 2" in printed
    # The report names every row by file, line and key.
    rows = utf8_set.report()
    assert {r["key"] for r in rows if r["file"] == O and r["code"] == "missing_postal_code"} == {"800003"}


# --------------------------------------------------------------- the first login


def test_a_migrated_officer_completes_the_profile_at_the_first_login(app, dbc, utf8_set):
    run(utf8_set)
    client = app.test_client()
    row = utf8_set.officers["no_postal_code"]
    assert login(client, "/officer/login", row["user_code"], row["password"]).status_code == 302
    for page in ("/officer/", "/officer/profile", "/officer/qualification/new", "/officer/cooperation/"):
        response = client.get(page)
        assert response.status_code == 302 and response.location.endswith("/officer/profile/complete"), page
    page = client.get("/officer/profile/complete").get_data(as_text=True)
    assert 'name="postal_code"' in page and 'name="address"' not in page
    bad = client.post("/officer/profile/complete", data={"postal_code": "123"})
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)
    assert officer_row("no_postal_code", utf8_set).profile_incomplete
    good = client.post("/officer/profile/complete", data={"postal_code": "۱۳۱۴۵۶۷۸۹۰"})
    assert good.status_code == 302
    done = officer_row("no_postal_code", utf8_set)
    assert done.postal_code == "1314567890" and not done.profile_incomplete
    assert_district_step_then_desk(client)
    # The contract that came over is there.
    assert 'data-status="active"' in client.get("/officer/cooperation/").get_data(as_text=True)


def test_an_officer_without_a_degree_or_city_fills_them_in(app, dbc, utf8_set):
    run(utf8_set)
    client = app.test_client()
    for label in ("no_degree", "unknown_city"):
        row = utf8_set.officers[label]
        client = app.test_client()
        assert login(client, "/officer/login", row["user_code"], row["password"]).status_code == 302
        officer_now = officer_row(label, utf8_set)
        missing = models.missing_profile_fields(officer_now)
        tehran = models.City.get(models.City.name == "تهران")
        data = {
            "field_of_study": str(models.FieldOfStudy.get(models.FieldOfStudy.name == FIELD).id),
            "degree_level": str(models.DegreeLevel.get(models.DegreeLevel.name == "کارشناسی").id),
            "province": str(tehran.province_id),
            "city": str(tehran.id),
        }
        response = client.post("/officer/profile/complete", data={k: v for k, v in data.items() if k in missing})
        assert response.status_code == 302, (label, missing, response.get_data(as_text=True)[:2000])
        after = officer_row(label, utf8_set)
        assert not after.profile_incomplete and after.city_id is not None and after.field_of_study_id is not None


def test_a_weak_legacy_password_must_be_changed_first(app, dbc, utf8_set):
    run(utf8_set)
    client = app.test_client()
    row = utf8_set.officers["weak_password"]
    assert login(client, "/officer/login", row["user_code"], "123").status_code == 302
    assert officer_row("weak_password", utf8_set).must_change_password
    response = client.get("/officer/")
    assert response.status_code == 302 and response.location.endswith("/officer/password")
    assert 'id="must-change-password"' in client.get("/officer/password").get_data(as_text=True)
    changed = client.post(
        "/officer/password",
        data={"current_password": "123", "new_password": "Tazeh-Ramz-1405", "new_password_confirm": "Tazeh-Ramz-1405"},
    )
    assert changed.status_code == 302
    assert not officer_row("weak_password", utf8_set).must_change_password
    assert_district_step_then_desk(client)


def test_a_distributor_without_a_manager_mobile_is_asked_for_it(app, dbc, utf8_set):
    run(utf8_set)
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh-two", f"{PASSWORD}-D2").status_code == 302
    response = client.get("/distributor/")
    assert response.status_code == 302 and response.location.endswith("/distributor/manager-mobile")
    bad = client.post("/distributor/manager-mobile", data={"manager_mobile": "02188776655"})
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)
    assert client.post("/distributor/manager-mobile", data={"manager_mobile": "٠٩٣٥٧٦٥٤٣٢١"}).status_code == 302
    assert models.Distributor.get(models.Distributor.legacy_id == "D2").manager_mobile == "09357654321"
    assert client.get("/distributor/").status_code == 200
    # A distributor with a mobile is not stopped.
    other = app.test_client()
    assert login(other, "/distributor/login", "pakhsh-one", f"{PASSWORD}-D1").status_code == 302
    assert other.get("/distributor/").status_code == 200


# ------------------------------------------------------------ deadline and reminders


def assert_district_step_then_desk(client):
    """A Tehran officer of the old system had no district: asked for it, then to confirm
    what came over (tests/test_legacy_claim.py), then the desk."""
    response = client.get("/officer/")
    assert response.status_code == 302 and "/officer/district" in response.location
    assert client.post("/officer/district", data={"district": "17", "next": "/officer/"}).status_code == 302
    response = client.get("/officer/")
    assert response.status_code == 302 and response.location.endswith("/officer/migration")
    assert client.post("/officer/migration", data={"action": "confirm"}).status_code == 303
    assert client.get("/officer/").status_code == 200


def _set_deadline(value):
    from models import legacy_followup

    models.Setting.delete().where(models.Setting.key == legacy_followup.DEADLINE_SETTING).execute()
    models.Setting.create(key=legacy_followup.DEADLINE_SETTING, value=value)


def _now_days_before(deadline_jalali: str, days: int) -> _dt.datetime:
    deadline = parse_jalali_date(deadline_jalali)
    return _dt.datetime.combine(deadline - _dt.timedelta(days=days), _dt.time(8, 0))  # UTC, 11:30 in Tehran


def test_reminders_are_sent_once_per_step(dbc, utf8_set):
    run(utf8_set)
    unqualified = officer_row("unqualified", utf8_set)
    assert models.send_qualification_reminders(models.utcnow()) == 0  # no deadline set
    _set_deadline("1406/01/15")
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", 60)) == 0
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", 20)) == 1
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", 20)) == 0  # idempotent
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", 19)) == 0
    notices = models.Notice.select().where(models.Notice.officer == unqualified)
    assert notices.count() == 1 and "1406/01/15" in notices.get().body
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == unqualified.mobile).count() == 1
    # Several steps passed at once: one reminder, not three.
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", -3)) == 1
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", -3)) == 0
    assert notices.count() == 2


def test_flask_tick_sends_the_reminders(app, dbc, utf8_set):
    run(utf8_set)
    unqualified = officer_row("unqualified", utf8_set)
    _set_deadline(format_jalali_date(models.tehran_today() + _dt.timedelta(days=10)))
    result = app.test_cli_runner().invoke(args=["tick", "--only", "remind_legacy_officers"])
    assert result.exit_code == 0, result.output
    assert "remind_legacy_officers=1" in result.output
    assert models.Notice.select().where(models.Notice.officer == unqualified).count() == 1


def test_the_directorate_sees_who_is_left_per_province(app, dbc, utf8_set, make_staff):
    from models import legacy_followup

    run(utf8_set)
    assert legacy_followup.left_per_province() == [("تهران", 1)]
    unqualified = officer_row("unqualified", utf8_set)
    staff = make_staff("directorate")
    client = app.test_client()
    assert login(client, "/admin/login", staff.username).status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-table="legacy-left"' in page and '<td data-count="1">1</td>' in page
    # Filing a request takes the officer off the list, and off the reminders.
    models.QualificationRequest.create(officer=unqualified, status="submitted", submitted_at=models.utcnow())
    assert legacy_followup.left_per_province() == []
    _set_deadline("1406/01/15")
    assert models.send_qualification_reminders(_now_days_before("1406/01/15", 1)) == 0


def test_an_officer_without_a_degree_is_listed_and_verifiable(app, dbc, utf8_set, make_staff):
    """Migrated without a field or degree: still in the directorate's list, still valid at /verify."""
    run(utf8_set)
    no_degree = officer_row("no_degree", utf8_set)
    staff = make_staff("directorate")
    client = app.test_client()
    assert login(client, "/admin/login", staff.username).status_code == 302
    listing = client.get(f"/admin/officer/?search={no_degree.user_code}").get_data(as_text=True)
    assert f">{no_degree.user_code}</a>" in listing
    verify = client.get(f"/verify?q={no_degree.qualification_number}").get_data(as_text=True)
    assert 'data-status="approved"' in verify
