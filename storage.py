"""On-disk storage for officers' uploaded documents.

Uploads are untrusted, so this module decides everything from the bytes
themselves: the type comes from the file's magic numbers, the name on disk is
a random UUID, and the client's filename is kept only as a cleaned display
label.  Nothing here imports Flask or the models so it can be used from the
web views, from CLI maintenance commands and from tests alike.

Errors carry *untranslated* message ids (marked with ``N_`` so pybabel can
extract them with ``-k N_``); the Flask views translate them at render time,
in the user's locale.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pathlib
import re
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import storage_images

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

# Enough to see every magic number and to look for HTML markers; also the
# window the polyglot check inspects.
SNIFF_BYTES = 1024

# Large enough to keep syscall overhead low, small enough that a request
# never holds more than this much of an upload in memory.
CHUNK_BYTES = 64 * 1024


def N_(s):
    """Mark ``s`` as a message id for pybabel (``-k N_``) without translating it."""
    return s


MSG_EMPTY = N_("The file is empty.")
MSG_WRONG_TYPE = N_("Only PDF, JPEG or PNG files are accepted; this file is not one of them.")
MSG_TOO_LARGE = N_("The file is larger than %(limit)s MB.")
MSG_UNAVAILABLE = N_("The document could not be stored right now; please try again later.")


class UploadRejected(Exception):
    """The uploaded file is not acceptable (empty, wrong type, too large).

    ``msgid`` is the untranslated message id and ``params`` the values for
    its ``%(name)s`` placeholders; views should show
    ``gettext(e.msgid, **e.params)``.
    """

    def __init__(self, msgid: str, params: dict | None = None):
        super().__init__(msgid)
        self.msgid = msgid
        self.params = dict(params or {})

    def __str__(self) -> str:
        # Only interpolate when there is something to interpolate, so a
        # literal "%" in a parameterless message can never blow up.
        return self.msgid % self.params if self.params else self.msgid


class StorageUnavailable(Exception):
    """The disk refused the write (full, read-only, I/O error...).

    The original ``OSError`` is chained as ``__cause__`` for the logs; the
    user only sees the generic, translatable ``msgid``.
    """

    def __init__(self, msgid: str = MSG_UNAVAILABLE):
        super().__init__(msgid)
        self.msgid = msgid
        self.params: dict = {}

    def __str__(self) -> str:
        return self.msgid


@dataclass(frozen=True)
class StoredFile:
    """What the database needs to remember about a stored document."""

    storage_name: str
    display_name: str
    content_type: str
    size: int
    sha256: str


# --------------------------------------------------------------------------
# Content sniffing
# --------------------------------------------------------------------------

_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
ALLOWED_CONTENT_TYPES = frozenset(_EXTENSIONS)

# A file that is both a valid PDF/image *and* parses as HTML/SVG could be
# rendered as a page (running script on our origin) by a lenient viewer or a
# browser that ignores or lacks nosniff.  Genuine documents have no reason to
# carry these markers in their first kilobyte, so refusing them costs nothing.
# The whole file is scanned (finding L13: markup after the first kilobyte, or event
# handlers in a tag other than these, passed), for markers at least five bytes long so
# that compressed image or PDF data almost never matches by chance.
_MARKUP_MARKERS = (b"<html", b"<script", b"<svg", b"<body", b"<iframe", b"<img ", b"<object", b"<embed")
_MARKUP_MARKERS += (b"<meta", b"<!doctype", b"onerror=", b"onload=", b"javascript:")
_MARKER_OVERLAP = max(len(m) for m in _MARKUP_MARKERS) - 1


def _has_markup(window: bytes) -> bool:
    window = window.lower()
    return any(marker in window for marker in _MARKUP_MARKERS)


def sniff_content_type(head: bytes) -> str | None:
    """Return the MIME type of a document judged by its first bytes, or None.

    ``head`` should be the first ``SNIFF_BYTES`` (1 KB) of the file, or the
    whole file if shorter.  Recognised: PDF (``%PDF-`` at offset 0), JPEG
    (``FF D8 FF``) and PNG (signature followed by the IHDR chunk at offset
    12).  Anything whose first kilobyte also contains ``<html``, ``<script``
    or ``<svg`` (any case) is refused as a possible polyglot.

    JPEG files are deliberately *not* required to end with ``FF D9``: many
    cameras and phones append maker data or a second image after the end
    marker, and the trailing bytes cannot change how the file is sniffed.
    """
    if not head:
        return None
    if head.startswith(b"%PDF-"):
        content_type = "application/pdf"
    elif head.startswith(b"\xff\xd8\xff"):
        content_type = "image/jpeg"
    elif head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        # IHDR must be the first chunk; without it this is not a PNG any
        # decoder would accept, only something wearing the signature.
        content_type = "image/png"
    else:
        return None
    if _has_markup(head[:SNIFF_BYTES]):  # the rest of the file is scanned while it is saved
        return None
    return content_type


# --------------------------------------------------------------------------
# Display names
# --------------------------------------------------------------------------

DISPLAY_NAME_MAX = 120
_DEFAULT_NAME = "document"

# Bidi embeddings/overrides/isolates let "fdp.exe" be shown as "exe.pdf";
# they have no place in a filename.  Ordinary marks such as ZWNJ (U+200C),
# which Persian spelling needs, are deliberately left alone.
_BIDI_CONTROLS = {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}


def _is_unwanted_char(ch: str) -> bool:
    code = ord(ch)
    # C0 controls (incl. NUL, CR, LF — header injection), DEL and C1 controls.
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in _BIDI_CONTROLS


def _split_ext(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    # A leading dot (".bashrc") is part of the stem, and an absurdly long
    # "extension" is not one worth preserving when truncating.
    if dot <= 0 or len(name) - dot > 16:
        return name, ""
    return name[:dot], name[dot:]


def clean_display_name(name: str) -> str:
    """Turn a client-supplied filename into a safe label for display.

    Keeps only the base name (both ``/`` and ``\\`` count as separators),
    removes control characters, NUL and bidi override/isolate characters,
    trims surrounding whitespace and limits the result to 120 characters
    while keeping the extension.  Returns ``'document'`` if nothing usable is
    left.  Non-Latin names (e.g. ``مدرک تحصیلی.pdf``) are kept intact.

    The result is only ever a label; it never becomes part of a path.
    """
    if not isinstance(name, str):
        name = ""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if not _is_unwanted_char(ch)).strip()
    if name in ("", ".", ".."):
        return _DEFAULT_NAME
    if len(name) > DISPLAY_NAME_MAX:
        stem, ext = _split_ext(name)
        name = stem[: DISPLAY_NAME_MAX - len(ext)].rstrip() + ext
    return name


# --------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------

# Exactly what save() produces.  Matching the whole name (fullmatch, so no
# "$ before newline" loophole) means "..", absolute paths, backslashes and
# percent-encoded separators can never reach the filesystem.
_STORAGE_NAME_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.(?:pdf|jpg|png)")
_FANOUT_RE = re.compile(r"[0-9a-f]{2}")

_TMP_DIR = "tmp"


@contextlib.contextmanager
def _disk_errors():
    # Only filesystem failures become StorageUnavailable; errors from the
    # client's stream keep their own type so they are not blamed on the disk.
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable() from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: pathlib.Path) -> None:
    # Makes the rename itself durable; without it a crash can lose a file
    # whose database row did commit.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        # Cleanup is best effort; sweep_orphans() removes leftovers later and
        # the original error is the one worth reporting.
        pass


def _read_head(stream) -> bytes:
    # read(n) may legitimately return fewer bytes than asked for before EOF.
    parts: list[bytes] = []
    have = 0
    while have < SNIFF_BYTES:
        chunk = stream.read(SNIFF_BYTES - have)
        if not chunk:
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


class DocumentStore:
    """A directory of uploaded documents, addressed by opaque storage names.

    Layout::

        root/ab/abcdef0123456789abcdef0123456789.pdf
        root/tmp/            (uploads in progress; same filesystem as root)
    """

    def __init__(self, root: str | os.PathLike):
        """Use (and create if needed) ``root`` as the storage directory.

        ``root`` is created with mode 0o750 and ``root/tmp`` with 0o700.
        Permissions of an already existing root are left as the operator set
        them.
        """
        root_path = pathlib.Path(root)
        if not root_path.exists():
            root_path.mkdir(mode=0o750, parents=True)
            # mkdir's mode is filtered by the umask; be explicit.
            os.chmod(root_path, 0o750)
        self.root = root_path.resolve(strict=True)
        self.tmp = self.root / _TMP_DIR
        try:
            self.tmp.mkdir(mode=0o700)
        except FileExistsError:
            pass
        else:
            # Temp files hold unvetted bytes; nobody else needs to read them.
            os.chmod(self.tmp, 0o700)

    # -- writing ----------------------------------------------------------

    def save(self, stream, display_name) -> StoredFile:
        """Store the document read from ``stream`` and describe it.

        ``stream`` only needs ``read(n)`` (a Werkzeug ``FileStorage`` works).
        The content is read in chunks; at most ``MAX_DOCUMENT_BYTES + 1``
        bytes are ever read.  The type is judged from the content alone and
        the stored name is random (``ab/<uuid4 hex>.<ext>``), so the client's
        filename only survives as the cleaned ``display_name``. An image is stored as
        written again from its decoded pixels (``storage_images``: no metadata, a pixel
        budget), so ``size`` and ``sha256`` describe the stored file, not the upload.

        Raises ``UploadRejected`` for an empty, oversized or unaccepted file
        and ``StorageUnavailable`` if the disk fails (the ``OSError`` is
        chained).  Either way nothing is left on disk.
        """
        label = clean_display_name(display_name)

        head = _read_head(stream)
        if not head:
            raise UploadRejected(MSG_EMPTY)
        content_type = sniff_content_type(head)
        if content_type is None:
            raise UploadRejected(MSG_WRONG_TYPE)
        if content_type == "image/png" and storage_images.png_pixels(head) > storage_images.MAX_IMAGE_PIXELS:
            raise UploadRejected(MSG_WRONG_TYPE)

        digest = hashlib.sha256(head)
        size = len(head)
        tail = head[-_MARKER_OVERLAP:]
        tmp_path = None
        final_path = None
        try:
            with _disk_errors():
                fd, tmp_path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.tmp)
            try:
                with _disk_errors():
                    os.fchmod(fd, 0o640)
                    _write_all(fd, head)
                while True:
                    # Never ask for more than one byte past the limit, so an
                    # oversized upload is refused without being read in full.
                    chunk = stream.read(min(CHUNK_BYTES, MAX_DOCUMENT_BYTES - size + 1))
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > MAX_DOCUMENT_BYTES:
                        raise UploadRejected(MSG_TOO_LARGE, {"limit": MAX_DOCUMENT_BYTES // (1024 * 1024)})
                    if _has_markup(tail + chunk):
                        raise UploadRejected(MSG_WRONG_TYPE)
                    tail = chunk[-_MARKER_OVERLAP:]
                    digest.update(chunk)
                    with _disk_errors():
                        _write_all(fd, chunk)
                if content_type in storage_images.IMAGE_TYPES:
                    clean = self._reencoded(tmp_path, content_type)
                    size, digest = len(clean), hashlib.sha256(clean)
                    with _disk_errors():
                        os.ftruncate(fd, 0)
                        os.lseek(fd, 0, os.SEEK_SET)
                        _write_all(fd, clean)
                with _disk_errors():
                    # Data must be on disk before the rename makes it visible,
                    # or a crash could leave a truncated document under a
                    # name the database trusts.
                    os.fsync(fd)
            finally:
                with _disk_errors():
                    os.close(fd)

            name = uuid.uuid4().hex
            storage_name = f"{name[:2]}/{name}{_EXTENSIONS[content_type]}"
            with _disk_errors():
                bucket = self.root / name[:2]
                new_bucket = not bucket.is_dir()
                if new_bucket:
                    bucket.mkdir(mode=0o750, exist_ok=True)
                final_path = bucket / f"{name}{_EXTENSIONS[content_type]}"
                # tmp/ is on the same filesystem, so this is an atomic rename:
                # readers see either no file or the complete one.
                os.replace(tmp_path, final_path)
                tmp_path = None
                _fsync_dir(bucket)
                if new_bucket:
                    _fsync_dir(self.root)
        except BaseException:
            _discard(tmp_path)
            _discard(final_path)
            raise

        return StoredFile(
            storage_name=storage_name,
            display_name=label,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
        )

    @staticmethod
    def _reencoded(tmp_path, content_type) -> bytes:
        # Only the picture is kept (storage_images): no EXIF position, no trailing bytes.
        with _disk_errors(), open(tmp_path, "rb") as written:
            if content_type == "image/jpeg":
                pixels = storage_images.jpeg_pixels(written)
                if pixels is not None and pixels > storage_images.MAX_IMAGE_PIXELS:
                    raise UploadRejected(MSG_WRONG_TYPE)
                written.seek(0)
            data = written.read()
        try:
            clean = storage_images.reencoded(data, content_type)
        except storage_images.NotAnImage:
            raise UploadRejected(MSG_WRONG_TYPE) from None
        # Pixels packed far worse than the client packed them: still bounded on disk.
        if len(clean) > 2 * MAX_DOCUMENT_BYTES:
            raise UploadRejected(MSG_TOO_LARGE, {"limit": MAX_DOCUMENT_BYTES // (1024 * 1024)})
        return clean

    # -- reading ----------------------------------------------------------

    def path_for(self, storage_name) -> pathlib.Path:
        """Return the absolute path of a stored document.

        ``storage_name`` must look exactly like one produced by ``save()``
        (``^[0-9a-f]{2}/[0-9a-f]{32}\\.(pdf|jpg|png)$``); anything else —
        ``..``, absolute paths, backslashes, ``%2f`` — raises
        ``FileNotFoundError``, as does a name whose resolved path would leave
        the root (e.g. through a symlinked directory).  The file itself is
        not required to exist.
        """
        if not isinstance(storage_name, str) or not _STORAGE_NAME_RE.fullmatch(storage_name):
            raise FileNotFoundError(errno.ENOENT, "No such stored document", str(storage_name))
        path = (self.root / storage_name).resolve()
        if not path.is_relative_to(self.root) or path.parent.parent != self.root:
            raise FileNotFoundError(errno.ENOENT, "No such stored document", storage_name)
        return path

    def open(self, storage_name):
        """Open a stored document for binary reading (see ``path_for``)."""
        return open(self.path_for(storage_name), "rb")

    def delete(self, storage_name) -> None:
        """Remove a stored document; a missing file is not an error.

        Meant for cleaning up after a database transaction that did not
        commit.  An invalid name raises ``FileNotFoundError`` like
        ``path_for``.
        """
        self.path_for(storage_name).unlink(missing_ok=True)

    def iter_files(self) -> Iterator[str]:
        """Yield the storage names of all stored documents, sorted.

        Files that do not follow the naming scheme (and the tmp/ folder)
        are ignored.
        """
        try:
            buckets = sorted(os.scandir(self.root), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for bucket in buckets:
            if not _FANOUT_RE.fullmatch(bucket.name) or not bucket.is_dir(follow_symlinks=False):
                continue
            for entry in sorted(os.scandir(bucket.path), key=lambda e: e.name):
                storage_name = f"{bucket.name}/{entry.name}"
                if _STORAGE_NAME_RE.fullmatch(storage_name) and entry.is_file(follow_symlinks=False):
                    yield storage_name

    # -- maintenance ------------------------------------------------------

    def sweep_orphans(
        self,
        known_names: set[str] | Callable[[str], bool],
        older_than_seconds: float = 3600,
    ) -> list[str]:
        """Remove stored files no database row refers to, and stale temp files.

        ``known_names`` is either a collection of storage names or a function
        ``name -> bool`` telling whether a name is referenced.  A document is
        removed only if it is unknown *and* its modification time is at least
        ``older_than_seconds`` in the past: a younger file may belong to a
        request that has saved the file but not yet committed its row.  Temp
        files in ``tmp/`` older than the threshold are removed too (left by
        crashed workers).

        Returns the removed names: storage names for documents and
        ``'tmp/<file>'`` for temp files.
        """
        is_known = known_names if callable(known_names) else known_names.__contains__
        cutoff = time.time() - older_than_seconds
        removed: list[str] = []

        for storage_name in list(self.iter_files()):
            path = self.root / storage_name
            try:
                if os.lstat(path).st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            if is_known(storage_name):
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(storage_name)

        try:
            temps = sorted(os.scandir(self.tmp), key=lambda e: e.name)
        except FileNotFoundError:
            temps = []
        for entry in temps:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_mtime > cutoff:
                continue
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            removed.append(f"{_TMP_DIR}/{entry.name}")

        return removed


# --------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------

# RFC 5987 attr-char minus ALPHA/DIGIT: everything else gets percent-encoded.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def content_disposition(display_name: str, inline: bool = False) -> str:
    """Build a safe ``Content-Disposition`` header value (RFC 6266 / 5987).

    Returns ``attachment; filename="<ascii>"; filename*=UTF-8''<encoded>``.
    The ASCII fallback (for old clients) replaces non-ASCII characters with
    ``_`` and drops quotes and backslashes; if no ASCII letters or digits
    remain in the stem it becomes ``document`` plus the extension.  With
    ``inline=True`` the disposition is ``inline`` — only for PDFs and images
    that staff view inside the page.
    """
    name = clean_display_name(display_name)
    stem, ext = _split_ext(name)

    def to_ascii(text: str) -> str:
        # "%" is dropped too: some clients percent-decode the plain filename.
        return "".join("_" if ord(ch) > 0x7E else ch for ch in text if ch not in '"\\%')

    fallback_stem = to_ascii(stem).strip()
    fallback_ext = ext if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", ext) else ""
    if not re.search(r"[A-Za-z0-9]", fallback_stem):
        fallback_stem = _DEFAULT_NAME
    fallback = fallback_stem + fallback_ext

    disposition = "inline" if inline else "attachment"
    encoded = quote(name, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def safe_headers(content_type) -> dict:
    """Response headers for serving a stored document.

    ``nosniff`` plus the exact type stops browsers from reinterpreting the
    bytes as HTML; the sandboxing CSP neuters anything that slips through;
    ``no-store`` keeps personal documents out of shared caches.  Only the
    three accepted types are passed through; anything else is served as
    ``application/octet-stream``.
    """
    normalized = content_type.strip().lower() if isinstance(content_type, str) else ""
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Content-Type": normalized if normalized in ALLOWED_CONTENT_TYPES else "application/octet-stream",
    }
