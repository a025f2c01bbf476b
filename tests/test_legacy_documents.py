"""The officers' scanned documents of the legacy import (``documents.csv``, issue 18): each
file judged exactly like an upload (by its content, under the size and quota caps) by the
document store's own code, every refused file a report line and never a crash, the dry
run checking without writing; in each encoding old systems export."""

from __future__ import annotations

import pytest

import models
import storage
from helpers import JPEG_BYTES, MINIMAL_PDF, files_under, png_bytes
from legacy_real_set import ENCODINGS, LegacySet, O, officer_row, old_spelling, run, write_real_set
from models import legacy
from models.request_records import LEGACY_DOCUMENTS

DOCS = legacy.files.DOCUMENTS
# A Persian file name, as the old system wrote it (Arabic ي and ك): paths are byte-exact.
DEGREE_NAME = "مدرک تحصیلی.pdf"


def write_documents(files: LegacySet) -> None:
    """One good file of each type, and one row per reason a file is refused."""
    scans = files.directory / "scans"
    scans.mkdir()
    (scans / old_spelling(DEGREE_NAME, files.encoding)).write_bytes(MINIMAL_PDF)
    (scans / "card.png").write_bytes(png_bytes())
    (scans / "photo.jpg").write_bytes(JPEG_BYTES)
    (scans / "page.pdf").write_bytes(b"<html><script>alert(1)</script></html>")  # HTML wearing .pdf
    (scans / "empty.pdf").write_bytes(b"")
    (scans / "huge.pdf").write_bytes(MINIMAL_PDF + b"0" * storage.MAX_DOCUMENT_BYTES)
    (files.directory.parent / "outside.pdf").write_bytes(MINIMAL_PDF)
    (scans / "link.pdf").symlink_to(files.directory.parent / "outside.pdf")
    code = {label: row["national_code"] for label, row in files.officers.items()}
    files.write(
        DOCS,
        [
            ("degree", {"national_code": code["complete"], "kind": "degree", "path": f"scans/{DEGREE_NAME}"}),
            ("card", {"national_code": code["complete"], "kind": "national_card", "path": "scans\\card.png"}),
            ("photo", {"national_code": code["complete"], "kind": "photo", "path": "scans/photo.jpg"}),
            ("markup", {"national_code": code["no_father"], "kind": "degree", "path": "scans/page.pdf"}),
            ("empty", {"national_code": code["no_father"], "kind": "photo", "path": "scans/empty.pdf"}),
            ("huge", {"national_code": code["short_address"], "kind": "degree", "path": "scans/huge.pdf"}),
            ("up", {"national_code": code["short_address"], "kind": "photo", "path": "../outside.pdf"}),
            ("absolute", {"national_code": code["short_address"], "kind": "other", "path": "/etc/passwd"}),
            ("link", {"national_code": code["no_degree"], "kind": "photo", "path": "scans/link.pdf"}),
            ("missing", {"national_code": code["no_degree"], "kind": "degree", "path": "scans/none.pdf"}),
            ("kind", {"national_code": code["landline"], "kind": "passport", "path": "scans/photo.jpg"}),
            ("refused", {"national_code": code["bad_checksum"], "kind": "degree", "path": "scans/photo.jpg"}),
            ("twice_a", {"national_code": code["unqualified"], "kind": "degree", "path": "scans/photo.jpg"}),
            ("twice_b", {"national_code": code["unqualified"], "kind": "degree", "path": "scans/card.png"}),
        ],
    )


def expected_refusals(files: LegacySet) -> set:
    codes = {
        "markup": "wrong_file_type",
        "empty": "empty_file",
        "huge": "file_too_large",
        "up": "invalid_document_path",
        "absolute": "invalid_document_path",
        "link": "invalid_document_path",
        "missing": "missing_document_file",
        "kind": "unknown_document_kind",
        "refused": "officer_not_imported",
        "twice_a": "duplicate_document",
        "twice_b": "duplicate_document",
    }
    return {(DOCS, files.line(DOCS, label), code, "error") for label, code in codes.items()}


@pytest.fixture
def store(app):
    return storage.DocumentStore(app.config["UPLOAD_DIR"])


