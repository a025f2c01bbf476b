"""Migration of the old system's CSV files: officers, distributors, branches, contracts.

``import_legacy(directory)`` reads ``distributors.csv``, ``branches.csv``,
``officers.csv`` and ``cooperations.csv`` (columns in ``CONTRACT.md``), checks
every row with the same cleaners as the public forms
(:func:`models.officer_rules.clean_fields`), writes what is valid and lists every
row it refuses, with its physical line number and reason, in a report CSV
(``file, line, key, reason, code``; the reason in Persian, the code in English).
No Flask here: the CLI (``flask --app app import-legacy``) only draws the progress
bar and prints the summary.

Rules
-----
* Nothing is guessed. Two rows with one national code (or one user code, legacy id,
  user name) are both refused; an officer in two contracts or a branch with two
  officers refuses all of those contract rows. A contract whose officer or branch
  was refused or is missing is refused too.
* Idempotent: a row whose key is already in the database (officer: same national
  code *and* user code; distributor and branch: same legacy id; contract: the same
  officer active at the same branch) is counted as "already present" and skipped.
  A second run therefore imports nothing and reports the same refusals.
* Crash-safe: rows are written in batches (``batch_size``, default 1,000), one
  transaction per batch, with ``INSERT ... ON CONFLICT DO NOTHING`` and a read-back
  of what was written; a re-run after a crash completes the import without
  duplicates (what was committed is "already present", the rest is imported).
* Bounded memory: the files are streamed. A first pass over each file keeps only
  keys (e.g. the national codes seen, then just the duplicated ones); the only
  whole-file structures are dicts/sets of keys (national code -> qualified flag
  for the contract phase), a few tens of MB for 200,000 officers.
* ``dry_run=True`` runs every check (files, rows, duplicates, database conflicts,
  cross-file references, as if the earlier files had been imported) and writes the
  report, but writes nothing to the database and hashes no password.

Passwords and the import hashing profile (a performance decision)
-----------------------------------------------------------------
The production profile (argon2id m=19 MiB, t=2, ``accounts.PASSWORD_HASHER``)
costs ~40 ms per hash: 200,000 officers would take more than an hour on a
two-core server. Imported hashes therefore use :data:`IMPORT_HASHER`, still
argon2id but with m=8 MiB, t=1 (~6 ms), computed in a ``multiprocessing`` pool
(one process per CPU) a batch at a time while the main process validates the
next batch. These hashes are short-lived: argon2 reads the parameters from the
hash itself, so :func:`models.accounts.verify_password` verifies them, reports
``check_needs_rehash`` (the parameters differ from production) and the first
successful login replaces the hash with a production one.

* ``password_format=0`` (clear): stored as ``IMPORT_HASHER.hash(password)``.
* ``password_format=1`` (ASP.NET Membership "Hashed", base64 SHA-1 of salt +
  UTF-16LE password): stored as ``LEGACY_PREFIX + salt + "$" +
  IMPORT_HASHER.hash(legacy_hash)`` -- the same shape as
  :func:`models.accounts.wrap_legacy_hash`, whose verification re-computes the
  SHA-1 from the typed password and checks it against the argon2id wrapper; the
  first successful login replaces it with a plain production argon2id hash.
  The bare SHA-1 never reaches the database.
* Any other format, or an empty password, refuses the row.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as _dt
import multiprocessing
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from peewee import chunked

from persian import (
    TEHRAN,
    digits_only,
    is_valid_national_code,
    normalize_mobile,
    normalize_national_code,
    normalize_text,
    parse_jalali_date,
    to_ascii_digits,
)

from .accounts import LEGACY_PREFIX, Distributor, Officer, audit
from .base import N_, SYSTEM, DomainError, db, translate, utcnow
from .cooperation import Branch, Cooperation
from .officer_rules import CLEANERS, REGISTRATION_FIELDS, ValidationFailed, clean_city, clean_fields
from .reference import City, DegreeLevel, FieldOfStudy, Province, check_study, clean_district, route_id
from .review import RequestEvent

# argon2id for imported hashes only; replaced by the production profile at the first login.
IMPORT_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)

DISTRIBUTORS, BRANCHES, OFFICERS, COOPERATIONS = (
    "distributors.csv",
    "branches.csv",
    "officers.csv",
    "cooperations.csv",
)
COLUMNS = {
    OFFICERS: (
        "user_code",
        "national_code",
        "birth_date",
        "first_name",
        "last_name",
        "father_name",
        "gender",
        "id_card_number",
        "mobile",
        "phone",
        "email",
        "address",
        "postal_code",
        "province",
        "city",
        "field_of_study",
        "degree_level",
        "password_format",
        "password",
        "password_salt",
        "qualified",
    ),
    DISTRIBUTORS: (
        "legacy_id",
        "name",
        "kind",
        "national_id",
        "manager_name",
        "manager_mobile",
        "username",
        "password_format",
        "password",
        "password_salt",
    ),
    BRANCHES: ("legacy_id", "distributor_legacy_id", "name", "province", "city", "address"),
    COOPERATIONS: ("branch_legacy_id", "officer_national_code", "started_at"),
}
# Columns a file may have (the old system's exports differ): read when present.
OPTIONAL_COLUMNS = {OFFICERS: ("district",)}
# The order of the phases: a later file refers to the earlier ones.
FILE_ORDER = (DISTRIBUTORS, BRANCHES, OFFICERS, COOPERATIONS)
REPORT_COLUMNS = ("file", "line", "key", "reason", "code")
DEFAULT_BATCH_SIZE = 1000
# Below this many passwords to hash, a pool costs more to start than it saves.
DEFAULT_POOL_MIN_ROWS = 2000


class LegacyFileError(DomainError):
    """A file cannot be read at all (missing, wrong header, not UTF-8): nothing is imported."""


# ------------------------------------------------------------------ messages


def message(msgid: str, **params) -> str:
    """The Persian text of a message id (the report is in Persian, like SMS and notices)."""
    return translate(msgid, **params)


# Codes for the cleaners' messages (the forms' msgids); anything else is invalid_<field>.
_CLEANER_CODES = {
    "This field is required.": "missing_{field}",
    "This national code is not valid; check its ten digits.": "invalid_national_code",
    "A technical officer must be at least 18 years old.": "under_age",
    "The birth date cannot be in the future.": "birth_date_in_future",
    "The city %(city)s is not in the province %(province)s.": "city_not_in_province",
    "The field of study %(name)s is not accepted for technical officers under the current rules.": "ineligible_field_of_study",
    "The degree level %(name)s is not accepted for technical officers under the current rules.": "ineligible_degree_level",
    "The field of study %(name)s is accepted only at these degree levels: %(degrees)s.": "field_degree_not_allowed",
    "%(city)s has no municipal district %(district)s.": "unknown_district",
    "The city %(city)s has no municipal districts to choose; leave the district empty.": "district_not_expected",
}


def _cleaner_code(field_name: str, msgid: str) -> str:
    return _CLEANER_CODES.get(msgid, "invalid_{field}").format(field=field_name)


# ------------------------------------------------------------ reference names

_NAME_NOISE = re.compile(r"[\s\u200c\u200d\u200e\u200f\u061c\u00a0]+")


def name_key(value) -> str:
    """A comparison key for a Persian name: ي/ك/ى mapped, digits ASCII, ZWNJ and spaces removed."""
    return _NAME_NOISE.sub("", normalize_text(value))


class ReferenceIndex:
    """Provinces, cities, fields and degrees by Persian name: a few hundred rows, read once."""

    def __init__(self):
        self.provinces = {name_key(p.name): p.id for p in Province.select(Province.id, Province.name)}
        self.city_in_province, self.city_anywhere, self.city_university = {}, {}, {}
        for city in City.select(City.id, City.name, City.province, City.university).order_by(City.id):
            key = name_key(city.name)
            self.city_in_province[(city.province_id, key)] = city.id
            self.city_anywhere.setdefault(key, city.id)
            self.city_university[city.id] = city.university_id
        self.fields = {name_key(f.name): f.id for f in FieldOfStudy.select(FieldOfStudy.id, FieldOfStudy.name)}
        self.degrees = {name_key(d.name): d.id for d in DegreeLevel.select(DegreeLevel.id, DegreeLevel.name)}
        self._cleaned = {}

    def clean(self, name, value, province=None):
        """(row, None) or (None, (msgid, params)): the forms' cleaner, once per distinct value."""
        key = (name, value, province.id if province is not None else None)
        if key not in self._cleaned:
            try:
                if name == "city":
                    self._cleaned[key] = (clean_city(value, province), None)
                else:
                    self._cleaned[key] = (CLEANERS[name](value), None)
            except DomainError as error:
                self._cleaned[key] = (None, (error.msgid, error.params))
        return self._cleaned[key]

    def city(self, name, province_id):
        """The city's id: the one in the province if there is one, else any city of that name
        (so that the form's cleaner reports "not in the province"), else None."""
        key = name_key(name)
        return self.city_in_province.get((province_id, key)) or self.city_anywhere.get(key)


