"""Reading the four legacy CSV files: their names and columns, their rows, the first pass.

Contract: :func:`check_header` raises :class:`LegacyFileError` for a file that is
missing, lacks a column or cannot be decoded in its encoding; :func:`rows` streams
``(physical line, {column: value} or None, widths)`` (optional columns included when the
header has them); :func:`scan` is the first pass over all four files, keeping only the
keys found on more than one row. :func:`detect_encoding` tells UTF-8 (with or without a
BOM), UTF-16 (with a BOM) and Windows-1256 apart, as old Iranian systems export them.
Nothing here touches the database, and no file is ever held in memory.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from persian import normalize_national_code, normalize_text, to_ascii_digits

from ..base import N_, DomainError

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
ALIASES, DOCUMENTS = "aliases.csv", "documents.csv"
# The officers' scanned documents (optional): the path is relative to the import's directory.
COLUMNS[DOCUMENTS] = ("national_code", "kind", "path")
# Columns a file may have (the old system's exports differ); a row without them reads them
# as "". The municipal district of a Tehran officer: without it the officer is imported and
# asked at login.
OPTIONAL_COLUMNS = {
    OFFICERS: ("district", "qualification_number", "qualified_at"),
    DISTRIBUTORS: (),
    BRANCHES: (),
    COOPERATIONS: (),
    DOCUMENTS: (),
}
ALIAS_COLUMNS = ("kind", "legacy_name", "name")
# The order of the phases: a later file refers to the earlier ones.
FILE_ORDER = (DISTRIBUTORS, BRANCHES, OFFICERS, COOPERATIONS)
# The files a directory may hold or not, each with its phase after the four.
OPTIONAL_FILES = (DOCUMENTS,)
# UTF-8, with or without the BOM that Excel writes.
ENCODING = "utf-8-sig"
AUTO = "auto"
# --encoding: the name typed -> the codec read with.
ENCODINGS = {
    AUTO: AUTO,
    "utf-8": ENCODING,
    "utf8": ENCODING,
    "cp1256": "cp1256",
    "windows-1256": "cp1256",
    "utf-16": "utf-16",
}


class LegacyFileError(DomainError):
    """A file cannot be read at all (missing, wrong header, not UTF-8): nothing is imported."""


def plain_key(value) -> str:
    """A legacy id or user code as a key: letters normalised, digits ASCII, no spaces."""
    return to_ascii_digits(normalize_text(value)).replace(" ", "")


def codec(encoding: str) -> str:
    """The codec of an ``--encoding`` name, or :class:`LegacyFileError` for an unknown one."""
    try:
        return ENCODINGS[(encoding or AUTO).strip().lower()]
    except KeyError:
        raise LegacyFileError(
            N_("Unknown encoding %(encoding)s: use auto, utf-8, cp1256 or utf-16."),
            code="unknown_encoding",
            encoding=encoding,
        ) from None


def detect_encoding(path: Path) -> str:
    """The codec of a file: UTF-16 or UTF-8 by their BOM; else UTF-8 when the whole file
    decodes as UTF-8 (read in chunks, never held), else Windows-1256, which decodes any
    byte but the five it leaves undefined (those files are refused when read)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        if head[:3] == codecs.BOM_UTF8:
            return ENCODING
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1256"
    return ENCODING


def _open(path: Path, encoding: str = ENCODING):
    if encoding == AUTO:
        encoding = detect_encoding(path)
    return open(path, encoding=encoding, newline="")


def _not_csv(name: str, line: int) -> LegacyFileError:
    return LegacyFileError(
        N_("The file %(file)s cannot be read as CSV in its encoding (near line %(line)s)."),
        code="not_utf8_csv",
        file=name,
        line=line,
    )


def check_header(path: Path, name: str, encoding: str = ENCODING, columns=None) -> list[str]:
    """The file's column names (lower case), or :class:`LegacyFileError`."""
    if not path.is_file():
        raise LegacyFileError(N_("The file %(file)s is missing."), code="missing_file", file=name)
    try:
        with _open(path, encoding) as handle:
            header = next(csv.reader(handle), None) or []
    except (UnicodeDecodeError, csv.Error):
        raise _not_csv(name, 1) from None
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in (columns or COLUMNS[name]) if c not in names]
    if missing:
        raise LegacyFileError(
            N_("The file %(file)s lacks the columns: %(columns)s."),
            code="missing_columns",
            file=name,
            columns=", ".join(missing),
        )
    return names


