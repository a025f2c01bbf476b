"""Consistent online backups of the database and the documents, with a hash manifest.

Why a module of its own: it is operations code (files, subprocesses, the SQLite backup
API, pg_dump) that neither the domain nor the web layer should carry.

Order matters: the database is copied first, then the documents. A document is always
written before the row that names it commits, and documents are never deleted while
a row names them, so every document the database copy refers to is in the copy.

The manifest records the row count of every table *as copied*: on SQLite counted in the
copy, on PostgreSQL in the very snapshot ``pg_dump`` reads (exported from a repeatable-read
transaction and handed to ``pg_dump --snapshot``), so writes that continue during the
backup never make the counts disagree with the dump. ``restore`` checks the restored
database against them.

Everything written is readable by its owner only: the copy holds personal data,
password hashes and SMS texts.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

MANIFEST = "manifest.json"
# Restored documents get the modes storage.DocumentStore gives the ones it writes.
DOCUMENT_MODE, BUCKET_MODE = 0o640, 0o750


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def _pg_env(url: str) -> tuple[list[str], dict]:
    parts = urlsplit(url)
    env = dict(os.environ, PGPASSWORD=parts.password or "")
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "",
        "-d",
        parts.path.lstrip("/"),
    ]
    return args, env


def _pg_connect(url: str):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "",
        password=parts.password or "",
        dbname=parts.path.lstrip("/"),
    )


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [name for (name,) in cursor.fetchall()]


def _pg_row_counts(cursor) -> dict[str, int]:
    counts = {}
    for name in _pg_tables(cursor):
        cursor.execute('SELECT COUNT(*) FROM "{}"'.format(name.replace('"', '""')))
        counts[name] = cursor.fetchone()[0]
    return counts


def _pg_dump_with_counts(database_url: str, dump: Path) -> dict[str, int]:
    """Dump the database and count its rows, both in one snapshot; return the counts."""
    connection = _pg_connect(database_url)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _pg_row_counts(cursor)
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            args, env = _pg_env(database_url)
            subprocess.run(
                ["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(dump), *args], check=True, env=env
            )
        connection.rollback()
    finally:
        connection.close()
    return counts


def row_counts(database_url: str) -> dict[str, int]:
    """The number of rows of every table of a database (a check after a restore)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(str(_sqlite_path(database_url)))
        try:
            names = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return {
                name: connection.execute('SELECT COUNT(*) FROM "{}"'.format(name.replace('"', '""'))).fetchone()[0]
                for name in names
            }
        finally:
            connection.close()
    connection = _pg_connect(database_url)
    try:
        with connection.cursor() as cursor:
            return _pg_row_counts(cursor)
    finally:
        connection.close()


def backup(database_url: str, upload_dir: str, target: str) -> dict:
    """Write a backup into ``target`` (created; must be empty) and return its manifest.

    Everything it creates is its owner's alone (files 0600, directories 0700): a backup
    holds every officer's personal data and every password hash."""
    previous = os.umask(0o077)
    try:
        return _backup(database_url, upload_dir, target)
    finally:
        os.umask(previous)


def _backup(database_url: str, upload_dir: str, target: str) -> dict:
    from storage import DocumentStore

    target_dir = Path(target)
    target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target_dir.chmod(0o700)
    if any(target_dir.iterdir()):
        raise ValueError(f"{target_dir} is not empty")
    files = {}
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(str(_sqlite_path(database_url)))
        destination = sqlite3.connect(str(target_dir / "database.sqlite3"))
        with destination:
            source.backup(destination)  # consistent while writers continue
        destination.close()
        source.close()
        files["database.sqlite3"] = _sha256(target_dir / "database.sqlite3")
        counts = row_counts("sqlite:///" + str(target_dir / "database.sqlite3"))
    else:
        dump = target_dir / "database.dump"
        counts = _pg_dump_with_counts(database_url, dump)
        files["database.dump"] = _sha256(dump)
    store = DocumentStore(upload_dir)
    documents = target_dir / "documents"
    for name in store.iter_files():
        destination = documents / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(store.path_for(name), destination)
        os.chmod(destination, 0o600)
        files["documents/" + name] = _sha256(destination)
    manifest = {
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(),
        "database_url_kind": "sqlite" if database_url.startswith("sqlite") else "postgresql",
        "files": files,
        "row_counts": counts,
    }
    (target_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def verify(source: str) -> dict:
    """Check every file of a backup against its manifest; raise ValueError on a mismatch."""
    source_dir = Path(source)
    manifest = json.loads((source_dir / MANIFEST).read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        path = source_dir / name
        if not path.is_file() or _sha256(path) != digest:
            raise ValueError(f"backup file damaged or missing: {name}")
    return manifest


def restore(database_url: str, upload_dir: str, source: str) -> dict:
    """Bring a verified backup back: the database replaced, the documents copied in.

    Raises ValueError when the backup is damaged, or when the restored database or
    documents differ from the manifest (row counts, file hashes)."""
    manifest = verify(source)
    source_dir = Path(source)
    if database_url.startswith("sqlite"):
        path = _sqlite_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(str(source_dir / "database.sqlite3"))
        live = sqlite3.connect(str(path))
        with live:
            backup_db.backup(live)
        live.close()
        backup_db.close()
    else:
        args, env = _pg_env(database_url)
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(source_dir / "database.dump")],
            check=True,
            env=env,
        )
    from storage import DocumentStore

    store = DocumentStore(upload_dir)
    for name in manifest["files"]:
        if name.startswith("documents/"):
            relative = name[len("documents/") :]
            destination = store.path_for(relative)
            if not destination.parent.is_dir():
                destination.parent.mkdir(mode=BUCKET_MODE)
                os.chmod(destination.parent, BUCKET_MODE)
            shutil.copy2(source_dir / name, destination)
            os.chmod(destination, DOCUMENT_MODE)
            if _sha256(destination) != manifest["files"][name]:
                raise ValueError(f"restored document differs from the backup: {relative}")
    _check_row_counts(database_url, manifest.get("row_counts"))
    return manifest


def _check_row_counts(database_url: str, expected: dict | None) -> None:
    if not expected:
        return  # a backup written before the manifest carried counts
    restored = row_counts(database_url)
    wrong = {table: (count, restored.get(table)) for table, count in expected.items() if restored.get(table) != count}
    if wrong:
        details = ", ".join(
            f"{table}: {want} in the backup, {got} restored" for table, (want, got) in sorted(wrong.items())
        )
        raise ValueError(f"restored database differs from the backup: {details}")
