"""The legacy migration (issue 6): generated CSV files with good and bad rows."""

from __future__ import annotations

import pytest

import models
from helpers import login
from legacy_dataset import (
    CLEAR_PASSWORD,
    DISTRIBUTOR_PASSWORD,
    EXPECTED_COUNTS,
    FIELD,
    VECTOR_HASH,
    VECTOR_PASSWORD,
    VECTOR_SALT,
    distributor,
    expected_problems,
    problems_of,
    read_report,
    table_counts,
    write_dataset,
)
from models import legacy


@pytest.fixture
def dataset(tmp_path):
    directory = tmp_path / "legacy"
    directory.mkdir()
    return write_dataset(directory)


def run_import(files, **kwargs):
    return legacy.import_legacy(files.directory, **kwargs)


# ------------------------------------------------------------------ the report


def test_report_lists_every_bad_row_exactly(dbc, dataset):
    result = run_import(dataset)
    report = dataset.directory / "import-report.csv"
    assert problems_of(report) == expected_problems(dataset)
    for name, (imported, refused) in EXPECTED_COUNTS.items():
        counts = result.counts[name]
        assert (counts.imported, counts.refused, counts.present) == (imported, refused, 0), name
    rows = read_report(report)
    assert list(rows[0]) == ["file", "line", "key", "severity", "reason", "code"]
    # Sorted: the files in import order, lines ascending within a file.
    order = [(legacy.FILE_ORDER.index(r["file"]), int(r["line"])) for r in rows]
    assert order == sorted(order)
    reasons = {r["code"]: r["reason"] for r in rows}
    # Persian reasons, from the forms' catalogue or this module's messages.
    assert reasons["invalid_national_code"] == models.translate(
        "This national code is not valid; check its ten digits."
    )
    assert "سال" in reasons["under_age"]
    assert all(not r["reason"].isascii() for r in rows), [r["reason"] for r in rows if r["reason"].isascii()]
    # Both rows of a duplicate name each other's lines.
    O = legacy.OFFICERS  # noqa: E741
    dup = [r for r in rows if r["code"] == "duplicate_national_code"]
    both = f"{dataset.line(O, 'dup_code_a')}, {dataset.line(O, 'dup_code_b')}"
    assert all(both in r["reason"] for r in dup)
    assert {r["key"] for r in dup} == {"700010", "700011"}


def test_report_codes_do_not_depend_on_the_messages_wording(dbc, dataset, monkeypatch):
    # Reword every form cleaner's message: the report's codes must not move.
    def reworded(cleaner):
        def clean(*args):
            try:
                return cleaner(*args)
            except models.DomainError as error:
                raise models.DomainError("Reworded: " + error.msgid, code=error.code, **error.params) from None

        return clean

    rules = models.officer_rules
    for name, cleaner in list(rules.CLEANERS.items()):
        monkeypatch.setitem(rules.CLEANERS, name, reworded(cleaner))
    monkeypatch.setattr(rules, "clean_city", reworded(rules.clean_city))
    monkeypatch.setattr(legacy.cleaning, "clean_city", rules.clean_city)
    run_import(dataset)
    rows = read_report(dataset.directory / "import-report.csv")
    assert any(r["reason"].startswith("Reworded: ") for r in rows)
    assert problems_of(dataset.directory / "import-report.csv") == expected_problems(dataset)


def test_report_cells_are_formula_safe(dbc, dataset):
    D = legacy.DISTRIBUTORS
    formulas = ("=1+1", '\u200f=HYPERLINK("http://example.com")', "@SUM(A1)")
    rows = [(label, dataset.rows[(D, label)]) for label in ("d1", "d2", "bad_kind")]
    # No legacy id: the report names the row by its user name, as the file wrote it.
    rows += [(f"formula{i}", distributor("", username)) for i, username in enumerate(formulas)]
    dataset.write(D, rows)
    run_import(dataset)
    report = read_report(dataset.directory / "import-report.csv")
    keys = {r["key"] for r in report if r["file"] == D}
    assert {"'" + username for username in formulas} <= keys
    assert not any(r[c].startswith(models.spreadsheet.FORMULA_PREFIXES) for r in report for c in ("key", "reason"))


def test_physical_line_numbers_count_a_multiline_address(dbc, dataset):
    O = legacy.OFFICERS  # noqa: E741
    # The "arabic" row (third data row) spans two physical lines.
    assert dataset.line(O, "arabic") == 4
    assert dataset.line(O, "bad_checksum") == 6
    run_import(dataset)
    assert (O, 6, "invalid_national_code", "error") in problems_of(dataset.directory / "import-report.csv")


