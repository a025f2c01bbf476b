"""The import's pipeline: the first pass, then the four phases in order, batch by batch.

Contract: :func:`import_legacy` reads the four files of a directory, writes what is
valid in batches of ``batch_size`` rows (one transaction each, so a re-run after a
crash completes the import) and every refused row to the report; it raises
:class:`LegacyFileError` before writing anything when a file cannot be read. A dry
run writes only the report. While the pool hashes one batch's passwords, the main
process validates the next; at most two batches are in flight.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections import deque
from pathlib import Path

from argon2 import PasswordHasher

from persian import TEHRAN

from ..audit import audit
from ..base import N_, SYSTEM, db, utcnow
from .cleaning import ReferenceIndex, load_aliases
from .contracts import CooperationPhase
from .distributors import BranchPhase, DistributorPhase
from .documents import DocumentPhase
from .files import (
    ALIASES,
    AUTO,
    DISTRIBUTORS,
    DOCUMENTS,
    FILE_ORDER,
    OFFICERS,
    LegacyFileError,
    count_lines,
    file_encodings,
    rows,
    scan,
)
from .officers import OfficerPhase
from .passwords import IMPORT_HASHER, Hashing
from .phase import Context, Phase, Refusal
from .report import SUMMARY_FILE, FileCounts, ImportResult, Problem, Report

DEFAULT_BATCH_SIZE = 1000
# Below this many passwords to hash, a pool costs more to start than it saves.
DEFAULT_POOL_MIN_ROWS = 2000
# Rows read between two calls of the progress callback.
PROGRESS_EVERY = 500


def write_batch(phase: Phase, candidates) -> set:
    """Write one batch in its own transaction; return the keys that are now in the database.
    A module-level function so that a test can make it fail half-way."""
    with db.atomic():
        return phase.insert(candidates)


def _wrong_column_count(line: int, widths: tuple) -> Refusal:
    return Refusal(
        line,
        "",
        [
            Problem(
                None,
                "wrong_column_count",
                N_("This row has %(found)s columns; the header has %(expected)s."),
                {"found": widths[0], "expected": widths[1]},
            )
        ],
    )


def _conflict_meanwhile(phase: Phase, candidate) -> Refusal:
    return phase.refusal(
        candidate,
        Problem(
            None,
            "conflict_concurrent_write",
            N_("The row could not be saved: a conflicting record was written meanwhile."),
            {},
        ),
    )


class _Run:
    def __init__(
        self,
        directory: Path,
        report_path: Path,
        dry_run: bool,
        batch_size: int,
        progress,
        hasher: PasswordHasher,
        processes: int | None,
        pool_min_rows: int,
        encoding: str = AUTO,
        store=None,
    ):
        self.directory = directory
        self.store = store
        self.encoding = encoding
        self.dry_run = dry_run
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.hasher = hasher
        self.processes = processes or os.cpu_count() or 1
        self.pool_min_rows = pool_min_rows
        self.result = ImportResult(dry_run=dry_run, report_path=report_path)
        self._ticks = 0

    # -- plumbing
    def tick(self):
        self._ticks += 1
        if self._ticks >= PROGRESS_EVERY:
            self.flush_ticks()

    def flush_ticks(self):
        if self.progress and self._ticks:
            self.progress(self._ticks)
        self._ticks = 0

    def refuse(self, phase: Phase, refusal: Refusal):
        for problem in refusal.problems:
            self.report.add(phase.file, refusal.line, refusal.key, problem)
        self.result.count(refusal.problems, refusal.province)
        self.result.counts[phase.file].refused += 1
        phase.reject(refusal.ref)

    def warn(self, phase: Phase, candidate):
        """Report a valid row's new warnings (it is imported as it is)."""
        fresh = candidate.warnings[candidate.reported :]
        for problem in fresh:
            self.report.add(phase.file, candidate.line, candidate.key, problem)
        # The row counts once per province, however many times it gets warnings.
        self.result.count(fresh, candidate.province if candidate.reported == 0 else None)
        candidate.reported = len(candidate.warnings)

    def accepted(self, phase: Phase, candidate):
        phase.accept(candidate)
        if candidate.warnings:
            self.result.counts[phase.file].warned += 1

    # -- the run
    def run(self) -> ImportResult:
        started = time.perf_counter()
        self.encodings = file_encodings(self.directory, self.encoding)
        duplicates = scan(self.directory, self.encodings)
        if DOCUMENTS in duplicates and self.store is None and not self.dry_run:
            raise LegacyFileError(
                N_("documents.csv needs the document store (UPLOAD_DIR); nothing was imported."),
                code="no_document_store",
            )
        ref = ReferenceIndex()
        if ALIASES in self.encodings:
            load_aliases(self.directory / ALIASES, self.encodings[ALIASES], ref)
        context = Context(
            ref=ref,
            duplicates=duplicates,
            now=utcnow(),
            today=_dt.datetime.now(TEHRAN).date(),
            dry_run=self.dry_run,
        )
        self.result.seconds["scan"] = time.perf_counter() - started
        passwords = count_lines(self.directory / OFFICERS) + count_lines(self.directory / DISTRIBUTORS)
        self.hashing = Hashing(
            self.hasher, self.processes, use_pool=self.processes > 1 and passwords >= self.pool_min_rows
        )
        self.report = Report(self.result.report_path)
        # Each phase is handed the outcomes of the earlier phases it refers to, and nothing else.
        distributors = DistributorPhase(context)
        branches = BranchPhase(context, distributors=distributors.outcome)
        officers = OfficerPhase(context)
        contracts = CooperationPhase(context, branches=branches.outcome, officers=officers.outcome)
        phases = [distributors, branches, officers, contracts]
        if DOCUMENTS in duplicates:
            self.result.counts[DOCUMENTS] = FileCounts()
            phases.append(DocumentPhase(context, officers.outcome, self.directory, self.store))
        failed = True
        try:
            for phase in phases:
                started = time.perf_counter()
                self._run_phase(phase)
                self.result.seconds[phase.file] = time.perf_counter() - started
            failed = False
        finally:
            self.hashing.close(failed=failed)
            for phase in phases:
                getattr(phase, "close", lambda: None)()
            self.flush_ticks()
            self.result.problems = self.report.entries
            self.report.close()
            self.result.write_summary(self.result.report_path.with_name(SUMMARY_FILE))
        if not self.dry_run:
            with db.atomic():
                audit(
                    SYSTEM,
                    "legacy_import",
                    object_type="legacy_import",
                    detail="; ".join(self.result.summary_lines()[: len(FILE_ORDER)]),
                )
        return self.result

    def _run_phase(self, phase: Phase):
        pending = deque()
        batch, rows_read, line = [], 0, 0
        for line, row, widths in rows(self.directory / phase.file, phase.file, self.encodings[phase.file]):
            self.tick()
            rows_read += 1
            verdict = _wrong_column_count(line, widths) if row is None else phase.validate(line, row)
            if isinstance(verdict, Refusal):
                self.refuse(phase, verdict)
            else:
                self.warn(phase, verdict)
                batch.append(verdict)
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

    def _dispatch(self, phase: Phase, batch: list, pending: deque, last_line: int):
        counts = self.result.counts[phase.file]
        new = []
        if batch:
            checked = phase.precheck(batch)
            for candidate in (*checked.present, *checked.new):
                self.warn(phase, candidate)  # what the database told the phase
            for candidate in checked.present:
                counts.present += 1
                self.accepted(phase, candidate)
            for refusal in checked.refused:
                self.refuse(phase, refusal)
            new = checked.new
        if self.dry_run:
            for candidate in new:
                self.accepted(phase, candidate)
            counts.imported += len(new)
            self.report.release(last_line)
            return
        jobs = [c.password for c in new] if phase.hashes else []
        pending.append((new, self.hashing.submit(jobs), last_line))
        # One batch hashes in the pool while the next one is being validated.
        while len(pending) > 1:
            self._flush(phase, *pending.popleft())

    def _flush(self, phase: Phase, new: list, hashing: list, last_line: int):
        if phase.hashes:
            for candidate, stored in zip(new, Hashing.results(hashing), strict=True):
                candidate.values["password_hash"] = stored
        written = write_batch(phase, new) if new else set()
        counts = self.result.counts[phase.file]
        for candidate in new:
            if candidate.key in written:
                self.accepted(phase, candidate)
                counts.imported += 1
            else:
                self.refuse(phase, _conflict_meanwhile(phase, candidate))
        self.report.release(last_line)


