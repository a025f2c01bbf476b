"""The import's report CSV and its result counts.

Contract: :class:`Report` writes ``file, line, key, reason, code`` (UTF-8 with a BOM,
formula-safe), sorted by file then line even though a row can be refused after later
rows were read; the reason is in Persian, the code a stable English word from the
raise site, never derived from the reason's wording. :class:`ImportResult` holds the
counts per file and prints the summary the CLI shows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..base import translate
from ..spreadsheet import escape_formula
from .files import FILE_ORDER

REPORT_COLUMNS = ("file", "line", "key", "reason", "code")


def message(msgid: str, **params) -> str:
    """The Persian text of a message id (the report is in Persian, like SMS and notices)."""
    return translate(msgid, **params)


class Problem(NamedTuple):
    """One reason to refuse a row: the column it is about (None for the whole row), the
    report's code, and the message id with its parameters."""

    field: str | None
    code: str
    msgid: str
    params: dict


class Report:
    """The report CSV, written as the import goes.

    Entries wait in a small buffer until their batch is written, so that a row refused
    at write time still lands in line order: the file is sorted by file, then line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Open for the whole run, closed by close(): the report is written as the import goes.
        self.handle = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.handle)
        self.writer.writerow(REPORT_COLUMNS)
        self.entries = 0
        self.buffer = []

    def add(self, file: str, line: int, key: str, problem: Problem):
        reason = message(problem.msgid, **(problem.params or {}))
        self.buffer.append(
            (line, len(self.buffer), [file, line, escape_formula(key), escape_formula(reason), problem.code])
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


@dataclass
class FileCounts:
    imported: int = 0
    present: int = 0
    refused: int = 0


@dataclass
class ImportResult:
    """What a run did, per file; ``seconds`` is the wall time per phase ("scan" = the first passes)."""

    dry_run: bool
    report_path: Path
    counts: dict = field(default_factory=lambda: {name: FileCounts() for name in FILE_ORDER})
    problems: int = 0
    seconds: dict = field(default_factory=dict)

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
