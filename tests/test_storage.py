"""Tests for storage.py: real files in tmp_path, no mocks except simulated ENOSPC."""

import errno
import hashlib
import io
import os
import pathlib
import struct
import sys
import time
import zlib

import pytest
from PIL import Image

# storage.py lives at the project root; make it importable however pytest is run.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import storage  # noqa: E402
from storage import (  # noqa: E402
    MAX_DOCUMENT_BYTES,
    DocumentStore,
    StorageUnavailable,
    StoredFile,
    UploadRejected,
    clean_display_name,
    content_disposition,
    safe_headers,
    sniff_content_type,
)

# --------------------------------------------------------------------------
# Real sample documents
# --------------------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>\nendobj\n"
    b"xref\n0 4\n"
    b"0000000000 65535 f \n"
    b"0000000009 00000 n \n"
    b"0000000058 00000 n \n"
    b"0000000115 00000 n \n"
    b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n184\n%%EOF\n"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png() -> bytes:
    """A valid 1x1 red RGB PNG."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one RGB pixel
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg() -> bytes:
    """A valid baseline 1x1 greyscale JFIF JPEG (one mid-grey pixel).

    Single-symbol Huffman tables: DC category 0 and AC end-of-block both
    get the 1-bit code "0", so the scan is the bits "00" padded with ones.
    """
    one_code_of_length_1 = bytes([1] + [0] * 15)
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
        + _jpeg_segment(0xC0, b"\x08" + struct.pack(">HH", 1, 1) + b"\x01\x01\x11\x00")
        + _jpeg_segment(0xC4, b"\x00" + one_code_of_length_1 + b"\x00")
        + _jpeg_segment(0xC4, b"\x10" + one_code_of_length_1 + b"\x00")
        + _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"
        + b"\xff\xd9"
    )


PNG = make_png()
JPEG = make_jpeg()


class TrickleStream:
    """A stream that hands out at most `step` bytes per read and counts them,
    like a slow client upload."""

    def __init__(self, data: bytes, step: int = 7000):
        self._buf = io.BytesIO(data)
        self.step = step
        self.bytes_read = 0

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.step
        chunk = self._buf.read(min(n, self.step))
        self.bytes_read += len(chunk)
        return chunk


def all_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path):
    return DocumentStore(tmp_path / "docs")


# --------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------


def test_creates_root_and_tmp_with_restrictive_modes(tmp_path):
    s = DocumentStore(tmp_path / "a" / "docs")
    assert s.root == (tmp_path / "a" / "docs").resolve()
    assert (s.root.stat().st_mode & 0o777) == 0o750
    assert s.tmp == s.root / "tmp"
    assert (s.tmp.stat().st_mode & 0o777) == 0o700
    # Re-opening an existing store is fine.
    DocumentStore(tmp_path / "a" / "docs")


# --------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------


def test_sniff_accepts_real_documents():
    assert sniff_content_type(PDF) == "application/pdf"
    assert sniff_content_type(JPEG) == "image/jpeg"
    assert sniff_content_type(PNG) == "image/png"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<!doctype html><html><body>hi</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04",  # zip / docx
        b" %PDF-1.4",  # magic not at offset 0
        b"%PDF-1.4\n<html><script>alert(1)</script>",
        b"%PDF-1.4\n% <HTML>",
        b"%PDF-1.4\n" + b" " * 900 + b"<sCrIpT>",
        b"\xff\xd8\xff\xe0<svg onload=alert(1)>",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR<html>",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIDAT",  # PNG signature without IHDR first
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_sniff_rejects_other_content(head):
    assert sniff_content_type(head) is None


def test_sniff_ignores_markup_beyond_first_kilobyte():
    assert sniff_content_type(PDF + b" " * 1024 + b"<html>") == "application/pdf"


def test_jpeg_without_end_marker_or_with_trailing_data_is_accepted(store):
    assert sniff_content_type(JPEG[:-2]) == "image/jpeg"
    stored = store.save(io.BytesIO(JPEG + b"maker-notes-appended-by-camera"), "photo.jpg")
    assert stored.content_type == "image/jpeg"


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,name,content_type,ext",
    [
        (PDF, "degree.pdf", "application/pdf", ".pdf"),
        (JPEG, "photo.jpeg", "image/jpeg", ".jpg"),
        (PNG, "scan.png", "image/png", ".png"),
    ],
)
def test_save_accepts_real_documents(store, data, name, content_type, ext):
    stored = store.save(io.BytesIO(data), name)

    assert isinstance(stored, StoredFile)
    assert stored.content_type == content_type
    assert stored.display_name == name
    assert stored.storage_name.endswith(ext)
    bucket, filename = stored.storage_name.split("/")
    assert bucket == filename[:2]
    assert len(filename) == 32 + len(ext)

    path = store.path_for(stored.storage_name)
    assert path == store.root / bucket / filename
    kept = path.read_bytes()
    # A PDF is kept as sent; an image as written again from its pixels (storage_images).
    if content_type == "application/pdf":
        assert kept == data
    else:
        assert Image.open(io.BytesIO(kept)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert stored.size == len(kept)
    assert stored.sha256 == hashlib.sha256(kept).hexdigest()
    with store.open(stored.storage_name) as fh:
        assert fh.read() == kept
    assert list(store.tmp.iterdir()) == []


def test_extension_comes_from_content_not_client_name(store):
    stored = store.save(io.BytesIO(PNG), "evil.html")
    assert stored.storage_name.endswith(".png")
    assert stored.content_type == "image/png"
    assert stored.display_name == "evil.html"


def test_large_document_streamed_in_small_reads(store):
    data = PDF + b"%" + os.urandom(MAX_DOCUMENT_BYTES - len(PDF) - 1)
    assert len(data) == MAX_DOCUMENT_BYTES
    stream = TrickleStream(data, step=333)
    stored = store.save(stream, "big.pdf")
    assert stored.size == MAX_DOCUMENT_BYTES
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.path_for(stored.storage_name).read_bytes() == data


@pytest.mark.parametrize(
    "data,name",
    [
        (b"<!doctype html><html><script>alert(document.cookie)</script></html>", "cv.pdf"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo.jpg",
        ),
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF", "poly.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.png"),
    ],
)
def test_save_rejects_disguised_files(store, data, name):
    with pytest.raises(UploadRejected) as info:
        store.save(io.BytesIO(data), name)
    assert info.value.msgid == storage.MSG_WRONG_TYPE
    assert info.value.msgid == ("Only PDF, JPEG or PNG files are accepted; this file is not one of them.")
    assert info.value.params == {}
    assert all_files(store.root) == []


def test_save_rejects_empty_file(store):
    with pytest.raises(UploadRejected) as info:
        store.save(io.BytesIO(b""), "empty.pdf")
    assert info.value.msgid == "The file is empty."
    assert str(info.value) == "The file is empty."
    assert all_files(store.root) == []


def test_save_rejects_oversized_file_without_reading_it_all(store):
    data = PDF + b"\x00" * (MAX_DOCUMENT_BYTES + 1 - len(PDF))
    assert len(data) == MAX_DOCUMENT_BYTES + 1
    stream = TrickleStream(data + b"\x00" * 10 * 1024 * 1024, step=64 * 1024)

    with pytest.raises(UploadRejected) as info:
        store.save(stream, "huge.pdf")

    assert info.value.msgid == "The file is larger than %(limit)s MB."
    assert info.value.params == {"limit": 5}
    assert str(info.value) == "The file is larger than 5 MB."
    # Refused as soon as the limit was passed, not after draining the stream.
    assert stream.bytes_read == MAX_DOCUMENT_BYTES + 1
    assert all_files(store.root) == []
    assert list(store.tmp.iterdir()) == []


def test_exactly_max_plus_one_is_rejected_and_nothing_left(store):
    data = PDF + b"\x00" * (MAX_DOCUMENT_BYTES + 1 - len(PDF))
    with pytest.raises(UploadRejected):
        store.save(io.BytesIO(data), "huge.pdf")
    assert all_files(store.root) == []
    assert list(store.tmp.iterdir()) == []


def test_same_persian_name_twice_keeps_both(store):
    first = store.save(io.BytesIO(PDF), "مدرک.pdf")
    second_bytes = PDF.replace(b"72 72", b"99 99")
    second = store.save(io.BytesIO(second_bytes), "مدرک.pdf")

    assert first.storage_name != second.storage_name
    assert first.display_name == second.display_name == "مدرک.pdf"
    assert store.path_for(first.storage_name).read_bytes() == PDF
    assert store.path_for(second.storage_name).read_bytes() == second_bytes
    assert sorted(store.iter_files()) == sorted([first.storage_name, second.storage_name])


@pytest.mark.parametrize("name", ["../../x", "..\\x", "/etc/x", "C:\\Users\\me\\x", "a/b\\x"])
def test_path_like_display_names_are_reduced_to_base_name(store, name):
    stored = store.save(io.BytesIO(PDF), name)
    assert stored.display_name == "x"
    assert stored.storage_name.endswith(".pdf")
    # Nothing escaped the store: the only files under tmp_path are ours.
    assert all_files(store.root.parent) == [store.path_for(stored.storage_name)]


def test_works_with_werkzeug_filestorage(store):
    from werkzeug.datastructures import FileStorage

    upload = FileStorage(stream=io.BytesIO(PNG), filename="scan.png", content_type="text/html")
    stored = store.save(upload, upload.filename)
    assert stored.content_type == "image/png"  # the client's claim is ignored


# --------------------------------------------------------------------------
# Disk failures
# --------------------------------------------------------------------------


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_enospc_during_write_leaves_nothing_behind(store, monkeypatch):
    real_write = os.write
    calls = {"n": 0}

    def write_then_fill_disk(fd, data):
        # First write lands (a partial temp file exists), then the disk is full.
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, data)
        _enospc()

    monkeypatch.setattr(os, "write", write_then_fill_disk)
    data = PDF + b"%" + b"x" * 200_000

    with pytest.raises(StorageUnavailable) as info:
        store.save(io.BytesIO(data), "degree.pdf")
    monkeypatch.undo()

    assert calls["n"] >= 2
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert info.value.msgid == ("The document could not be stored right now; please try again later.")
    assert str(info.value) == info.value.msgid
    assert all_files(store.root) == []
    assert list(store.tmp.iterdir()) == []


def test_enospc_on_fsync_leaves_nothing_behind(store, monkeypatch):
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(StorageUnavailable) as info:
        store.save(io.BytesIO(PDF), "degree.pdf")
    monkeypatch.undo()

    assert info.value.__cause__.errno == errno.ENOSPC
    assert all_files(store.root) == []
    assert list(store.tmp.iterdir()) == []


def test_store_still_works_after_failure(store, monkeypatch):
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(StorageUnavailable):
        store.save(io.BytesIO(PDF), "a.pdf")
    monkeypatch.undo()
    stored = store.save(io.BytesIO(PDF), "a.pdf")
    assert store.path_for(stored.storage_name).read_bytes() == PDF


# --------------------------------------------------------------------------
# Looking files up
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "../app.db",
        "ab/../../x",
        "/etc/passwd",
        "..%2f..%2fapp.db",
        "ab%2f" + "a" * 32 + ".pdf",
        "ab\\" + "ab" + "0" * 30 + ".pdf",
        "ab/" + "ab" + "0" * 30 + ".pdf\n",
        "ab/" + "ab" + "0" * 30 + ".PDF",
        "ab/" + "ab" + "0" * 30 + ".html",
        "AB/" + "AB" + "0" * 30 + ".pdf",
        "tmp/upload-123.part",
        "",
        None,
    ],
)
def test_path_for_rejects_anything_not_produced_by_save(store, bad):
    with pytest.raises(FileNotFoundError):
        store.path_for(bad)
    with pytest.raises(FileNotFoundError):
        store.open(bad)


def test_path_for_refuses_symlinked_bucket_escaping_root(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ("ab" + "0" * 30 + ".pdf")).write_bytes(PDF)
    os.symlink(outside, store.root / "ab")
    with pytest.raises(FileNotFoundError):
        store.path_for("ab/" + "ab" + "0" * 30 + ".pdf")


def test_open_missing_but_valid_name_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.open("ab/" + "ab" + "0" * 30 + ".pdf")


def test_delete(store):
    stored = store.save(io.BytesIO(PDF), "a.pdf")
    store.delete(stored.storage_name)
    assert not store.path_for(stored.storage_name).exists()
    store.delete(stored.storage_name)  # already gone: fine
    with pytest.raises(FileNotFoundError):
        store.delete("../app.db")


def test_iter_files_lists_only_stored_documents(store):
    a = store.save(io.BytesIO(PDF), "a.pdf")
    b = store.save(io.BytesIO(PNG), "b.png")
    (store.root / "README.txt").write_text("not a document")
    (store.tmp / "upload-x.part").write_bytes(b"partial")
    assert sorted(store.iter_files()) == sorted([a.storage_name, b.storage_name])


# --------------------------------------------------------------------------
# Orphan sweeping
# --------------------------------------------------------------------------


def _age(path: pathlib.Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.mark.parametrize("as_callable", [False, True])
def test_sweep_orphans(store, as_callable):
    old_unknown = store.save(io.BytesIO(PDF), "old-unknown.pdf")
    old_known = store.save(io.BytesIO(PNG), "old-known.png")
    young_unknown = store.save(io.BytesIO(JPEG), "young-unknown.jpg")
    _age(store.path_for(old_unknown.storage_name), 7200)
    _age(store.path_for(old_known.storage_name), 7200)

    stale_tmp = store.tmp / "upload-stale.part"
    stale_tmp.write_bytes(b"%PDF-half")
    _age(stale_tmp, 7200)
    fresh_tmp = store.tmp / "upload-fresh.part"
    fresh_tmp.write_bytes(b"%PDF-in-progress")

    known = {old_known.storage_name}
    removed = store.sweep_orphans((lambda name: name in known) if as_callable else known, older_than_seconds=3600)

    assert removed == [old_unknown.storage_name, "tmp/upload-stale.part"]
    assert not store.path_for(old_unknown.storage_name).exists()
    assert store.path_for(old_known.storage_name).exists()
    assert store.path_for(young_unknown.storage_name).exists()
    assert not stale_tmp.exists()
    assert fresh_tmp.exists()


def test_sweep_default_threshold_spares_fresh_files(store):
    stored = store.save(io.BytesIO(PDF), "a.pdf")
    assert store.sweep_orphans(set()) == []
    assert store.path_for(stored.storage_name).exists()


# --------------------------------------------------------------------------
# Display names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("مدرک تحصیلی.pdf", "مدرک تحصیلی.pdf"),
        ("کارت\u200cملی.jpg", "کارت\u200cملی.jpg"),  # ZWNJ is part of Persian spelling
        ("report.pdf", "report.pdf"),
        ("../../x", "x"),
        ("..\\x", "x"),
        ("C:\\fakepath\\scan.png", "scan.png"),
        ("a\x00b\r\n.pdf", "ab.pdf"),
        ("\u202efdp.exe", "fdp.exe"),
        ("x\u2066y\u2069.pdf", "xy.pdf"),
        ("\x1b[31mred.pdf", "[31mred.pdf"),
        ("", "document"),
        ("   ", "document"),
        ("..", "document"),
        ("dir/", "document"),
        ("\u202e", "document"),
    ],
)
def test_clean_display_name(raw, expected):
    assert clean_display_name(raw) == expected


def test_clean_display_name_truncates_keeping_extension():
    long_name = "ب" * 300 + ".pdf"
    cleaned = clean_display_name(long_name)
    assert len(cleaned) == 120
    assert cleaned.endswith(".pdf")
    assert cleaned == "ب" * 116 + ".pdf"
    assert len(clean_display_name("a" * 500)) == 120


# --------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------


def test_content_disposition_persian_name():
    value = content_disposition("مدرک تحصیلی.pdf")
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''" in value
    value.encode("ascii")  # the whole header is pure ASCII
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "document.pdf"
    encoded = value.split("filename*=UTF-8''", 1)[1]
    from urllib.parse import unquote

    assert unquote(encoded, encoding="utf-8") == "مدرک تحصیلی.pdf"
    assert " " not in encoded


def test_content_disposition_ascii_and_mixed_names():
    assert content_disposition("report 2024.pdf") == (
        "attachment; filename=\"report 2024.pdf\"; filename*=UTF-8''report%202024.pdf"
    )
    mixed = content_disposition("scan-مدرک.png")
    assert 'filename="scan-____.png"' in mixed


def test_content_disposition_cannot_break_out_of_header():
    value = content_disposition('a"b\\c\r\nSet-Cookie: x=1;.pdf')
    assert "\r" not in value and "\n" not in value
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback
    star = value.split("filename*=UTF-8''", 1)[1]
    assert all(c.isalnum() or c in "%!#$&+-.^_`|~" for c in star)


def test_content_disposition_inline():
    assert content_disposition("scan.png", inline=True).startswith('inline; filename="scan.png"')


def test_safe_headers():
    for ctype in ("application/pdf", "image/jpeg", "image/png"):
        headers = safe_headers(ctype)
        assert headers == {
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Content-Type": ctype,
        }
    for ctype in ("text/html", "image/svg+xml", "application/pdf; x=<html>", "", None):
        assert safe_headers(ctype)["Content-Type"] == "application/octet-stream"


def test_storage_module_imports_no_flask_or_models():
    source = pathlib.Path(storage.__file__).read_text(encoding="utf-8")
    import_lines = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
    assert not any("flask" in ln.lower() or "models" in ln for ln in import_lines)
