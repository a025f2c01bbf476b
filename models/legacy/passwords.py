"""Legacy passwords: which can be imported, what is stored for them, and hashing them in parallel.

Contract: :func:`password_job` reads a row's password columns into a job
``(format, secret, salt)`` or adds a :class:`Problem`; :func:`stored_password` is what
the database keeps for a job (argon2id of a clear password, or the ASP.NET SHA-1
wrapped by :func:`models.accounts.wrap_legacy_hash`; never the clear password nor the
bare SHA-1); :class:`Hashing` computes a batch's stored passwords, in order, in a
process pool or inline. Why the import has its own argon2id profile: README.md.
"""

from __future__ import annotations

import base64
import binascii
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from argon2 import PasswordHasher
from peewee import chunked

from persian import to_ascii_digits

from ..accounts import wrap_legacy_hash
from ..base import N_
from .report import Problem

# argon2id for imported hashes only; replaced by the production profile at the first login.
IMPORT_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
# Chunks per worker and batch: small enough to keep every worker busy to the batch's end.
CHUNKS_PER_WORKER = 4


def password_job(row: dict, problems: list):
    """(format, secret, salt) to hash, or None with a problem added."""
    fmt = to_ascii_digits(row.get("password_format", "")).strip()
    password, salt = row.get("password", ""), (row.get("password_salt") or "").strip()
    if fmt not in ("0", "1"):
        problems.append(
            Problem(
                "password_format",
                "unknown_password_format",
                N_("Unknown password format %(format)s: only 0 (clear) and 1 (hashed) can be imported."),
                {"format": fmt or "-"},
            )
        )
        return None
    if not password:
        problems.append(Problem("password", "missing_password", N_("The password is empty."), {}))
        return None
    if fmt == "0":
        return ("0", password, "")
    password = password.strip()
    try:
        digest = base64.b64decode(password, validate=True)
        # ASP.NET salts are 16 bytes; a bound keeps the stored string within its column.
        salt_ok = 0 < len(base64.b64decode(salt, validate=True)) <= 64
    except (binascii.Error, ValueError):
        digest, salt_ok = b"", False
    if len(digest) != 20 or not salt_ok:
        problems.append(
            Problem(
                "password",
                "invalid_password_hash",
                N_("The password hash or its salt is not valid base64 of the expected length."),
                {},
            )
        )
        return None
    return ("1", password, salt)


def stored_password(fmt: str, secret: str, salt: str, hasher: PasswordHasher = IMPORT_HASHER) -> str:
    """What the database keeps for a legacy password: format 0 is a clear password, format 1
    an ASP.NET Membership SHA-1 (base64) with its salt."""
    if fmt == "0":
        return hasher.hash(secret)
    return wrap_legacy_hash(secret, salt, hasher)


def stored_passwords(hasher: PasswordHasher, jobs) -> list[str]:
    """:func:`stored_password` of each job, in order (one task of the pool, or inline)."""
    return [stored_password(fmt, secret, salt, hasher) for fmt, secret, salt in jobs]


class Hashing:
    """Computes a batch's stored passwords in a process pool (started on first use) or inline.

    :meth:`submit` returns at once with a list of futures whose results, concatenated,
    are the batch's hashes in the jobs' order; the caller keeps at most a couple of
    batches in flight, which bounds the memory."""

    def __init__(self, hasher: PasswordHasher, processes: int, use_pool: bool):
        self.hasher, self.processes, self.use_pool = hasher, max(1, processes), use_pool
        self.executor = None

    def submit(self, jobs: list) -> list[Future]:
        if not jobs:
            return []
        if not self.use_pool:
            done = Future()
            done.set_result(stored_passwords(self.hasher, jobs))
            return [done]
        if self.executor is None:
            # spawn: a fresh interpreter, so no database connection or lock is inherited.
            self.executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        size = max(1, -(-len(jobs) // (self.processes * CHUNKS_PER_WORKER)))
        # The hasher travels with each task (a few hundred bytes): no per-worker global.
        return [self.executor.submit(stored_passwords, self.hasher, chunk) for chunk in chunked(jobs, size)]

    @staticmethod
    def results(futures: list[Future]) -> list[str]:
        """The hashes of one :meth:`submit`, in the jobs' order (waits for them)."""
        return [stored for future in futures for stored in future.result()]

    def close(self, failed: bool = False):
        """Stop the pool; after a failure, drop the batches not yet started."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=failed)
            self.executor = None