def test_rows_are_imported_with_their_legacy_identity(dbc, dataset):
    run_import(dataset)
    o = dataset.officers
    clear = models.Officer.get(models.Officer.user_code == "700001")
    assert clear.national_code == o["clear"]["national_code"] and clear.legacy
    assert clear.is_qualified and clear.qualification_number == "L-700001"
    assert clear.university.name == "دانشگاه علوم پزشکی تهران"
    # Arabic letters, ZWNJ and Persian digits match the reference data and the cleaners.
    arabic = models.Officer.get(models.Officer.user_code == "700003")
    assert arabic.city.name == "کاشان" and arabic.province.name == "اصفهان"
    assert arabic.field_of_study.name == FIELD and arabic.degree_level.name == "کارشناسی ارشد"
    assert arabic.mobile == "09123456789"
    assert not arabic.is_qualified and arabic.university_id is None and arabic.qualification_number is None
    guild = models.Distributor.get(models.Distributor.legacy_id == "D2")
    assert guild.kind == "guild" and guild.manager_mobile == "09357654321" and guild.username == "dist-two"
    b2 = models.Branch.get(models.Branch.legacy_id == "B2")
    assert b2.distributor_id == guild.id and b2.city.name == "اصفهان"
    cooperation = models.Cooperation.get(models.Cooperation.branch == b2)
    assert cooperation.status == "active" and cooperation.legacy
    assert cooperation.officer.user_code == "700002" and cooperation.distributor_id == guild.id
    assert cooperation.university.name == "دانشگاه علوم پزشکی اصفهان"
    events = models.RequestEvent.select().where(models.RequestEvent.action == "legacy_import")
    assert events.count() == 4
    assert models.AuditLog.select().where(models.AuditLog.action == "legacy_import").count() == 1


def test_started_at_is_the_jalali_day_in_tehran(dbc, dataset):
    from persian import format_jalali_date, to_tehran

    run_import(dataset)
    cooperation = models.Cooperation.select().join(models.Branch).where(models.Branch.legacy_id == "B2").get()
    assert format_jalali_date(to_tehran(cooperation.started_at)) == "1399/07/01"


# --------------------------------------------------------- dry run, re-runs, crash


def test_dry_run_changes_nothing_and_reports_like_a_real_run(dbc, dataset, tmp_path):
    before = table_counts()
    dry = run_import(dataset, dry_run=True, report_path=tmp_path / "dry.csv")
    assert table_counts() == before
    real = run_import(dataset, report_path=tmp_path / "real.csv")
    assert problems_of(tmp_path / "dry.csv") == problems_of(tmp_path / "real.csv") == expected_problems(dataset)
    for name in legacy.FILE_ORDER:
        assert dry.counts[name] == real.counts[name], name
    assert "dry run" in "\n".join(dry.summary_lines())


def test_a_second_run_imports_nothing(dbc, dataset):
    first = run_import(dataset)
    after_first = table_counts()
    second = run_import(dataset)
    for name, (imported, refused) in EXPECTED_COUNTS.items():
        counts = second.counts[name]
        assert (counts.imported, counts.present, counts.refused) == (0, imported, refused), name
        assert first.counts[name].imported == imported
    assert problems_of(dataset.directory / "import-report.csv") == expected_problems(dataset)
    after_second = table_counts()
    after_second["AuditLog"] -= 1  # the second run's own audit line
    assert after_second == after_first


def test_a_crash_half_way_is_completed_by_a_re_run(dbc, dataset, monkeypatch):
    original = legacy.runner.write_batch
    calls = {"officers": 0}

    def failing(phase, candidates):
        if phase.file == legacy.OFFICERS:
            calls["officers"] += 1
            if calls["officers"] == 3:
                raise RuntimeError("simulated crash")
        return original(phase, candidates)

    monkeypatch.setattr(legacy.runner, "write_batch", failing)
    with pytest.raises(RuntimeError):
        run_import(dataset, batch_size=2)
    # The batches before the crash are committed, nothing after it.
    committed = models.Officer.select().count()
    assert 0 < committed < 10 and calls["officers"] == 3
    assert models.Distributor.select().count() == 2 and models.Cooperation.select().count() == 0
    monkeypatch.setattr(legacy.runner, "write_batch", original)
    result = run_import(dataset, batch_size=2)
    counts = result.counts[legacy.OFFICERS]
    assert (counts.present, counts.imported) == (committed, 10 - committed)
    assert models.Officer.select().count() == 10
    assert models.Distributor.select().count() == 2
    assert models.Branch.select().count() == 7
    assert models.Cooperation.select().count() == 4
    assert problems_of(dataset.directory / "import-report.csv") == expected_problems(dataset)