_UNKNOWN_REFERENCE = {
    "province": N_("No province named %(name)s in the reference data."),
    "city": N_("No city named %(name)s in the reference data."),
    "field_of_study": N_("No field of study named %(name)s in the reference data."),
    "degree_level": N_("No degree level named %(name)s in the reference data."),
}


def _resolve_places(
    row: dict, ref: ReferenceIndex, data: dict, fields: list, problems: list, with_study: bool = True
) -> None:
    """Replace Persian names by ids in ``data`` for the form cleaners; a missing or unknown
    name is a problem of its own and its field is left out of the cleaning."""
    lookups = [("province", lambda v: ref.provinces.get(name_key(v)))]
    if with_study:
        lookups += [
            ("field_of_study", lambda v: ref.fields.get(name_key(v))),
            ("degree_level", lambda v: ref.degrees.get(name_key(v))),
        ]
    lookups.append(("city", lambda v: ref.city(v, int(data["province"]) if "province" in fields else None)))
    for name, lookup in lookups:
        value = normalize_text(row.get(name))
        found = lookup(value) if value else None
        if not value:
            problems.append((name, f"missing_{name}", N_("This field is required."), {}))
        elif found is None:
            problems.append((name, f"unknown_{name}", _UNKNOWN_REFERENCE[name], {"name": value}))
        else:
            data[name] = str(found)
            continue
        fields.remove(name)


REFERENCE_FIELDS = ("province", "city", "field_of_study", "degree_level")


def clean_row(ref: ReferenceIndex, data: dict, fields: list, problems: list) -> dict:
    """Clean ``fields`` of ``data`` with the forms' cleaners; add a problem per bad field.

    The free fields go through :func:`clean_fields` row by row. The reference fields
    (ids by then) go through the very same cleaners (``CLEANERS[...]``, ``clean_city``),
    but once per distinct value: their answer depends only on the value and the
    reference rows, and a database query per row and field would cost more than
    the rest of the validation together."""
    plain = [name for name in fields if name not in REFERENCE_FIELDS and name != "district"]
    try:
        cleaned = clean_fields(data, plain)
    except ValidationFailed as failed:
        cleaned = {}
        for name in plain:
            if name in failed.errors:
                msgid, params = failed.errors[name]
                problems.append((name, _cleaner_code(name, msgid), msgid, params))
    for name in REFERENCE_FIELDS:
        if name not in fields:
            continue
        province = cleaned.get("province") if name == "city" else None
        value, error = ref.clean(name, data.get(name, ""), province)
        if error is None:
            cleaned[name] = value
        else:
            problems.append((name, _cleaner_code(name, error[0]), error[0], error[1]))
    _clean_district_and_study(ref, data, fields, cleaned, problems)
    return cleaned


def _once(ref, key, check):
    """``check()``'s value or DomainError, computed once per run for each key (a reference
    answer: it depends on the reference rows only, not on the row being imported)."""
    answers = ref.__dict__.setdefault("_answers", {})
    if key not in answers:
        try:
            answers[key] = (check(), None)
        except DomainError as error:
            answers[key] = (None, error)
    value, error = answers[key]
    if error is not None:
        raise error
    return value