def document_set(tmp_path, encoding) -> LegacySet:
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, encoding)
    write_real_set(files)
    write_documents(files)
    return files


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_documents_are_judged_like_uploads_and_become_documents_in_force(dbc, app, store, tmp_path, encoding):
    files = document_set(tmp_path, encoding)
    result = run(files, store=store)
    assert {p for p in files.problems() if p[0] == DOCS} == expected_refusals(files)
    counts = result.counts[DOCS]
    assert (counts.imported, counts.refused) == (3, 11)
    report = {(r["line"], r["code"]): r for r in files.report() if r["file"] == DOCS}
    wrong = report[(str(files.line(DOCS, "markup")), "wrong_file_type")]
    assert wrong["key"] == f"{files.officers['no_father']['national_code']}:degree" and wrong["reason"]
    in_force = models.officer_documents(officer_row("complete", files))
    assert {code: d.content_type for code, d in in_force.items()} == {
        "degree": "application/pdf",
        "national_card": "image/png",
        "photo": "image/jpeg",
    }
    degree = in_force["degree"]
    assert degree.request_type == LEGACY_DOCUMENTS and degree.display_name == old_spelling(DEGREE_NAME, encoding)
    assert store.path_for(degree.storage_name).read_bytes() == MINIMAL_PDF
    # Exactly the three files are in the store: nothing refused, nothing from the check.
    assert len(files_under(store.root)) == 3
    assert models.Document.select().count() == 3


def test_the_dry_run_checks_every_file_and_writes_nothing(dbc, app, store, tmp_path):
    files = document_set(tmp_path, "utf-8-sig")
    result = run(files, dry_run=True)
    assert {p for p in files.problems() if p[0] == DOCS} == expected_refusals(files)
    assert (result.counts[DOCS].imported, result.counts[DOCS].refused) == (3, 11)
    assert models.Document.select().count() == 0 and models.Officer.select().count() == 0
    assert files_under(store.root) == []


def test_a_second_run_finds_them_present_and_replaces_none(dbc, app, store, tmp_path):
    files = document_set(tmp_path, "utf-8")
    run(files, store=store)
    again = run(files, store=store)
    assert (again.counts[DOCS].imported, again.counts[DOCS].present) == (0, 3)
    assert models.Document.select().count() == 3 and len(files_under(store.root)) == 3
    # Another file for a document already migrated is refused, never swapped in.
    (files.directory / "scans" / "card.png").write_bytes(MINIMAL_PDF)
    third = run(files, store=store)
    assert (DOCS, files.line(DOCS, "card"), "document_exists", "error") in files.problems()
    assert third.counts[DOCS].present == 2
    card = models.officer_documents(officer_row("complete", files))["national_card"]
    assert card.content_type == "image/png"


def test_the_officer_quota_applies(dbc, app, store, tmp_path, monkeypatch):
    files = document_set(tmp_path, "utf-8")
    # Two of the complete officer's files fit under this cap, the third does not.
    monkeypatch.setattr(legacy.documents, "MAX_OFFICER_BYTES", len(MINIMAL_PDF) + len(png_bytes()))
    run(files, store=store)
    assert (DOCS, files.line(DOCS, "photo"), "officer_quota", "error") in files.problems()
    assert set(models.officer_documents(officer_row("complete", files))) == {"degree", "national_card"}


def test_a_real_run_with_documents_needs_the_store(dbc, app, tmp_path):
    files = document_set(tmp_path, "utf-8")
    with pytest.raises(legacy.LegacyFileError) as error:
        run(files)
    assert error.value.code == "no_document_store"
    assert models.Officer.select().count() == 0


def test_the_cli_stores_them_in_the_upload_dir(app, tmp_path):
    files = document_set(tmp_path, "cp1256")
    result = app.test_cli_runner().invoke(args=["import-legacy", str(files.directory)])
    assert result.exit_code == 0, result.output
    assert "documents.csv: imported 3" in result.output
    with models.db.connection_context():
        assert models.Document.select().where(models.Document.request_type == LEGACY_DOCUMENTS).count() == 3
    assert len(files_under(app.config["UPLOAD_DIR"])) == 3
    assert {(O, files.line(O, "bad_checksum"), "invalid_national_code", "error")} <= files.problems()