def test_conflicts_with_the_database_are_reported(dbc, dataset, make_officer):
    # Someone registered in the new system with the national code of a legacy row.
    existing = make_officer()
    row = dataset.officers["spare"]
    row["national_code"] = existing.national_code
    dataset.write(legacy.OFFICERS, list(dataset.officers.items()))
    run_import(dataset)
    problems = problems_of(dataset.directory / "import-report.csv")
    assert (legacy.OFFICERS, dataset.line(legacy.OFFICERS, "spare"), "national_code_exists", "error") in problems
    assert models.Officer.get(models.Officer.national_code == existing.national_code).user_code == existing.user_code


# ------------------------------------------------------------------- logins


def test_migrated_accounts_log_in_with_their_legacy_passwords(app, dbc, dataset):
    run_import(dataset)
    client = app.test_client()
    assert login(client, "/officer/login", "700001", f"{CLEAR_PASSWORD}-1").status_code == 302

    aspnet = models.Officer.get(models.Officer.user_code == "700002")
    assert aspnet.password_hash.startswith(models.accounts.LEGACY_PREFIX)
    wrong = app.test_client().post("/officer/login", data={"username": "700002", "password": "12345679"})
    assert wrong.status_code != 302
    assert models.Officer.get_by_id(aspnet.id).password_hash == aspnet.password_hash

    response = app.test_client().post("/officer/login", data={"username": "700002", "password": VECTOR_PASSWORD})
    assert response.status_code == 302
    rehashed = models.Officer.get_by_id(aspnet.id).password_hash
    assert rehashed.startswith("$argon2id$") and not rehashed.startswith(models.accounts.LEGACY_PREFIX)
    assert login(app.test_client(), "/officer/login", "700002", VECTOR_PASSWORD).status_code == 302

    for username, password in (("dist-one", DISTRIBUTOR_PASSWORD), ("dist-two", VECTOR_PASSWORD)):
        assert login(app.test_client(), "/distributor/login", username, password).status_code == 302, username
    assert login(app.test_client(), "/distributor/login", "dist-two", "wrong-pass").status_code != 302
    assert not models.Distributor.get(models.Distributor.username == "dist-two").password_hash.startswith(
        models.accounts.LEGACY_PREFIX
    )


@pytest.mark.real_hasher
def test_first_login_replaces_the_import_profile_with_production(app, dbc, dataset):
    run_import(dataset)
    imported = models.Officer.get(models.Officer.user_code == "700001").password_hash
    assert imported.startswith("$argon2id$") and "m=8192,t=1,p=1" in imported
    assert login(app.test_client(), "/officer/login", "700001", f"{CLEAR_PASSWORD}-1").status_code == 302
    rehashed = models.Officer.get(models.Officer.user_code == "700001").password_hash
    assert "m=19456,t=2,p=1" in rehashed
    assert login(app.test_client(), "/officer/login", "700002", VECTOR_PASSWORD).status_code == 302
    assert "m=19456,t=2,p=1" in models.Officer.get(models.Officer.user_code == "700002").password_hash


def test_no_clear_or_bare_legacy_password_is_stored(dbc, dataset):
    run_import(dataset)
    hashes = [o.password_hash for o in models.Officer.select()] + [d.password_hash for d in models.Distributor.select()]
    assert hashes and all(
        h.startswith(("$argon2id$", models.accounts.LEGACY_PREFIX + VECTOR_SALT + "$$argon2id$")) for h in hashes
    )
    for h in hashes:
        assert VECTOR_HASH not in h and CLEAR_PASSWORD not in h and DISTRIBUTOR_PASSWORD not in h


def test_the_contract_shows_on_the_distributors_page(app, dbc, dataset):
    run_import(dataset)
    client = app.test_client()
    assert login(client, "/distributor/login", "dist-one", DISTRIBUTOR_PASSWORD).status_code == 302
    html = client.get("/distributor/").get_data(as_text=True)
    clear = models.Officer.get(models.Officer.user_code == "700001")
    assert f'<span data-status="active">{clear.full_name}</span>' in html


def test_hashing_in_a_process_pool(dbc, dataset):
    result = run_import(dataset, processes=2, pool_min_rows=0)
    assert result.counts[legacy.OFFICERS].imported == 10
    officer = models.Officer.get(models.Officer.user_code == "700002")
    assert models.accounts.verify_password(officer.password_hash, VECTOR_PASSWORD)[0]
    assert not models.accounts.verify_password(officer.password_hash, "12345679")[0]
    clear = models.Officer.get(models.Officer.user_code == "700001")
    assert models.accounts.verify_password(clear.password_hash, f"{CLEAR_PASSWORD}-1")[0]
    # Every hash came back to its own row, whatever the order the workers finished in.
    for officer in models.Officer.select().where(models.Officer.user_code != "700002"):
        number = int(officer.user_code) - 700000
        assert models.accounts.verify_password(officer.password_hash, f"{CLEAR_PASSWORD}-{number}")[0]


# ---------------------------------------------------------------------- CLI