def rows(path: Path, name: str, encoding: str = ENCODING, columns=None):
    """(physical line where the row starts, {column: value}, None) for each row; a row with
    the wrong number of columns comes as (line, None, (found, expected))."""
    columns = columns or COLUMNS[name]
    header = check_header(path, name, encoding, columns)
    positions = {c: header.index(c) for c in columns}
    optional = {c: header.index(c) for c in OPTIONAL_COLUMNS.get(name, ()) if c in header}
    positions.update(optional)
    missing_optional = {c: "" for c in OPTIONAL_COLUMNS.get(name, ()) if c not in optional}
    line = 1
    try:
        with _open(path, encoding) as handle:
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
                    yield start, {**missing_optional, **{c: raw[i] for c, i in positions.items()}}, None
    except (UnicodeDecodeError, csv.Error):
        raise _not_csv(name, line) from None


def count_lines(path: Path) -> int:
    """Physical lines minus the header (0 for a missing file): cheap, for sizing and progress."""
    if not path.is_file():
        return 0
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, lines + (last != b"\n") - 1)


def count_rows(directory) -> int:
    """About how many rows the files hold (physical lines minus headers), for a progress bar."""
    return sum(count_lines(Path(directory) / name) for name in (*FILE_ORDER, *OPTIONAL_FILES))


# The keys that must be unique within each file, and how each is read from a row.
UNIQUE_KEYS = {
    DISTRIBUTORS: {"legacy_id": lambda r: plain_key(r["legacy_id"]), "username": lambda r: r["username"].strip()},
    BRANCHES: {"legacy_id": lambda r: plain_key(r["legacy_id"])},
    OFFICERS: {
        "national_code": lambda r: normalize_national_code(r["national_code"]),
        "user_code": lambda r: plain_key(r["user_code"]),
    },
    COOPERATIONS: {
        "officer": lambda r: normalize_national_code(r["officer_national_code"]),
        "branch": lambda r: plain_key(r["branch_legacy_id"]),
    },
    # One document of a kind per officer: two rows for the same one are both refused.
    DOCUMENTS: {
        "document": lambda r: f"{normalize_national_code(r['national_code'])}:{plain_key(r['kind']).lower()}",
    },
}


def duplicates(path: Path, name: str, key_functions: dict, encoding: str = ENCODING) -> dict:
    """First pass over one file: for each key kind, {key: [lines]} of the keys on more than
    one row. Only the keys seen are held (a dict of short strings), never the rows."""
    seen = {kind: {} for kind in key_functions}
    duplicated = {kind: {} for kind in key_functions}
    for line, row, _widths in rows(path, name, encoding):
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


def file_encodings(directory: Path, encoding: str = AUTO) -> dict:
    """{file: codec} for the four files (and aliases.csv when there is one)."""
    chosen = codec(encoding)
    names = [n for n in (*FILE_ORDER, ALIASES, DOCUMENTS) if n in FILE_ORDER or (directory / n).is_file()]
    found = {}
    for name in names:
        path = directory / name
        found[name] = detect_encoding(path) if chosen == AUTO and path.is_file() else chosen
    return found


def scan(directory: Path, encodings: dict | None = None) -> dict:
    """Check every header, then the first pass over every file (the optional ones when they
    are there): {file: {kind: {key: [lines]}}}. It also proves that every file decodes
    before anything is written."""
    encodings = encodings or {}
    names = [*FILE_ORDER, *(n for n in OPTIONAL_FILES if (directory / n).is_file())]
    for name in names:
        check_header(directory / name, name, encodings.get(name, ENCODING))
    return {
        name: duplicates(directory / name, name, UNIQUE_KEYS[name], encodings.get(name, ENCODING)) for name in names
    }
