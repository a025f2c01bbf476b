"""The import's report CSV and its result counts.

Contract: :class:`Report` writes ``file, line, key, severity, reason, code`` (UTF-8 with
a BOM, formula-safe), sorted by file then line even though a row can be refused after
later rows were read; the severity is ``error`` (the row was refused) or ``warning`` (it
was imported as it is); the reason is in Persian, the code a stable English word from
the raise site, never derived from the reason's wording. :class:`ImportResult` holds the
counts per file, severity, reason and province, prints the summary the CLI shows and
writes it next to the report (``import-summary.csv``) for the directorate's rehearsal.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..base import translate
from ..spreadsheet import escape_formula
from .files import FILE_ORDER

REPORT_COLUMNS = ("file", "line", "key", "severity", "reason", "code")
SUMMARY_COLUMNS = ("group", "name", "severity", "count")
SUMMARY_FILE = "import-summary.csv"


def message(msgid: str, **params) -> str:
    """The Persian text of a message id (the report is in Persian, like SMS and notices)."""
    return translate(msgid, **params)


class Problem(NamedTuple):
    """One problem of a row: the column it is about (None for the whole row), the report's
    code, the message id with its parameters, and whether it refuses the row (``error``)
    or is only reported (``warning``)."""

    field: str | None
    code: str
    msgid: str
    params: dict
    severity: str = "error"


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
            (
                line,
                len(self.buffer),
                [file, line, escape_formula(key), problem.severity, escape_formula(reason), problem.code],
            )
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
    warned: int = 0  # rows imported (or present) with at least one warning


@dataclass
class ImportResult:
    """What a run did, per file; ``seconds`` is the wall time per phase ("scan" = the first passes)."""

    dry_run: bool
    report_path: Path
    counts: dict = field(default_factory=lambda: {name: FileCounts() for name in FILE_ORDER})
    problems: int = 0
    seconds: dict = field(default_factory=dict)
    by_reason: Counter = field(default_factory=Counter)  # (severity, code) -> report lines
    by_province: Counter = field(default_factory=Counter)  # (province, severity) -> rows

    def count(self, problems, province: str | None) -> None:
        """Count one row's problems by reason, and the row once per severity by province
        (not when ``province`` is None: the row was counted already)."""
        for problem in problems:
            self.by_reason[(problem.severity, problem.code)] += 1
        if province is None:
            return
        for severity in {p.severity for p in problems}:
            self.by_province[(province or "-", severity)] += 1

    def summary_rows(self) -> list[tuple]:
        """(group, name, severity, count): per severity, per reason, per province."""
        by_severity = Counter()
        for (severity, _code), n in self.by_reason.items():
            by_severity[severity] += n
        rows = [("severity", s, s, n) for s, n in sorted(by_severity.items())]
        rows += [("reason", code, s, n) for (s, code), n in sorted(self.by_reason.items())]
        rows += [("province", p, s, n) for (p, s), n in sorted(self.by_province.items())]
        return rows

    def summary_lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{name}: {verb} {c.imported}, already present {c.present}, refused {c.refused}, with warnings {c.warned}"
            for name, c in self.counts.items()
        ]
        lines.append(f"report: {self.report_path} ({self.problems} problems)")
        lines += [f"  {group} {name} ({severity}): {n}" for group, name, severity, n in self.summary_rows()]
        if self.dry_run:
            lines.append("dry run: the database was not changed")
        return lines

    def write_summary(self, path: Path) -> None:
        """The counts by severity, reason and province as a CSV (formula-safe)."""
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SUMMARY_COLUMNS)
            for group, name, severity, n in self.summary_rows():
                writer.writerow([group, escape_formula(name), severity, n])
