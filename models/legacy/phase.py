"""The phase protocol: one legacy file, validated row by row, checked and written by batch.

Contract. A phase reads a :class:`Context` (the same for every phase, read-only) and
the :class:`Outcome` of each earlier phase it refers to, passed to its constructor by
name; it owns its own ``outcome``, the only state it keeps. It never writes the
report nor counts rows: it returns its decisions and the runner applies them.

The runner calls :meth:`Phase.validate` for each row (no database), :meth:`Phase.precheck`
for each batch of candidates (reads the database), :meth:`Phase.insert` in one
transaction per batch (a real run only), and :meth:`Phase.accept` or :meth:`Phase.reject`
as each row's fate is known.
"""

from __future__ import annotations

import datetime as _dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from peewee import chunked

from persian import TEHRAN

from .cleaning import ReferenceIndex
from .report import Problem


@dataclass(frozen=True)
class Context:
    """What every phase reads and none changes: the reference names (whose index memoises
    its answers), the first pass's duplicated keys ({file: {kind: {key: [lines]}}}), the
    run's clock and whether it is a dry run."""

    ref: ReferenceIndex
    duplicates: dict
    now: _dt.datetime  # UTC: created_at of every imported row
    today: _dt.date  # in Tehran: the contracts' dates are Tehran dates
    dry_run: bool


@dataclass
class Outcome:
    """What a phase decided, for the phases after it: the keys in the database (or that would
    be, in a dry run), each with the value later phases need, and the keys refused."""

    accepted: dict = field(default_factory=dict)
    refused: set = field(default_factory=set)


@dataclass
class Candidate:
    """A valid row waiting for its batch.

    ``key`` names the row in the report and is what :meth:`Phase.insert` returns for a row
    written; ``ref`` is how later files refer to it (the officers' national code, say)."""

    line: int
    key: str
    values: dict
    password: tuple | None = None
    extra: dict = field(default_factory=dict)
    ref: str = ""
    warnings: list = field(default_factory=list)  # Problems of severity "warning"
    province: str = ""  # the row's province, for the counts by province
    reported: int = 0  # how many of the warnings are in the report already

    def __post_init__(self):
        self.ref = self.ref or self.key


@dataclass(frozen=True)
class Refusal:
    """A refused row: its line, its key in the report, why, and the key later phases must
    see as refused (None when they cannot refer to it)."""

    line: int
    key: str
    problems: list
    ref: str | None = None
    province: str = ""


@dataclass
class Checked:
    """A batch after :meth:`Phase.precheck`: rows to write, rows already in the database,
    rows refused because of what the database holds."""

    new: list = field(default_factory=list)
    present: list = field(default_factory=list)
    refused: list = field(default_factory=list)


class Phase(ABC):
    """One file of the import (see the module's docstring)."""

    file: ClassVar[str]
    # True when each candidate carries a password job, whose stored hash goes into
    # ``values["password_hash"]`` before the insert.
    hashes: ClassVar[bool] = False

    def __init__(self, context: Context):
        self.context = context
        self.dups = context.duplicates[self.file]
        self.outcome = Outcome()

    @abstractmethod
    def validate(self, line: int, row: dict) -> Candidate | Refusal:
        """Check one row on its own and against the earlier files' outcomes."""

    @abstractmethod
    def precheck(self, batch: list[Candidate]) -> Checked:
        """Sort a batch by what the database already holds (a few indexed queries)."""

    @abstractmethod
    def insert(self, batch: list[Candidate]) -> set[str]:
        """Write the batch (inside the caller's transaction); return the keys now written."""

    def published(self, candidate: Candidate):
        """The value later phases read for an accepted row; None unless a phase needs one."""
        return None

    def accept(self, candidate: Candidate) -> None:
        self.outcome.accepted[candidate.ref] = self.published(candidate)

    def reject(self, ref: str | None) -> None:
        if ref:
            self.outcome.refused.add(ref)

    # -- helpers for the phases
    def duplicate_problem(self, kind: str, key: str, msgid: str, code: str | None = None) -> Problem | None:
        """The problem of a key found on several rows by the first pass, or None."""
        lines = self.dups[kind].get(key)
        if lines:
            return Problem(kind, code or f"duplicate_{kind}", msgid, {"lines": line_list(lines)})
        return None

    @staticmethod
    def refusal(candidate: Candidate, *problems: Problem) -> Refusal:
        """A candidate refused by :meth:`precheck`."""
        return Refusal(candidate.line, candidate.key, list(problems), candidate.ref, candidate.province)


def tehran_midnight_utc(date: _dt.date) -> _dt.datetime:
    """The start of a Tehran day, as the naive UTC the database stores."""
    local = _dt.datetime.combine(date, _dt.time(0, 0), tzinfo=TEHRAN)
    return local.astimezone(_dt.UTC).replace(tzinfo=None)


def line_list(lines) -> str:
    return ", ".join(str(n) for n in lines)


def select_in(model, columns, conditions, extra=None) -> list:
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


def insert_rows(model, rows: list[dict]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` of the rows; the caller reads back what was written."""
    if not rows:
        return
    # SQLite's oldest builds allow 999 bound parameters per statement.
    size = max(1, 999 // len(rows[0]))
    for chunk in chunked(rows, size):
        model.insert_many(chunk).on_conflict_ignore().execute()
