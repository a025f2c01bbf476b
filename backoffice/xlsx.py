"""Excel-ready exports: the same rows as the CSV export (``export.csv_chunks``), written
as an XLSX workbook that streams at constant memory.

Excel reads a CSV's national code ``0012345679`` as the number 12345679 and a reviewer
who searches for it finds nothing. Here every text cell is an inline string, so codes
keep their leading zeros; only Python integers (ids, counts) are numbers. The sheet is
right to left. The workbook is a ZIP written to an unseekable sink (ZIP data
descriptors), one deflated chunk per batch of rows: nothing is held but the batch.
"""

from __future__ import annotations

import re
import zipfile
from xml.sax.saxutils import escape

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView rightToLeft="1"/></bookViews>'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView rightToLeft="1" workbookViewId="0"/></sheetViews><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"

# Characters XML 1.0 cannot carry at all.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel's sheet names: at most 31 characters, none of these.
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class _Sink:
    """A write-only, unseekable file: what the ZIP writer writes is handed out in chunks."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def column_letters(index: int) -> str:
    """``0 -> A``, ``25 -> Z``, ``26 -> AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value) -> str:
    """A cell's text as XML: the characters XML cannot carry left out, ``& < >`` escaped.
    (Most cells need neither: ``isprintable`` and ``in`` are quick tests in C.)"""
    text = value if value.__class__ is str else str(value)
    if not text.isprintable():  # also true of Persian's zero-width non-joiner: then the full check
        text = _ILLEGAL.sub("", text)
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    return text


def _row(number: int, letters: list[str], values) -> str:
    """A ``<row>``: integers (ids, counts) as numbers, other values as inline strings, empty
    values left out (each cell names its column, so the next ones keep theirs)."""
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value.__class__ is int:
            cells.append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        elif value is not None and value != "":
            cells.append(
                f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def xlsx_chunks(titles, rows_batches, sheet_name: str = "Sheet1"):
    """The bytes of a workbook with one sheet: a header row of ``titles``, then each
    batch of ``rows_batches`` (lists of rows, each a sequence of cell values)."""
    sink = _Sink()
    name = escape(_SHEET_NAME_BAD.sub(" ", str(sheet_name))[:31] or "Sheet1", {'"': "&quot;"})
    letters = [column_letters(i) for i in range(len(titles))]
    # Level 1: the sheet is mostly repeated markup, which the fastest level already packs
    # about as well (issue 23: the export's time went a third to zlib at the default level).
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(name=name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", mode="w", force_zip64=True) as sheet:
            sheet.write((_SHEET_START + _row(1, letters, [str(t) for t in titles])).encode("utf-8"))
            yield sink.drain()
            number = 1
            for batch in rows_batches:
                parts = []
                for values in batch:
                    number += 1
                    parts.append(_row(number, letters, values))
                sheet.write("".join(parts).encode("utf-8"))
                yield sink.drain()
            sheet.write(_SHEET_END.encode("utf-8"))
    yield sink.drain()