def _clean_district_and_study(ref, data: dict, fields: list, cleaned: dict, problems: list) -> None:
    """The optional district column (a Tehran officer of the old system without one is imported
    without it and asked at login) and the field x degree matrix, as the forms check them."""
    if "district" in fields and "city" in cleaned:
        value, city = normalize_text(data.get("district", "")), cleaned["city"]
        try:
            cleaned["district"] = _once(
                ref, ("district", city.id, value), lambda: clean_district(city, value) if value else None
            )
        except DomainError as error:
            problems.append(("district", _cleaner_code("district", error.msgid), error.msgid, error.params))
    if "field_of_study" in cleaned and "degree_level" in cleaned:
        field, degree = cleaned["field_of_study"], cleaned["degree_level"]
        try:
            _once(ref, ("study", field.id, degree.id), lambda: check_study(field, degree))
        except DomainError as error:
            problems.append(("degree_level", _cleaner_code("degree_level", error.msgid), error.msgid, error.params))


# ----------------------------------------------------------------- passwords


def _password_job(row: dict, problems: list):
    """(format, secret, salt) to hash, or None with a problem added."""
    fmt = to_ascii_digits(row.get("password_format", "")).strip()
    password, salt = row.get("password", ""), (row.get("password_salt") or "").strip()
    if fmt not in ("0", "1"):
        problems.append(
            (
                "password_format",
                "unknown_password_format",
                N_("Unknown password format %(format)s: only 0 (clear) and 1 (hashed) can be imported."),
                {"format": fmt or "-"},
            )
        )
        return None
    if not password:
        problems.append(("password", "missing_password", N_("The password is empty."), {}))
        return None
    if fmt == "0":
        return ("0", password, "")
    password = password.strip()
    try:
        digest = base64.b64decode(password, validate=True)
        # ASP.NET salts are 16 bytes; a bound keeps the stored string within its column.
        salt_ok = 0 < len(base64.b64decode(salt, validate=True)) <= 64
    except (binascii.Error, ValueError):
        digest, salt_ok = b"", False
    if len(digest) != 20 or not salt_ok:
        problems.append(
            (
                "password",
                "invalid_password_hash",
                N_("The password hash or its salt is not valid base64 of the expected length."),
                {},
            )
        )
        return None
    return ("1", password, salt)


def stored_password(fmt: str, secret: str, salt: str, hasher: PasswordHasher = IMPORT_HASHER) -> str:
    """What the database keeps for a legacy password (see the module's docstring)."""
    if fmt == "0":
        return hasher.hash(secret)
    return LEGACY_PREFIX + salt + "$" + hasher.hash(secret)


_WORKER_HASHER = IMPORT_HASHER


def _init_worker(hasher_params):
    global _WORKER_HASHER
    _WORKER_HASHER = PasswordHasher(**hasher_params)


def _hash_chunk(jobs):
    return [stored_password(fmt, secret, salt, _WORKER_HASHER) for fmt, secret, salt in jobs]


class _Done:
    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


class _Hashing:
    """Hashes a batch's passwords in a process pool (started on first use) or inline."""

    def __init__(self, hasher: PasswordHasher, processes: int, use_pool: bool):
        self.hasher, self.processes, self.use_pool = hasher, max(1, processes), use_pool
        self.pool = None

    def submit(self, jobs):
        if not jobs:
            return _Done([])
        if not self.use_pool:
            return _Done(_hash_chunk_with(self.hasher, jobs))
        if self.pool is None:
            params = {
                "time_cost": self.hasher.time_cost,
                "memory_cost": self.hasher.memory_cost,
                "parallelism": self.hasher.parallelism,
                "hash_len": self.hasher.hash_len,
                "salt_len": self.hasher.salt_len,
            }
            # spawn: a fresh interpreter, so no database connection or lock is inherited.
            self.pool = multiprocessing.get_context("spawn").Pool(
                self.processes, initializer=_init_worker, initargs=(params,)
            )
        size = max(1, -(-len(jobs) // (self.processes * 4)))
        pending = self.pool.map_async(_hash_chunk, list(chunked(jobs, size)))
        return _Flatten(pending)

    def close(self, failed: bool = False):
        if self.pool is not None:
            if failed:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()
            self.pool = None


class _Flatten:
    def __init__(self, pending):
        self.pending = pending

    def get(self):
        return [h for chunk in self.pending.get() for h in chunk]


def _hash_chunk_with(hasher, jobs):
    return [stored_password(fmt, secret, salt, hasher) for fmt, secret, salt in jobs]


# -------------------------------------------------------------------- files


def _open(path: Path):
    return open(path, encoding="utf-8-sig", newline="")


def _check_header(path: Path, name: str) -> list[str]:
    if not path.is_file():
        raise LegacyFileError(N_("The file %(file)s is missing."), file=name)
    try:
        with _open(path) as handle:
            header = next(csv.reader(handle), None) or []
    except (UnicodeDecodeError, csv.Error):
        raise LegacyFileError(
            N_("The file %(file)s is not a UTF-8 CSV file (near line %(line)s)."), file=name, line=1
        ) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS[name] if c not in names]
    if missing:
        raise LegacyFileError(
            N_("The file %(file)s lacks the columns: %(columns)s."), file=name, columns=", ".join(missing)
        )
    return names


def _rows(path: Path, name: str):
    """(physical line where the row starts, {column: value}, None) for each row; a row with
    the wrong number of columns comes as (line, None, (found, expected))."""
    header = _check_header(path, name)
    positions = {
        c: header.index(c) for c in COLUMNS[name] + tuple(c for c in OPTIONAL_COLUMNS.get(name, ()) if c in header)
    }
    line = 1
    try:
        with _open(path) as handle:
            reader = csv.reader(handle)
            next(reader)
            last = reader.line_num
            for raw in reader:
                start, last = last + 1, reader.line_num
                line = start
                if not any(value.strip() for value in raw):
                    continue  # a blank line is not a row
                if len(raw) > len(header) and not any(v.strip() for v in raw[len(header) :]):
                    raw = raw[: len(header)]  # empty trailing cells, as spreadsheets write them
                if len(raw) != len(header):
                    yield start, None, (len(raw), len(header))
                else:
                    yield start, {c: raw[i] for c, i in positions.items()}, None
    except (UnicodeDecodeError, csv.Error):
        raise LegacyFileError(
            N_("The file %(file)s is not a UTF-8 CSV file (near line %(line)s)."), file=name, line=line
        ) from None


def count_rows(directory) -> int:
    """About how many rows the four files hold (physical lines minus headers), for a progress bar."""
    return sum(_count_lines(Path(directory) / name) for name in FILE_ORDER)


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, lines + (last != b"\n") - 1)