def test_cli_dry_run_then_import(app, dbc, dataset, tmp_path):
    runner = app.test_cli_runner()
    before = table_counts()
    dry = runner.invoke(args=["import-legacy", str(dataset.directory), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "officers.csv: would import 10, already present 0, refused 8, with warnings 3" in dry.output
    assert (dataset.directory / "import-report.csv").exists()
    assert table_counts() == before
    report = tmp_path / "elsewhere" / "report.csv"
    real = runner.invoke(args=["import-legacy", str(dataset.directory), "--report", str(report)])
    assert real.exit_code == 0, real.output
    assert "officers.csv: imported 10, already present 0, refused 8, with warnings 3" in real.output
    assert problems_of(report) == expected_problems(dataset)


def test_cli_refuses_a_directory_with_a_missing_file_or_column(app, dbc, dataset):
    runner = app.test_cli_runner()
    (dataset.directory / legacy.COOPERATIONS).unlink()
    result = runner.invoke(args=["import-legacy", str(dataset.directory)])
    assert result.exit_code != 0 and "cooperations.csv" in result.output
    (dataset.directory / legacy.COOPERATIONS).write_text("branch_legacy_id,started_at\n", encoding="utf-8")
    result = runner.invoke(args=["import-legacy", str(dataset.directory)])
    assert result.exit_code != 0 and "officer_national_code" in result.output
    assert models.Officer.select().count() == 0


def test_a_row_with_a_wrong_number_of_columns_is_reported(dbc, dataset):
    path = dataset.directory / legacy.BRANCHES
    extra = "B10,D1,only three\nB11,D1,شعبه یازدهم,تهران,تهران,خیابان ولیعصر، کوچه هفتم، پلاک ۸,,\n"
    path.write_text(path.read_text(encoding="utf-8-sig") + extra, encoding="utf-8")
    run_import(dataset)
    assert (legacy.BRANCHES, 11, "wrong_column_count", "error") in problems_of(dataset.directory / "import-report.csv")
    # Empty trailing cells (as spreadsheets write them) are not a wrong count.
    assert models.Branch.get(models.Branch.legacy_id == "B11").name == "شعبه یازدهم"


def test_name_keys_ignore_letter_and_spacing_variants():
    assert (
        legacy.name_key("كارشناسي  ارشد") == legacy.name_key("کارشناسی\u200cارشد") == legacy.name_key(" کارشناسی ارشد ")
    )


@pytest.mark.parametrize(
    "fmt, password, salt, code",
    [
        ("2", "secret-1", "", "unknown_password_format"),
        ("", "secret-1", "", "unknown_password_format"),
        ("0", "", "", "missing_password"),
        ("1", "", VECTOR_SALT, "missing_password"),
        ("1", "not base64!", VECTOR_SALT, "invalid_password_hash"),
        ("1", VECTOR_HASH, "", "invalid_password_hash"),
        ("1", "AAAAAAAAAAAAAA==", VECTOR_SALT, "invalid_password_hash"),  # 10 bytes, not a SHA-1
        ("1", VECTOR_HASH, "A" * 120, "invalid_password_hash"),  # a salt far longer than ASP.NET's
    ],
)
def test_password_columns_that_cannot_be_imported(fmt, password, salt, code):
    problems = []
    assert legacy.password_job({"password_format": fmt, "password": password, "password_salt": salt}, problems) is None
    assert [p[1] for p in problems] == [code]


def test_the_wrapped_legacy_hash_verifies_like_wrap_legacy_hash():
    stored = legacy.stored_password("1", VECTOR_HASH, VECTOR_SALT)
    assert stored.startswith(models.accounts.LEGACY_PREFIX + VECTOR_SALT + "$$argon2id$v=19$m=8192,t=1,p=1$")
    ok, new_hash = models.accounts.verify_password(stored, VECTOR_PASSWORD)
    assert ok and new_hash.startswith("$argon2id$")
    assert models.accounts.verify_password(stored, "12345679") == (False, None)


def test_a_distributor_user_name_taken_in_the_new_system_is_reported(dbc, dataset):
    models.create_distributor("dist-one", "Kh0sh-Amad-2024", "شرکت دیگر", "company", "09121112233")
    run_import(dataset)
    D = legacy.DISTRIBUTORS
    problems = problems_of(dataset.directory / "import-report.csv")
    assert (D, dataset.line(D, "d1"), "username_taken", "error") in problems
    # Its branches and their contracts follow it into the report.
    assert (legacy.BRANCHES, dataset.line(legacy.BRANCHES, "b1"), "distributor_not_imported", "error") in problems
    assert (
        legacy.COOPERATIONS,
        dataset.line(legacy.COOPERATIONS, "ok_clear"),
        "branch_not_imported",
        "error",
    ) in problems
