"""What a spreadsheet does to a CSV cell, and how every CSV the project writes prevents it.

One escaper for every CSV that people open in Excel or LibreOffice: the back office's
exports and the legacy import's report. It lives in ``models/`` (which imports no Flask)
so that the domain's own writers and the web layer share it.
"""

from __future__ import annotations

# What a spreadsheet would run as a formula (or hide behind a direction mark) at the
# start of a cell: the formula prefixes, tab and carriage return, and the bidi marks
# RLM, LRM, RLE and LRE, which can make "=..." look like text while it still runs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\u200f", "\u200e", "\u202b", "\u202a")


def escape_formula(value) -> str:
    """The cell's text, prefixed with a quote when a spreadsheet would run it as a formula;
    ``None`` is an empty cell."""
    if value.__class__ is not str:
        value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
