"""A legacy data set for the import's tests: the four CSV files with good rows and one row of
each kind of problem, the report each must give, and how to read it back."""

from __future__ import annotations

import csv
import io

import jdatetime

import models
from helpers import national_code
from models import legacy

# The ASP.NET Membership test vector of the issue.
VECTOR_PASSWORD, VECTOR_SALT, VECTOR_HASH = "12345678", "UhVlqavmEX9CiKcUXkSwCw==", "h8A5hga0Cy93JsKxYnJl/U2AluU="
CLEAR_PASSWORD = "old-pass-1"
DISTRIBUTOR_PASSWORD = "dist-pass-1"
FIELD = "مهندسی پزشکی"

ALL_TABLES = (
    models.Officer,
    models.Distributor,
    models.Branch,
    models.Cooperation,
    models.RequestEvent,
    models.AuditLog,
    models.SmsOutbox,
    models.Notice,
)


class LegacyFiles:
    """Writes the four files; remembers each labelled row's physical line number."""

    def __init__(self, directory):
        self.directory = directory
        self.lines = {}  # (file, label) -> physical line
        self.rows = {}  # (file, label) -> row dict

    def write(self, name, rows, bom=True):
        columns = legacy.COLUMNS[name]
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        line = 2
        for label, row in rows:
            start = buffer.tell()
            writer.writerow([row.get(c, "") for c in columns])
            self.lines[(name, label)] = line
            self.rows[(name, label)] = row
            line += buffer.getvalue()[start:].count("\n")
        (self.directory / name).write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")

    def line(self, name, label):
        return self.lines[(name, label)]


def officer(n, **overrides):
    row = {
        "user_code": f"7{n:05d}",
        "national_code": national_code(n * 7919 + 13),
        "birth_date": "1365/04/12",
        "first_name": "رضا",
        "last_name": "کریمی",
        "father_name": "حسن",
        "gender": "male",
        "id_card_number": str(1000 + n),
        "mobile": f"0912{n:07d}",
        "phone": "",
        "email": "",
        "address": "تهران، خیابان آزادی، کوچه دوم، پلاک ۱۲",
        "postal_code": "1314567890",
        "province": "تهران",
        "city": "تهران",
        "field_of_study": FIELD,
        "degree_level": "کارشناسی",
        "password_format": "0",
        "password": f"{CLEAR_PASSWORD}-{n}",
        "password_salt": "",
        "qualified": "1",
    }
    row.update(overrides)
    return row


def distributor(legacy_id, username, **overrides):
    row = {
        "legacy_id": legacy_id,
        "name": f"شرکت تجهیزات {legacy_id}",
        "kind": "company",
        "national_id": "10101234567",
        "manager_name": "احمد رضایی",
        "manager_mobile": "09351234567",
        "username": username,
        "password_format": "0",
        "password": DISTRIBUTOR_PASSWORD,
        "password_salt": "",
    }
    row.update(overrides)
    return row


def branch(legacy_id, distributor_id, province="تهران", city="تهران"):
    return {
        "legacy_id": legacy_id,
        "distributor_legacy_id": distributor_id,
        "name": f"شعبه {legacy_id}",
        "province": province,
        "city": city,
        "address": "خیابان ولیعصر، نبش کوچه سوم، پلاک ۸",
    }


def contract(branch_id, officer_row, started_at="1400/01/15"):
    return {
        "branch_legacy_id": branch_id,
        "officer_national_code": officer_row["national_code"],
        "started_at": started_at,
    }


def bad_checksum(code):
    return code[:9] + str((int(code[9]) + 1) % 10)


def under_age_birth_date():
    today = jdatetime.date.today()
    return f"{today.year - 10}/01/01"


