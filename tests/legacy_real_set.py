"""A legacy export with each problem of real old data (issue 18), written in one of the
encodings old Iranian systems export, with the old system's Arabic letters and digits.
Shared by the tests of the import, its documents and the first login's confirmation."""

from __future__ import annotations

import csv
import io

from argon2 import PasswordHasher

import models
from helpers import national_code
from models import legacy

# Cheap argon2id for the imported passwords (the import profile is measured by the benchmark).
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORD = "Kohne-Ramz-1398"
FIELD = "مهندسی پزشکی"
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1256")


def officer(n, **overrides):
    row = {
        "user_code": f"8{n:05d}",
        "national_code": national_code(n * 104729 + 7),
        "birth_date": "1360/02/10",
        "first_name": "علی",
        "last_name": "کریمی",
        "father_name": "محمد",
        "gender": "مرد",
        "id_card_number": str(2000 + n),
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
        "password": f"{PASSWORD}-{n}",
        "password_salt": "",
        "qualified": "1",
    }
    row.update(overrides)
    return row


def distributor(legacy_id, username, **overrides):
    row = {
        "legacy_id": legacy_id,
        "name": f"شرکت پخش {legacy_id}",
        "kind": "شرکت",
        "national_id": "10101234567",
        "manager_name": "احمد رضایی",
        "manager_mobile": "09351234567",
        "username": username,
        "password_format": "0",
        "password": f"{PASSWORD}-{legacy_id}",
        "password_salt": "",
    }
    row.update(overrides)
    return row


def branch(legacy_id, distributor_id, **overrides):
    row = {
        "legacy_id": legacy_id,
        "distributor_legacy_id": distributor_id,
        "name": f"شعبه {legacy_id}",
        "province": "تهران",
        "city": "تهران",
        "address": "خیابان ولیعصر، نبش کوچه سوم، پلاک ۸",
    }
    row.update(overrides)
    return row


def old_spelling(text: str, encoding: str) -> str:
    """How the old system stored it: Arabic ي and ك; Arabic-Indic digits where the
    encoding has them (Windows-1256 has none: ASCII digits)."""
    text = text.replace("ی", "ي").replace("ک", "ك")
    digits = "۰۱۲۳۴۵۶۷۸۹"
    if encoding == "cp1256":
        return text.translate(str.maketrans(digits, "0123456789"))
    return text.translate(str.maketrans(digits, "٠١٢٣٤٥٦٧٨٩"))


class LegacySet:
    """The files of one legacy export, in one encoding; remembers each labelled row's line."""

    def __init__(self, directory, encoding="utf-8"):
        self.directory, self.encoding = directory, encoding
        self.lines, self.rows = {}, {}

    def write(self, name, rows, columns=None):
        columns = columns or (legacy.COLUMNS.get(name) or legacy.files.ALIAS_COLUMNS)
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for line, (label, row) in enumerate(rows, start=2):
            cells = [row.get(c, "") for c in columns]
            # Passwords, salts and user names are what they were, byte for byte.
            writer.writerow(
                [
                    cell if c in ("password", "password_salt", "username") else old_spelling(cell, self.encoding)
                    for c, cell in zip(columns, cells, strict=True)
                ]
            )
            self.lines[(name, label)], self.rows[(name, label)] = line, row
        (self.directory / name).write_bytes(buffer.getvalue().encode(self.encoding))

    def line(self, name, label):
        return self.lines[(name, label)]

    def report(self):
        with open(self.directory / "import-report.csv", encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    def problems(self):
        return {(r["file"], int(r["line"]), r["code"], r["severity"]) for r in self.report()}


O, D, B, C = legacy.OFFICERS, legacy.DISTRIBUTORS, legacy.BRANCHES, legacy.COOPERATIONS  # noqa: E741


def write_real_set(files: LegacySet) -> dict:
    """One officer per problem of real old data, each working at a branch."""
    o = {
        # Digits as the old forms took them: Arabic-Indic in the UTF files (ASCII in Windows-1256).
        "complete": officer(1, mobile="۰۹۱۲۰۰۰۰۰۰۱", birth_date="۱۳۶۰/۰۲/۱۰", postal_code="۱۳۱۴۵۶۷۸۹۰"),
        "short_address": officer(2, address="تهران"),
        "no_postal_code": officer(3, postal_code=""),
        "no_father": officer(4, father_name=""),
        "no_id_number": officer(5, id_card_number=""),
        "no_degree": officer(6, field_of_study="", degree_level=""),  # the 15-years-of-experience route
        "landline": officer(7, mobile="02188776655"),
        "unknown_city": officer(8, city="تهرانن"),
        "unqualified": officer(9, qualified="0"),
        "weak_password": officer(10, password="123"),
        "bad_checksum": officer(11, national_code="1234567890"),
        "no_password": officer(12, password=""),
    }
    files.write(O, list(o.items()))
    files.write(
        D,
        [
            ("d1", distributor("D1", "pakhsh-one")),
            ("no_mobile", distributor("D2", "pakhsh-two", manager_mobile="")),
        ],
    )
    branches = [(f"b{i}", branch(f"B{i}", "D1" if i % 2 else "D2")) for i in range(1, 11)]
    branches.append(("short", branch("B11", "D1", address="کوچه")))
    files.write(B, branches)
    working = ["complete", "short_address", "no_postal_code", "no_father", "no_id_number", "no_degree"]
    working += ["landline", "unknown_city", "unqualified", "weak_password"]
    files.write(
        C,
        [
            (
                label,
                {
                    "branch_legacy_id": f"B{i}",
                    "officer_national_code": o[label]["national_code"],
                    "started_at": "1399/07/01",
                },
            )
            for i, label in enumerate(working, start=1)
        ],
    )
    files.officers = o
    return o


def expected(files: LegacySet) -> set:
    W, E = "warning", "error"
    return {
        (O, files.line(O, "short_address"), "invalid_address", W),
        (O, files.line(O, "no_postal_code"), "missing_postal_code", W),
        (O, files.line(O, "no_father"), "missing_father_name", W),
        (O, files.line(O, "no_id_number"), "missing_id_card_number", W),
        (O, files.line(O, "no_degree"), "missing_field_of_study", W),
        (O, files.line(O, "no_degree"), "missing_degree_level", W),
        (O, files.line(O, "landline"), "invalid_mobile", W),
        (O, files.line(O, "unknown_city"), "unknown_city", W),
        (O, files.line(O, "bad_checksum"), "invalid_national_code", E),
        (O, files.line(O, "no_password"), "missing_password", E),
        (D, files.line(D, "no_mobile"), "missing_manager_mobile", W),
        (B, files.line(B, "short"), "invalid_address", W),
        (C, files.line(C, "unqualified"), "officer_not_qualified", W),
    }


def run(files, **kwargs):
    return legacy.import_legacy(files.directory, hasher=CHEAP, **kwargs)


def officer_row(label, files):
    return models.Officer.get(models.Officer.national_code == files.officers[label]["national_code"])
