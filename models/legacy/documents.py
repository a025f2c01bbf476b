"""The optional last phase: ``documents.csv``, the officers' scanned documents.

Contract: each row (``national_code, kind, path``, the path relative to the import's
directory) names one file that becomes a document in force of an imported officer
(:data:`models.request_records.LEGACY_DOCUMENTS`: it belongs to no request). A file is
judged exactly like an upload, by :meth:`storage.DocumentStore.save` itself (its content
sniffed, its size and picture capped) and the officer's byte quota of
:mod:`models.uploads`; every refused file is a report line, never a crash. The check
saves the file into a scratch store that is emptied at once, so a dry run writes neither
the database nor the document store; a real run saves it again into the app's store in
its batch. Already present: the officer has the same file (by its SHA-256) as a migrated
document of that kind; a different one is refused, never replaced. A path that leaves
the directory (``..``, an absolute path, a symbolic link pointing out) is refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from peewee import fn

import storage
from persian import normalize_national_code

from ..accounts import Officer
from ..base import N_
from ..reference import DocumentKind
from ..request_records import LEGACY_DOCUMENTS, Document
from ..uploads import MAX_OFFICER_BYTES
from .files import DOCUMENTS, plain_key
from .phase import Candidate, Checked, Context, Outcome, Phase, Refusal, insert_rows, select_in
from .report import Problem

# What storage.save() refuses, as the report's codes.
_UPLOAD_CODES = {
    storage.MSG_EMPTY: "empty_file",
    storage.MSG_WRONG_TYPE: "wrong_file_type",
    storage.MSG_TOO_LARGE: "file_too_large",
}


def _problem(field: str | None, code: str, msgid: str, **params) -> Problem:
    return Problem(field, code, msgid, params)


class DocumentPhase(Phase):
    file = DOCUMENTS

    def __init__(self, context: Context, officers: Outcome, directory: Path, store: storage.DocumentStore | None):
        super().__init__(context)
        self.officers = officers
        self.directory = Path(directory).resolve()
        self.store = store
        self.kinds = {k.code: k.id for k in DocumentKind.select(DocumentKind.id, DocumentKind.code)}
        # The check's own store: every file saved there is deleted at once (see close()).
        self._scratch_dir = tempfile.TemporaryDirectory(prefix="legacy-documents-")
        self.scratch = storage.DocumentStore(self._scratch_dir.name)
        self.bytes_by_officer = {}  # national code -> bytes of this file's accepted rows

    def close(self) -> None:
        self._scratch_dir.cleanup()

    # -- one row
    def validate(self, line, row):
        national_code = normalize_national_code(row["national_code"])
        kind = plain_key(row["kind"]).lower()
        key = f"{national_code}:{kind}"
        problems = []
        if national_code not in self.officers.accepted:
            problems.append(
                _problem(
                    "national_code",
                    "officer_not_imported",
                    N_("The officer with this national code was not imported (refused or missing in officers.csv)."),
                )
            )
        if kind not in self.kinds:
            problems.append(
                _problem(
                    "kind",
                    "unknown_document_kind",
                    N_("Unknown document kind %(kind)s; the kinds are: %(kinds)s."),
                    kind=kind,
                    kinds=", ".join(sorted(self.kinds)),
                )
            )
        duplicate = self.duplicate_problem(
            "document",
            key,
            N_("Several rows give this officer a document of this kind (lines %(lines)s); none of them was imported."),
            code="duplicate_document",
        )
        if duplicate:
            problems.append(duplicate)
        path, path_problem = self._path(row["path"])
        if path_problem:
            problems.append(path_problem)
        if problems:
            return Refusal(line, key, problems, key)
        checked = self._check_content(path)
        if isinstance(checked, Problem):
            return Refusal(line, key, [checked], key)
        held = self.bytes_by_officer.get(national_code, 0) + checked.size
        if held > MAX_OFFICER_BYTES:
            return Refusal(line, key, [self._quota_problem()], key)
        self.bytes_by_officer[national_code] = held
        values = {
            "kind": self.kinds[kind],
            "display_name": checked.display_name,
            "content_type": checked.content_type,
            "size": checked.size,
            "sha256": checked.sha256,
            "uploaded_at": self.context.now,
        }
        return Candidate(line, key, values, extra={"national_code": national_code, "path": path})

    def _path(self, raw: str) -> tuple[Path | None, Problem | None]:
        """The file a row names, inside the import's directory, or the problem with it."""
        text = (raw or "").strip().replace("\\", "/")
        relative = Path(text)
        if not text or relative.is_absolute() or ".." in relative.parts:
            return None, _problem(
                "path",
                "invalid_document_path",
                N_("The path %(path)s is not a file name inside the import's directory."),
                path=text,
            )
        path = (self.directory / relative).resolve()
        if not path.is_relative_to(self.directory):
            return None, _problem(
                "path",
                "invalid_document_path",
                N_("The path %(path)s is not a file name inside the import's directory."),
                path=text,
            )
        if not path.is_file():
            return None, _problem("path", "missing_document_file", N_("The file %(path)s is missing."), path=text)
        return path, None

    def _check_content(self, path: Path):
        """The file judged like an upload (saved into the scratch store, then deleted)."""
        try:
            with open(path, "rb") as handle:
                stored = self.scratch.save(handle, path.name)
        except storage.UploadRejected as error:
            return Problem("path", _UPLOAD_CODES.get(error.msgid, "file_refused"), error.msgid, error.params)
        except (storage.StorageUnavailable, OSError):
            return _problem("path", "unreadable_document", N_("The file could not be read."))
        self.scratch.delete(stored.storage_name)
        return stored

    @staticmethod
    def _quota_problem() -> Problem:
        return _problem(
            "path",
            "officer_quota",
            N_("The officer's documents would take more than %(mb)d MB, the most an account may hold."),
            mb=MAX_OFFICER_BYTES // (1024 * 1024),
        )

    # -- one batch
    def precheck(self, batch):
        codes = list({c.extra["national_code"] for c in batch})
        officers = {
            o.national_code: o.id
            for o in select_in(Officer, (Officer.national_code,), [(Officer.national_code, codes)])
        }
        ids = list(officers.values())
        migrated, held = {}, {}
        if ids:
            for document in Document.select(Document.officer, Document.kind, Document.sha256).where(
                (Document.officer.in_(ids)) & (Document.request_type == LEGACY_DOCUMENTS)
            ):
                migrated[(document.officer_id, document.kind_id)] = document.sha256
            held = dict(
                Document.select(Document.officer, fn.SUM(Document.size))
                .where(Document.officer.in_(ids))
                .group_by(Document.officer)
                .tuples()
            )
        checked = Checked()
        for c in batch:
            officer_id = officers.get(c.extra["national_code"])
            c.values["officer"] = officer_id
            c.values["request_id"] = officer_id
            existing = migrated.get((officer_id, c.values["kind"]))
            if existing == c.values["sha256"]:
                checked.present.append(c)
            elif existing is not None:
                checked.refused.append(
                    self.refusal(
                        c,
                        _problem(
                            None,
                            "document_exists",
                            N_("This officer already has another migrated document of this kind; it was not replaced."),
                        ),
                    )
                )
            elif officer_id is not None and held.get(officer_id, 0) + c.values["size"] > MAX_OFFICER_BYTES:
                checked.refused.append(self.refusal(c, self._quota_problem()))
            else:
                if officer_id is not None:
                    held[officer_id] = held.get(officer_id, 0) + c.values["size"]
                checked.new.append(c)
        return checked

    def insert(self, batch):
        """Save each file into the app's store (judged again: it is read again), then its
        row. A file whose row does not commit is an orphan that ``sweep-documents`` removes."""
        rows, keys = [], {}
        for c in batch:
            try:
                with open(c.extra["path"], "rb") as handle:
                    stored = self.store.save(handle, c.extra["path"].name)
            except (storage.UploadRejected, storage.StorageUnavailable, OSError):
                continue  # changed or unreadable since the check: reported as not written
            rows.append(
                {
                    **c.values,
                    "request_type": LEGACY_DOCUMENTS,
                    "storage_name": stored.storage_name,
                    "display_name": stored.display_name,
                    "content_type": stored.content_type,
                    "size": stored.size,
                    "sha256": stored.sha256,
                }
            )
            keys[stored.storage_name] = c.key
        insert_rows(Document, rows)
        written = select_in(Document, (Document.storage_name,), [(Document.storage_name, list(keys))])
        return {keys[d.storage_name] for d in written}
