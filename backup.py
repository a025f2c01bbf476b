"""Consistent online backups of the database and the documents, with a hash manifest.

Why a module of its own: it is operations code (files, subprocesses, the SQLite backup
API, pg_dump) that neither the domain nor the web layer should carry.

Order matters: the database is copied first, then the documents. A document is always
written before the row that names it commits, and documents are never deleted while
a row names them, so every document the database copy refers to is in the copy.
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
    import models
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
        counts_db = sqlite3.connect(str(target_dir / "database.sqlite3"))
        counts = {
            m._meta.table_name: counts_db.execute(f'SELECT COUNT(*) FROM "{m._meta.table_name}"').fetchone()[0]
            for m in models.ALL_MODELS
        }
        counts_db.close()
    else:
        args, env = _pg_env(database_url)
        dump = target_dir / "database.dump"
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), *args], check=True, env=env)
        files["database.dump"] = _sha256(dump)
        counts = None  # measured at restore time on the restored database
    store = DocumentStore(upload_dir)
    documents = target_dir / "documents"
    for name in store.iter_files():
        destination = documents / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(store.path_for(name), destination)
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
    """Bring a verified backup back: the database replaced, the documents copied in."""
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
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source_dir / name, destination)
    return manifest
