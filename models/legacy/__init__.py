"""Migration of the old system's CSV files: distributors, branches, officers, contracts.

``import_legacy(directory)`` checks every row of ``distributors.csv``, ``branches.csv``,
``officers.csv`` and ``cooperations.csv`` (columns in ``CONTRACT.md``) with the public
forms' cleaners, refuses only what makes a person or an account unknowable, imports the
rest as it is, and lists every problem in a report CSV (``file, line, key, severity,
reason, code``: the physical line, ``error`` or ``warning``, a Persian reason, an English
code). It is idempotent and crash-safe, and a dry run changes nothing. No Flask here:
the CLI (``flask --app app import-legacy``) draws the progress bar and prints
:meth:`ImportResult.summary_lines`. The rules and the reasons behind them are in
``README.md`` next to this file.

Modules: ``files`` (reading, the first pass), ``cleaning`` (the forms' cleaners, Persian
names), ``passwords`` (what is stored, the hashing pool), ``report``, ``phase`` (the
phase protocol), ``distributors``, ``officers``, ``contracts`` (the four phases),
``documents`` (the optional ``documents.csv``) and ``runner`` (the pipeline).
"""

from . import runner
from .cleaning import name_key
from .files import BRANCHES, COLUMNS, COOPERATIONS, DISTRIBUTORS, FILE_ORDER, OFFICERS, LegacyFileError, count_rows
from .passwords import IMPORT_HASHER, password_job, stored_password
from .report import REPORT_COLUMNS, FileCounts, ImportResult, Problem, message
from .runner import DEFAULT_BATCH_SIZE, DEFAULT_POOL_MIN_ROWS, import_legacy

__all__ = [
    "BRANCHES",
    "COLUMNS",
    "COOPERATIONS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_POOL_MIN_ROWS",
    "DISTRIBUTORS",
    "FILE_ORDER",
    "IMPORT_HASHER",
    "OFFICERS",
    "REPORT_COLUMNS",
    "FileCounts",
    "ImportResult",
    "LegacyFileError",
    "Problem",
    "count_rows",
    "import_legacy",
    "message",
    "name_key",
    "password_job",
    "runner",
    "stored_password",
]