def import_legacy(
    directory,
    report_path=None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress=None,
    hasher: PasswordHasher = IMPORT_HASHER,
    processes: int | None = None,
    pool_min_rows: int = DEFAULT_POOL_MIN_ROWS,
    encoding: str = AUTO,
    store=None,
) -> ImportResult:
    """Import the four legacy files from ``directory`` (see this module's docstring and README.md).

    ``report_path`` defaults to ``directory/import-report.csv``. ``progress(n)`` is called
    with the number of rows read since its last call. ``hasher`` hashes the imported
    passwords (the argon2id import profile by default), in a pool of ``processes``
    (default: one per CPU) when there are at least ``pool_min_rows`` accounts. ``encoding``
    is ``auto`` (each file's own: UTF-8 with or without BOM, UTF-16 with a BOM,
    Windows-1256), or ``utf-8``, ``cp1256``, ``utf-16`` for all files. ``store`` (a
    ``storage.DocumentStore``) receives the files of the optional ``documents.csv``; a real
    run with that file needs one (a dry run saves nothing)."""
    directory = Path(directory)
    report_path = Path(report_path) if report_path else directory / "import-report.csv"
    return _Run(
        directory, report_path, dry_run, batch_size, progress, hasher, processes, pool_min_rows, encoding, store
    ).run()