def _key(value) -> str:
    return to_ascii_digits(normalize_text(value)).replace(" ", "")


_USER_CODE_RE = re.compile(r"[0-9A-Za-z._-]{1,12}")


def _duplicates(path: Path, name: str, key_functions: dict) -> dict:
    """First pass: for each key kind, {key: [lines]} of the keys on more than one row.
    Only the keys seen are held (a set/dict of short strings), never the rows."""
    seen = {kind: {} for kind in key_functions}
    duplicated = {kind: {} for kind in key_functions}
    for line, row, _widths in _rows(path, name):
        if row is None:
            continue
        for kind, function in key_functions.items():
            key = function(row)
            if not key:
                continue
            first = seen[kind].setdefault(key, line)
            if first != line:
                duplicated[kind].setdefault(key, [first]).append(line)
    return duplicated


def _lines(lines) -> str:
    return ", ".join(str(n) for n in lines)


# ------------------------------------------------------------------- report


class Report:
    """The report CSV (UTF-8 with BOM, formula-safe), written as the import goes.

    Entries wait in a small buffer until their batch is written, so that a row refused
    at write time still lands in line order: the file is sorted by file, then line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(REPORT_COLUMNS)
        self.entries = 0
        self.buffer = []

    def add(self, file: str, line: int, key: str, code: str, msgid: str, params=None):
        self.buffer.append(
            (line, len(self.buffer), [file, line, _safe(key), _safe(message(msgid, **(params or {}))), code])
        )
        self.entries += 1

    def release(self, up_to_line=None):
        """Write the buffered entries of the lines up to ``up_to_line`` (all when None)."""
        ready = [e for e in self.buffer if up_to_line is None or e[0] <= up_to_line]
        if ready:
            self.buffer = [e for e in self.buffer if up_to_line is not None and e[0] > up_to_line]
            self.writer.writerows(entry for _line, _seq, entry in sorted(ready))
            self.handle.flush()

    def close(self):
        self.release()
        self.handle.close()


def _safe(value) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ------------------------------------------------------------------ results


@dataclass
class FileCounts:
    imported: int = 0
    present: int = 0
    refused: int = 0


@dataclass
class ImportResult:
    dry_run: bool
    report_path: Path
    counts: dict = field(default_factory=lambda: {name: FileCounts() for name in FILE_ORDER})
    problems: int = 0
    seconds: dict = field(default_factory=dict)  # wall time per phase ("scan" = the first passes)

    def summary_lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{name}: {verb} {c.imported}, already present {c.present}, refused {c.refused}"
            for name, c in self.counts.items()
        ]
        lines.append(f"report: {self.report_path} ({self.problems} problems)")
        if self.dry_run:
            lines.append("dry run: the database was not changed")
        return lines


@dataclass
class _Candidate:
    line: int
    key: str
    values: dict
    password: tuple | None = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------- import


def _write_batch(phase, candidates) -> set:
    """Write one batch in its own transaction; return the keys that are now in the database.
    A module-level function so that a test can make it fail half-way."""
    with db.atomic():
        return phase.insert(candidates)


class _Import:
    def __init__(self, directory, report_path, dry_run, batch_size, progress, hasher, processes, pool_min_rows):
        self.directory = Path(directory)
        self.dry_run = dry_run
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.hasher = hasher
        self.processes = processes or os.cpu_count() or 1
        self.pool_min_rows = pool_min_rows
        self.result = ImportResult(dry_run=dry_run, report_path=Path(report_path))
        self.now = utcnow()
        self.today = _dt.datetime.now(TEHRAN).date()  # the contracts' dates are Tehran dates
        self._ticks = 0
        # Keys of what is in the database or would be after this run (dry run), per file.
        self.distributors_ok: set[str] = set()
        self.distributors_refused: set[str] = set()
        self.branches_ok: set[str] = set()
        self.branches_refused: set[str] = set()
        self.officers_ok: dict[str, bool] = {}  # national code -> qualified
        self.officers_refused: set[str] = set()

    # -- plumbing
    def tick(self, n=1):
        self._ticks += n
        if self._ticks >= 500:
            self.flush_ticks()

    def flush_ticks(self):
        if self.progress and self._ticks:
            self.progress(self._ticks)
        self._ticks = 0

    def refuse(self, file, line, key, problems):
        for _field, code, msgid, params in problems:
            self.report.add(file, line, key, code, msgid, params)
        self.result.counts[file].refused += 1

    def run(self) -> ImportResult:
        started = time.perf_counter()
        paths = {name: self.directory / name for name in FILE_ORDER}
        for name, path in paths.items():
            _check_header(path, name)
        # First passes (also prove that every file decodes before anything is written).
        self.duplicates = {
            DISTRIBUTORS: _duplicates(
                paths[DISTRIBUTORS],
                DISTRIBUTORS,
                {"legacy_id": lambda r: _key(r["legacy_id"]), "username": lambda r: r["username"].strip()},
            ),
            BRANCHES: _duplicates(paths[BRANCHES], BRANCHES, {"legacy_id": lambda r: _key(r["legacy_id"])}),
            OFFICERS: _duplicates(
                paths[OFFICERS],
                OFFICERS,
                {
                    "national_code": lambda r: normalize_national_code(r["national_code"]),
                    "user_code": lambda r: _key(r["user_code"]),
                },
            ),
            COOPERATIONS: _duplicates(
                paths[COOPERATIONS],
                COOPERATIONS,
                {
                    "officer": lambda r: normalize_national_code(r["officer_national_code"]),
                    "branch": lambda r: _key(r["branch_legacy_id"]),
                },
            ),
        }
        self.ref = ReferenceIndex()
        self.result.seconds["scan"] = time.perf_counter() - started
        passwords = _count_lines(paths[OFFICERS]) + _count_lines(paths[DISTRIBUTORS])
        self.hashing = _Hashing(
            self.hasher, self.processes, use_pool=self.processes > 1 and passwords >= self.pool_min_rows
        )
        self.report = Report(self.result.report_path)
        failed = True
        try:
            for phase in (_DistributorPhase(self), _BranchPhase(self), _OfficerPhase(self), _CooperationPhase(self)):
                started = time.perf_counter()
                self._run_phase(phase)
                self.result.seconds[phase.file] = time.perf_counter() - started
            failed = False
        finally:
            self.hashing.close(failed=failed)
            self.flush_ticks()
            self.result.problems = self.report.entries
            self.report.close()
        if not self.dry_run:
            with db.atomic():
                audit(
                    SYSTEM,
                    "legacy_import",
                    object_type="legacy_import",
                    detail="; ".join(self.result.summary_lines()[: len(FILE_ORDER)]),
                )
        return self.result

    def _run_phase(self, phase):
        pending = deque()
        batch, rows_read, line = [], 0, 0
        for line, row, widths in _rows(self.directory / phase.file, phase.file):
            self.tick()
            rows_read += 1
            if row is None:
                self.refuse(
                    phase.file,
                    line,
                    "",
                    [
                        (
                            None,
                            "wrong_column_count",
                            N_("This row has %(found)s columns; the header has %(expected)s."),
                            {"found": widths[0], "expected": widths[1]},
                        )
                    ],
                )
            else:
                candidate = phase.validate(line, row)
                if candidate is not None:
                    batch.append(candidate)
            # A batch per batch_size rows read, so that the report's buffer stays small
            # even when most rows are refused.
            if rows_read >= self.batch_size:
                self._dispatch(phase, batch, pending, line)
                batch, rows_read = [], 0
        if batch or rows_read:
            self._dispatch(phase, batch, pending, line)
        while pending:
            self._flush(phase, *pending.popleft())
        self.report.release()

    def _dispatch(self, phase, batch, pending, last_line):
        new = phase.precheck(batch) if batch else []
        counts = self.result.counts[phase.file]
        if self.dry_run:
            for candidate in new:
                phase.accept(candidate)
            counts.imported += len(new)
            self.report.release(last_line)
            return
        jobs = [c.password for c in new] if phase.hashes else []
        pending.append((new, self.hashing.submit(jobs), last_line))
        # One batch hashes in the pool while the next one is being validated.
        while len(pending) > 1:
            self._flush(phase, *pending.popleft())

    def _flush(self, phase, new, hashed, last_line):
        if phase.hashes:
            for candidate, stored in zip(new, hashed.get()):
                candidate.values["password_hash"] = stored
        written = _write_batch(phase, new) if new else set()
        counts = self.result.counts[phase.file]
        for candidate in new:
            if candidate.key in written:
                phase.accept(candidate)
                counts.imported += 1
            else:
                phase.reject(candidate)
                self.refuse(
                    phase.file,
                    candidate.line,
                    candidate.key,
                    [
                        (
                            None,
                            "conflict_concurrent_write",
                            N_("The row could not be saved: a conflicting record was written meanwhile."),
                            {},
                        )
                    ],
                )
        self.report.release(last_line)


def _select_in(model, columns, conditions, extra=None) -> list:
    """Rows matching any of ``column IN values``: one indexed query per condition (a single
    query with OR makes SQLite scan the table, which is quadratic over the batches)."""
    found = {}
    for column, values in conditions:
        # At most 900 values per statement: old SQLite builds bind 999 parameters at most.
        for chunk in chunked(list(values), 900):
            query = model.select(model.id, *columns).where(column.in_(chunk))
            if extra is not None:
                query = query.where(extra)
            for row in query:
                found[row.id] = row
    return list(found.values())


def _insert(model, rows: list[dict]) -> None:
    if not rows:
        return
    # SQLite's oldest builds allow 999 bound parameters per statement.
    size = max(1, 999 // len(rows[0]))
    for chunk in chunked(rows, size):
        model.insert_many(chunk).on_conflict_ignore().execute()


class _Phase:
    file = ""
    hashes = False

    def __init__(self, run: _Import):
        self.run = run
        self.dups = run.duplicates[self.file]

    def legacy_id_problems(self, legacy_id) -> list:
        """A distributor's or branch's legacy id: present, at most 40 characters, unique in its file."""
        if not legacy_id or len(legacy_id) > 40:
            return [
                ("legacy_id", "invalid_legacy_id", N_("The legacy id is missing or longer than 40 characters."), {})
            ]
        dup = self.duplicate_problem(
            "legacy_id", legacy_id, N_("Several rows have this legacy id (lines %(lines)s); none of them was imported.")
        )
        return [dup] if dup else []

    def duplicate_problem(self, kind, key, msgid):
        lines = self.dups[kind].get(key)
        if lines:
            return (kind, f"duplicate_{kind}", msgid, {"lines": _lines(lines)})
        return None

    def reject(self, candidate):
        pass


class _DistributorPhase(_Phase):
    file = DISTRIBUTORS
    hashes = True

    def validate(self, line, row):
        legacy_id = _key(row["legacy_id"])
        problems = self.legacy_id_problems(legacy_id)
        username = row["username"].strip()
        if not username or len(username) > 60:
            problems.append(
                ("username", "invalid_username", N_("The user name is missing or longer than 60 characters."), {})
            )
        else:
            dup = self.duplicate_problem(
                "username",
                username,
                N_("Several rows have this user name (lines %(lines)s); none of them was imported."),
            )
            if dup:
                problems.append(dup)
        name = normalize_text(row["name"])
        if not 2 <= len(name) <= 200:
            problems.append(("name", "invalid_name", N_("Write the distributor's name (2 to 200 characters)."), {}))
        kind = {"company": "company", "guild": "guild", "شرکت": "company", "صنف": "guild"}.get(
            normalize_text(row["kind"]).lower()
        )
        if kind is None:
            problems.append(("kind", "invalid_kind", N_("The kind must be company or guild (شرکت or صنف)."), {}))
        national_id = digits_only(row["national_id"])
        if len(national_id) > 20 or (national_id and not national_id.isdigit()):
            problems.append(("national_id", "invalid_national_id", N_("The national id has at most 20 digits."), {}))
        manager_name = normalize_text(row["manager_name"])[:120]
        mobile = normalize_mobile(row["manager_mobile"])
        if not mobile:
            problems.append(
                ("manager_mobile", "invalid_manager_mobile", N_("Enter a mobile number like 09121234567."), {})
            )
        password = _password_job(row, problems)
        if problems:
            self.run.refuse(self.file, line, legacy_id or username, problems)
            if legacy_id:
                self.run.distributors_refused.add(legacy_id)
            return None
        return _Candidate(
            line,
            legacy_id,
            {
                "username": username,
                "password_hash": "",
                "name": name,
                "kind": kind,
                "national_id": national_id,
                "manager_name": manager_name,
                "manager_mobile": mobile,
                "legacy_id": legacy_id,
                "is_active": True,
                "created_at": self.run.now,
            },
            password,
        )

    def precheck(self, batch):
        ids = [c.key for c in batch]
        usernames = [c.values["username"] for c in batch]
        # Two queries rather than one with OR, which would not use the indexes.
        existing = _select_in(
            Distributor,
            (Distributor.legacy_id, Distributor.username),
            [(Distributor.legacy_id, ids), (Distributor.username, usernames)],
        )
        by_id = {d.legacy_id: d for d in existing if d.legacy_id}
        by_username = {d.username: d for d in existing}
        new = []
        for c in batch:
            found = by_id.get(c.key)
            if found is not None and found.username == c.values["username"]:
                self.run.result.counts[self.file].present += 1
                self.accept(c)
            elif found is not None:
                self._refuse(
                    c,
                    "legacy_id_conflict",
                    N_("A distributor with this legacy id already exists with another user name."),
                )
            elif c.values["username"] in by_username:
                self._refuse(c, "username_taken", N_("This user name already belongs to another account."))
            else:
                new.append(c)
        return new

    def _refuse(self, c, code, msgid):
        self.run.refuse(self.file, c.line, c.key, [(None, code, msgid, {})])
        self.reject(c)

    def accept(self, c):
        self.run.distributors_ok.add(c.key)

    def reject(self, c):
        self.run.distributors_refused.add(c.key)

    def insert(self, batch):
        _insert(Distributor, [c.values for c in batch])
        ids = [c.key for c in batch]
        wanted = {c.key: c.values["username"] for c in batch}
        return {
            d.legacy_id
            for d in _select_in(
                Distributor, (Distributor.legacy_id, Distributor.username), [(Distributor.legacy_id, ids)]
            )
            if wanted.get(d.legacy_id) == d.username
        }


class _BranchPhase(_Phase):
    file = BRANCHES

    def validate(self, line, row):
        legacy_id = _key(row["legacy_id"])
        problems = self.legacy_id_problems(legacy_id)
        distributor = _key(row["distributor_legacy_id"])
        if not distributor or distributor in self.run.distributors_refused:
            problems.append(
                (
                    "distributor_legacy_id",
                    "distributor_not_imported",
                    N_("The distributor %(id)s was not imported (refused or missing in distributors.csv)."),
                    {"id": distributor or "-"},
                )
            )
        name = normalize_text(row["name"])
        if not 2 <= len(name) <= 200:
            problems.append(("name", "invalid_name", N_("Write the branch's name."), {}))
        data, fields = {"address": row["address"]}, ["address", "province", "city"]
        _resolve_places(row, self.run.ref, data, fields, problems, with_study=False)
        cleaned = clean_row(self.run.ref, data, fields, problems)
        if problems:
            return self._refused(line, legacy_id, problems)
        return _Candidate(
            line,
            legacy_id,
            {
                "distributor": None,
                "name": name,
                "province": cleaned["province"].id,
                "city": cleaned["city"].id,
                "address": cleaned["address"],
                "legacy_id": legacy_id,
                "is_active": True,
                "created_at": self.run.now,
            },
            extra={"distributor": distributor},
        )

    def _refused(self, line, legacy_id, problems):
        self.run.refuse(self.file, line, legacy_id, problems)
        if legacy_id:
            self.run.branches_refused.add(legacy_id)
        return None

    def precheck(self, batch):
        present = {
            b.legacy_id for b in _select_in(Branch, (Branch.legacy_id,), [(Branch.legacy_id, [c.key for c in batch])])
        }
        distributor_ids = {
            d.legacy_id: d.id
            for d in _select_in(
                Distributor,
                (Distributor.legacy_id,),
                [(Distributor.legacy_id, {c.extra["distributor"] for c in batch})],
            )
        }
        new = []
        for c in batch:
            if c.key in present:
                self.run.result.counts[self.file].present += 1
                self.accept(c)
                continue
            reference = c.extra["distributor"]
            known = reference in self.run.distributors_ok or reference in distributor_ids
            if not known or (not self.run.dry_run and reference not in distributor_ids):
                self.run.refuse(
                    self.file,
                    c.line,
                    c.key,
                    [
                        (
                            "distributor_legacy_id",
                            "distributor_not_imported",
                            N_("The distributor %(id)s was not imported (refused or missing in distributors.csv)."),
                            {"id": reference},
                        )
                    ],
                )
                self.reject(c)
                continue
            c.values["distributor"] = distributor_ids.get(reference)
            new.append(c)
        return new

    def accept(self, c):
        self.run.branches_ok.add(c.key)

    def reject(self, c):
        self.run.branches_refused.add(c.key)

    def insert(self, batch):
        _insert(Branch, [c.values for c in batch])
        return {
            b.legacy_id for b in _select_in(Branch, (Branch.legacy_id,), [(Branch.legacy_id, [c.key for c in batch])])
        }


_GENDERS = {"male": "male", "female": "female", "m": "male", "f": "female", "مرد": "male", "زن": "female"}


class _OfficerPhase(_Phase):
    file = OFFICERS
    hashes = True

    def validate(self, line, row):
        problems = []
        user_code = _key(row["user_code"])
        national_code = normalize_national_code(row["national_code"])
        if not _USER_CODE_RE.fullmatch(user_code):
            problems.append(
                (
                    "user_code",
                    "invalid_user_code",
                    N_("The user code is missing or not valid (at most 12 letters or digits)."),
                    {},
                )
            )
        data = {name: row.get(name, "") for name in REGISTRATION_FIELDS}
        gender = normalize_text(row["gender"]).lower()
        data["gender"] = _GENDERS.get(gender, gender)
        fields = list(REGISTRATION_FIELDS)
        _resolve_places(row, self.run.ref, data, fields, problems)
        cleaned = clean_row(self.run.ref, data, fields, problems)
        qualified = to_ascii_digits(row["qualified"]).strip()
        if qualified not in ("0", "1", ""):
            problems.append(("qualified", "invalid_qualified", N_("The qualified column must be 1 or 0."), {}))
        password = _password_job(row, problems)
        for kind, key, msgid in (
            (
                "national_code",
                national_code,
                N_("Several rows have this national code (lines %(lines)s); none of them was imported."),
            ),
            (
                "user_code",
                user_code,
                N_("Several rows have this user code (lines %(lines)s); none of them was imported."),
            ),
        ):
            dup = self.duplicate_problem(kind, key, msgid)
            if dup:
                problems.append(dup)
        if problems:
            order = {name: i for i, name in enumerate(COLUMNS[OFFICERS])}
            problems.sort(key=lambda p: order.get(p[0], len(order)))
            self.run.refuse(self.file, line, user_code or national_code, problems)
            if national_code:
                self.run.officers_refused.add(national_code)
            return None
        is_qualified = qualified == "1"
        values = {
            "user_code": user_code,
            "national_code": cleaned["national_code"],
            "birth_date": cleaned["birth_date"],
            "first_name": cleaned["first_name"],
            "last_name": cleaned["last_name"],
            "father_name": cleaned["father_name"],
            "gender": cleaned["gender"],
            "id_card_number": cleaned["id_card_number"],
            "mobile": cleaned["mobile"],
            "phone": cleaned["phone"],
            "email": cleaned["email"],
            "address": cleaned["address"],
            "postal_code": cleaned["postal_code"],
            "province": cleaned["province"].id,
            "city": cleaned["city"].id,
            "district": cleaned.get("district"),
            "field_of_study": cleaned["field_of_study"].id,
            "degree_level": cleaned["degree_level"].id,
            "password_hash": "",
            "is_active": True,
            "university": route_id(cleaned["city"], cleaned.get("district")) if is_qualified else None,
            "qualified_at": self.run.now if is_qualified else None,
            "qualification_number": f"L-{user_code}" if is_qualified else None,
            "created_at": self.run.now,
            "legacy": True,
        }
        return _Candidate(
            line, user_code, values, password, extra={"national_code": national_code, "qualified": is_qualified}
        )

    def precheck(self, batch):
        codes = [c.extra["national_code"] for c in batch]
        existing = _select_in(
            Officer,
            (Officer.national_code, Officer.user_code, Officer.qualified_at),
            [(Officer.national_code, codes), (Officer.user_code, [c.key for c in batch])],
        )
        by_code = {o.national_code: o for o in existing}
        by_user_code = {o.user_code: o for o in existing}
        new = []
        for c in batch:
            code = c.extra["national_code"]
            found = by_code.get(code)
            if found is not None and found.user_code == c.key:
                self.run.result.counts[self.file].present += 1
                self.run.officers_ok[code] = found.qualified_at is not None
            elif found is not None:
                self._refuse(
                    c,
                    "national_code_exists",
                    N_("An officer with this national code is already registered under another user code."),
                )
            elif c.key in by_user_code:
                self._refuse(c, "user_code_taken", N_("This user code already belongs to another officer."))
            else:
                new.append(c)
        return new

    def _refuse(self, c, code, msgid):
        self.run.refuse(self.file, c.line, c.key, [(None, code, msgid, {})])
        self.reject(c)

    def accept(self, c):
        self.run.officers_ok[c.extra["national_code"]] = c.extra["qualified"]

    def reject(self, c):
        self.run.officers_refused.add(c.extra["national_code"])

    def insert(self, batch):
        _insert(Officer, [c.values for c in batch])
        wanted = {c.extra["national_code"]: c.key for c in batch}
        return {
            o.user_code
            for o in _select_in(Officer, (Officer.national_code, Officer.user_code), [(Officer.national_code, wanted)])
            if wanted.get(o.national_code) == o.user_code
        }


def _tehran_midnight_utc(date: _dt.date) -> _dt.datetime:
    local = _dt.datetime.combine(date, _dt.time(0, 0), tzinfo=TEHRAN)
    return local.astimezone(_dt.UTC).replace(tzinfo=None)


class _CooperationPhase(_Phase):
    file = COOPERATIONS

    def validate(self, line, row):
        problems = []
        branch = _key(row["branch_legacy_id"])
        code = normalize_national_code(row["officer_national_code"])
        key = f"{branch}/{code}"
        if not branch:
            problems.append(
                (
                    "branch_legacy_id",
                    "branch_not_imported",
                    N_("The branch %(id)s was not imported (refused or missing in branches.csv)."),
                    {"id": "-"},
                )
            )
        if not is_valid_national_code(code):
            try:
                CLEANERS["national_code"](row["officer_national_code"])
            except DomainError as error:
                problems.append(
                    ("officer_national_code", _cleaner_code("national_code", error.msgid), error.msgid, error.params)
                )
        started = parse_jalali_date(row["started_at"])
        if started is None:
            problems.append(("started_at", "invalid_started_at", N_("Enter a real Jalali date like 1370/05/21."), {}))
        elif started > self.run.today:
            problems.append(("started_at", "invalid_started_at", N_("The start date cannot be in the future."), {}))
        for kind, value, msgid in (
            (
                "officer",
                code,
                N_("This officer has an active contract on several rows (lines %(lines)s); none of them was imported."),
            ),
            (
                "branch",
                branch,
                N_("This branch has several officers (lines %(lines)s); none of these contracts was imported."),
            ),
        ):
            lines = self.dups[kind].get(value)
            if lines:
                problems.append(
                    (
                        kind,
                        "conflict_two_active_contracts" if kind == "officer" else "conflict_branch_two_officers",
                        msgid,
                        {"lines": _lines(lines)},
                    )
                )
        if not problems:
            if branch in self.run.branches_refused:
                problems.append(self._branch_missing(branch))
            if code in self.run.officers_refused:
                problems.append(self._officer_missing())
        if problems:
            self.run.refuse(self.file, line, key, problems)
            return None
        started_at = _tehran_midnight_utc(started)
        return _Candidate(
            line,
            key,
            {
                "branch": None,
                "distributor": None,
                "officer": None,
                "status": "active",
                "university": None,
                "started_at": started_at,
                "decided_at": started_at,
                "legacy": True,
                "created_at": self.run.now,
            },
            extra={"branch": branch, "national_code": code},
        )

    @staticmethod
    def _branch_missing(branch):
        return (
            "branch_legacy_id",
            "branch_not_imported",
            N_("The branch %(id)s was not imported (refused or missing in branches.csv)."),
            {"id": branch},
        )

    @staticmethod
    def _officer_missing():
        return (
            "officer_national_code",
            "officer_not_imported",
            N_("The officer with this national code was not imported (refused or missing in officers.csv)."),
            {},
        )

    def precheck(self, batch):
        codes = list({c.extra["national_code"] for c in batch})
        legacy_ids = list({c.extra["branch"] for c in batch})
        officers = {
            o.national_code: o
            for o in _select_in(
                Officer, (Officer.national_code, Officer.qualified_at), [(Officer.national_code, codes)]
            )
        }
        branches = {
            b.legacy_id: b
            for b in _select_in(
                Branch, (Branch.legacy_id, Branch.distributor, Branch.city), [(Branch.legacy_id, legacy_ids)]
            )
        }
        officer_ids = [o.id for o in officers.values()]
        branch_ids = [b.id for b in branches.values()]
        active = _select_in(
            Cooperation,
            (Cooperation.officer, Cooperation.branch),
            [(Cooperation.officer, officer_ids), (Cooperation.branch, branch_ids)],
            Cooperation.status == "active",
        )
        active_by_officer = {a.officer_id: a.branch_id for a in active}
        active_by_branch = {a.branch_id: a.officer_id for a in active}
        new = []
        for c in batch:
            code, legacy_id = c.extra["national_code"], c.extra["branch"]
            officer, branch = officers.get(code), branches.get(legacy_id)
            problems = []
            branch_known = legacy_id in self.run.branches_ok or branch is not None
            if not branch_known or (not self.run.dry_run and branch is None):
                problems.append(self._branch_missing(legacy_id))
            if code in self.run.officers_ok:
                qualified = self.run.officers_ok[code]
                if not self.run.dry_run and officer is None:
                    problems.append(self._officer_missing())
            elif officer is not None:
                qualified = officer.qualified_at is not None
            else:
                qualified = True
                problems.append(self._officer_missing())
            if not qualified:
                problems.append(
                    (
                        "officer_national_code",
                        "officer_not_qualified",
                        N_("This officer's qualification has not been approved yet, so they cannot be chosen."),
                        {},
                    )
                )
            if not problems and officer is not None and branch is not None:
                if active_by_officer.get(officer.id) == branch.id:
                    self.run.result.counts[self.file].present += 1
                    continue
                if officer.id in active_by_officer:
                    problems.append(
                        (
                            "officer_national_code",
                            "officer_already_active",
                            N_("This officer is already the technical officer of a branch."),
                            {},
                        )
                    )
                if branch.id in active_by_branch:
                    problems.append(
                        (
                            "branch_legacy_id",
                            "branch_already_taken",
                            N_("This branch already has another technical officer."),
                            {},
                        )
                    )
            if problems:
                self.run.refuse(self.file, c.line, c.key, problems)
                continue
            if officer is not None and branch is not None:
                c.values.update(
                    officer=officer.id,
                    branch=branch.id,
                    distributor=branch.distributor_id,
                    university=self.run.ref.city_university[branch.city_id],
                )
            new.append(c)
        return new

    def accept(self, c):
        pass

    def insert(self, batch):
        _insert(Cooperation, [c.values for c in batch])
        wanted = {c.values["officer"]: c for c in batch}
        written = {}
        for row in _select_in(
            Cooperation,
            (Cooperation.officer, Cooperation.branch),
            [(Cooperation.officer, wanted)],
            Cooperation.status == "active",
        ):
            c = wanted[row.officer_id]
            if row.branch_id == c.values["branch"]:
                written[c.key] = row.id
        _insert(
            RequestEvent,
            [
                {
                    "request_type": "cooperation",
                    "request_id": cooperation_id,
                    "action": "legacy_import",
                    "from_status": "",
                    "to_status": "active",
                    "actor_kind": SYSTEM.kind,
                    "actor_id": None,
                    "actor_name": "legacy import",
                    "note": "",
                    "at": self.run.now,
                }
                for cooperation_id in written.values()
            ],
        )
        return set(written)


def import_legacy(
    directory,
    report_path=None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress=None,
    hasher: PasswordHasher = IMPORT_HASHER,
    processes: int | None = None,
    pool_min_rows: int = DEFAULT_POOL_MIN_ROWS,
) -> ImportResult:
    """Import the four legacy files from ``directory``; see the module's docstring.

    ``progress(n)`` is called with the number of rows read since its last call.
    ``hasher`` hashes the imported passwords (argon2id import profile by default),
    in a pool of ``processes`` (default: one per CPU) when there are at least
    ``pool_min_rows`` accounts. Raises :class:`LegacyFileError` before writing
    anything when a file is missing, lacks a column or is not UTF-8 CSV."""
    directory = Path(directory)
    report_path = Path(report_path) if report_path else directory / "import-report.csv"
    return _Import(directory, report_path, dry_run, batch_size, progress, hasher, processes, pool_min_rows).run()