def write_dataset(directory) -> LegacyFiles:
    files = LegacyFiles(directory)
    same = national_code(424242)
    o = {
        "clear": officer(1),
        "aspnet": officer(
            2, password_format="1", password=VECTOR_HASH, password_salt=VECTOR_SALT, province="اصفهان", city="اصفهان"
        ),
        # Arabic ي/ك, a ZWNJ where the reference has a space, extra spaces, Persian digits.
        "arabic": officer(
            3,
            province="اصفهان",
            city="كاشان",
            field_of_study="مهندسي  پزشكي",
            degree_level="كارشناسي\u200cارشد",
            mobile="۰۹۱۲۳۴۵۶۷۸۹",
            address="اصفهان، کاشان، خیابان امیرکبیر،\nکوچه ۵، پلاک ۳",
            qualified="0",
        ),
        "bad_checksum": officer(4, national_code=bad_checksum(national_code(4 * 7919 + 13))),
        "same_digits": officer(5, national_code="1111111111"),
        "unknown_city": officer(6, city="شهر ناموجود"),
        "city_elsewhere": officer(7, province="تهران", city="اصفهان"),
        "bad_date": officer(8, birth_date="1402/12/30"),
        "under_age": officer(9, birth_date=under_age_birth_date()),
        "dup_code_a": officer(10, national_code=same),
        "dup_code_b": officer(11, national_code=same),
        "dup_user_a": officer(12, user_code="7999999"),
        "dup_user_b": officer(13, user_code="7999999"),
        "bad_format": officer(14, password_format="2"),
        "two_contracts": officer(15),
        "branch_a": officer(16),
        "branch_b": officer(17),
        "spare": officer(18),
    }
    files.write(legacy.OFFICERS, list(o.items()), bom=False)
    files.write(
        legacy.DISTRIBUTORS,
        [
            ("d1", distributor("D1", "dist-one")),
            (
                "d2",
                distributor(
                    "D2",
                    "dist-two",
                    kind="صنف",
                    password_format="1",
                    password=VECTOR_HASH,
                    password_salt=VECTOR_SALT,
                    manager_mobile="+98 935 765 4321",
                ),
            ),
            ("bad_kind", distributor("D3", "dist-three", kind="تعاونی")),
        ],
    )
    files.write(
        legacy.BRANCHES,
        [
            ("b1", branch("B1", "D1")),
            ("b2", branch("B2", "D2", province="اصفهان", city="اصفهان")),
            ("b3", branch("B3", "D1")),
            ("no_distributor", branch("B4", "D-missing")),
            ("b5", branch("B5", "D1")),
            ("b6", branch("B6", "D2")),
            ("b7", branch("B7", "D1")),
            ("refused_distributor", branch("B8", "D3")),
            ("b9", branch("B9", "D1")),
        ],
    )
    files.write(
        legacy.COOPERATIONS,
        [
            ("ok_clear", contract("B1", o["clear"])),
            ("ok_aspnet", contract("B2", o["aspnet"], started_at="۱۳۹۹/۰۷/۰۱")),
            ("unqualified", contract("B3", o["arabic"])),
            ("failed_officer", contract("B9", o["unknown_city"])),
            ("two_a", contract("B5", o["two_contracts"])),
            ("two_b", contract("B6", o["two_contracts"])),
            ("branch_a", contract("B7", o["branch_a"])),
            ("branch_b", contract("B7", o["branch_b"])),
            ("failed_branch", contract("B4", o["spare"])),
        ],
    )
    files.officers = o
    return files


def expected_problems(files):
    """(file, line, code, severity): only what makes a person or an account unknowable
    refuses a row (``error``); the rest is imported as it is (``warning``)."""
    O, D, B, C = legacy.OFFICERS, legacy.DISTRIBUTORS, legacy.BRANCHES, legacy.COOPERATIONS  # noqa: E741
    E, W = "error", "warning"
    return {
        (O, files.line(O, "bad_checksum"), "invalid_national_code", E),
        (O, files.line(O, "same_digits"), "invalid_national_code", E),
        (O, files.line(O, "unknown_city"), "unknown_city", W),
        (O, files.line(O, "city_elsewhere"), "city_not_in_province", W),
        (O, files.line(O, "bad_date"), "invalid_birth_date", E),
        (O, files.line(O, "under_age"), "under_age", W),
        (O, files.line(O, "dup_code_a"), "duplicate_national_code", E),
        (O, files.line(O, "dup_code_b"), "duplicate_national_code", E),
        (O, files.line(O, "dup_user_a"), "duplicate_user_code", E),
        (O, files.line(O, "dup_user_b"), "duplicate_user_code", E),
        (O, files.line(O, "bad_format"), "unknown_password_format", E),
        (D, files.line(D, "bad_kind"), "invalid_kind", E),
        (B, files.line(B, "no_distributor"), "distributor_not_imported", E),
        (B, files.line(B, "refused_distributor"), "distributor_not_imported", E),
        # The old system had no qualification review: the contract migrates active.
        (C, files.line(C, "unqualified"), "officer_not_qualified", W),
        (C, files.line(C, "two_a"), "conflict_two_active_contracts", E),
        (C, files.line(C, "two_b"), "conflict_two_active_contracts", E),
        (C, files.line(C, "branch_a"), "conflict_branch_two_officers", E),
        (C, files.line(C, "branch_b"), "conflict_branch_two_officers", E),
        (C, files.line(C, "failed_branch"), "branch_not_imported", E),
    }


EXPECTED_COUNTS = {  # file: (imported, refused)
    legacy.OFFICERS: (10, 8),
    legacy.DISTRIBUTORS: (2, 1),
    legacy.BRANCHES: (7, 2),
    legacy.COOPERATIONS: (4, 5),
}


def read_report(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows


def problems_of(path):
    return {(r["file"], int(r["line"]), r["code"], r["severity"]) for r in read_report(path)}


def table_counts():
    return {model.__name__: model.select().count() for model in ALL_TABLES}
