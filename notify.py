"""Sending the SMS outbox: the backends and the delivery worker. Imports no Flask.

Callers never send an SMS themselves: they write a row with
:func:`models.queue_sms` inside the transaction of the change it reports, and
this module delivers those rows afterwards. A failed send therefore never
rolls back a decision, and a rolled-back decision never sends an SMS.

Delivery guarantee: **at least once, with at most one duplicate per crash.**
Each row is claimed with a short lease (``locked_until``) before it is sent and
marked ``sent`` right after. If the process dies (or the database write fails)
between the provider accepting the message and the row being marked, the row
is still ``pending``; once the lease expires another pass sends it again. The
same holds for a timeout after the provider already accepted the request. We
accept that rare duplicate rather than risk losing a message.

Lifecycle of a row::

    pending --send ok--------------------------------------> sent
    pending --temporary failure, attempts < max_attempts---> pending (backoff)
    pending --temporary failure, attempts == max_attempts--> failed
    pending --permanent failure----------------------------> failed
    failed  --resend() (back office)-----------------------> pending

Rows are never deleted here, so a message is never lost: the worst case is a
``failed`` row with its ``last_error``, which the back office can resend.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import weakref
from http.client import HTTPException
from pathlib import Path

from models import SmsOutbox, db, utcnow, wipe_sms_secrets

# How long a claimed row stays invisible to other workers. It only has to
# outlast one send (the Kavenegar timeout is 10 s); when it expires, a row
# whose sender crashed becomes due again.
CLAIM_LEASE = _dt.timedelta(minutes=2)
BACKOFF_BASE = _dt.timedelta(seconds=30)
BACKOFF_CAP = _dt.timedelta(hours=6)
MAX_ERROR_LENGTH = 1000
log = logging.getLogger("registry.notify")


class DeliveryFailure(Exception):
    """A backend could not hand the message to the provider."""


class TemporaryFailure(DeliveryFailure):
    """Worth retrying later: the network, the provider or our account is down."""


class PermanentFailure(DeliveryFailure):
    """Retrying cannot help: this message itself was refused (e.g. a bad number)."""


# --------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------


class LogBackend:
    """Development backend: appends each SMS as one JSON line to a file.

    Lines look like ``{"to": "0912...", "text": "...", "at": "2024-05-01T08:30:00+00:00"}``
    with Persian text written as-is (not ``\\u`` escapes) so the file is readable.
    """

    def __init__(self, path):
        self.path = Path(path)

    def send(self, to: str, text: str) -> str:
        """Append the message and return a made-up provider id."""
        at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        line = json.dumps({"to": to, "text": text, "at": at}, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # One write() on an O_APPEND file: lines from several workers never interleave.
            # The file is the developer's phone (codes in clear): only its owner reads it.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                # The row is marked sent right after this returns: make the line durable first.
                os.fsync(handle.fileno())
        except OSError as exc:
            # A full disk or a permission problem is fixed by an operator, not by the message.
            raise TemporaryFailure(f"log backend cannot write {self.path}: {exc}") from exc
        return "log-" + uuid.uuid4().hex[:16]


def scrub_log_file(path) -> int:
    """Mask the one-time codes in an SMS log written by an earlier release (world-readable
    then: findings M2 and L12) and leave it 0600; return how many lines changed. Run once,
    by ``flask init-db`` when it applies migration 017 (lines written since are the
    developer's phone and keep their codes)."""
    from models import mask_sms_codes

    path = Path(path)
    if not path.is_file():
        return 0
    os.chmod(path, 0o600)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed, kept = 0, []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            text = mask_sms_codes(entry["text"])
            if text != entry["text"]:
                changed += 1
                line = json.dumps({**entry, "text": text}, ensure_ascii=False) + "\n"
        kept.append(line)
    if changed:
        # Written beside it and renamed over it: never a half-scrubbed log.
        scratch = path.with_name(path.name + ".scrub")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.writelines(kept)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    return changed


# Kavenegar ``return.status`` codes (also used as the HTTP status of error
# responses) that are *not* a problem of the message itself, so retrying later
# can succeed. Every other 4xx is permanent; every 5xx is temporary.
KAVENEGAR_TEMPORARY_STATUSES = {
    401: "account disabled",
    403: "API key refused",
    407: "access not allowed (e.g. server IP not whitelisted)",
    409: "provider cannot answer now",
    418: "insufficient credit",
    429: "too many requests",
    451: "too many calls in the time window",
}


def is_temporary_status(status: int) -> bool:
    """True if an HTTP or Kavenegar status means "try again later"."""
    return status >= 500 or status in KAVENEGAR_TEMPORARY_STATUSES


class KavenegarBackend:
    """Sends through the Kavenegar REST API (``POST /v1/{api_key}/sms/send.json``).

    Form fields: ``receptor`` (the mobile number), ``message`` and ``sender``
    (our line number; omitted when empty so the account default is used). A
    success looks like::

        {"return": {"status": 200, "message": "تایید شد"},
         "entries": [{"messageid": 8792343, "status": 1, ...}]}

    and ``send`` returns ``str(messageid)``. Error responses carry the same
    ``return`` object with an error status, usually also as the HTTP status.

    How failures are classified (the Kavenegar ``return.status`` wins when the
    body has one, else the HTTP status is used):

    ============================================  ==========  ==================================
    Condition                                     Class       Why
    ============================================  ==========  ==================================
    network error, DNS failure, refused           temporary   the network comes back
    timeout (connect or read)                     temporary   provider slow; may duplicate once
    HTTP / Kavenegar 5xx                          temporary   provider-side fault
    429 / 451 (throttled, too many calls)         temporary   slow down and retry
    409 (provider cannot answer now)              temporary   provider-side, "try later"
    418 (insufficient credit)                     temporary   operator tops up; keep messages
    401 / 403 / 407 (account off, key, IP)        temporary   operator fixes config; a bad key
                                                              must not fail the whole queue
    200 with a body that is not Kavenegar JSON    temporary   a proxy page, not an answer
    411 (invalid receptor)                        permanent   this number will never work
    412 (invalid sender)                          permanent   refused request as sent
    413 / 414 (message empty, too long, too big)  permanent   this text will never pass
    any other 4xx (400, 402, 404, 422, ...)       permanent   the request itself is wrong
    ============================================  ==========  ==================================

    A permanent failure marks the row ``failed`` at once; the back office can
    still resend it. The API key is part of the URL, so it is redacted from
    every error text this class produces.
    """

    def __init__(
        self, api_key: str, sender: str = "", base_url: str = "https://api.kavenegar.com", timeout: float = 10
    ):
        if not api_key:
            raise ValueError("KavenegarBackend needs an API key")
        self.api_key = api_key
        self.sender = sender or ""
        self.base_url = (base_url or "https://api.kavenegar.com").rstrip("/")
        self.timeout = timeout

    def __repr__(self):
        # Never show the key, even in a traceback or a debugger.
        return f"KavenegarBackend(sender={self.sender!r}, base_url={self.base_url!r})"

    @property
    def url(self) -> str:
        key = urllib.parse.quote(self.api_key, safe="")
        return f"{self.base_url}/v1/{key}/sms/send.json"

    def send(self, to: str, text: str) -> str:
        """Send one SMS; return Kavenegar's message id or raise a DeliveryFailure."""
        fields = {"receptor": to, "message": text}
        if self.sender:
            fields["sender"] = self.sender
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(fields).encode("utf-8"),
            method="POST",
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return self._accepted(response.status, response.read())
        except urllib.error.HTTPError as exc:
            # Error statuses still carry Kavenegar's JSON explaining the refusal.
            body = _read_quietly(exc)
            raise self._failure(exc.code, body) from None
        except (urllib.error.URLError, TimeoutError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise TemporaryFailure(self.redact(f"kavenegar unreachable: {reason!r}")) from None

    def _accepted(self, http_status: int, body: bytes) -> str:
        """The message id from a 2xx answer, or the failure the body reports."""
        status, message, payload = _parse_kavenegar(body)
        if status != 200:
            raise self._failure(http_status, body)
        entries = payload.get("entries") or []
        if entries and isinstance(entries[0], dict) and entries[0].get("messageid") is not None:
            return str(entries[0]["messageid"])
        # Accepted without an id: still accepted, so do not send it again.
        return ""

    def _failure(self, http_status: int, body: bytes) -> DeliveryFailure:
        status, message, _ = _parse_kavenegar(body)
        if status is None:
            if 200 <= http_status < 300:
                return TemporaryFailure(self.redact(f"kavenegar HTTP {http_status}: unreadable answer {body[:200]!r}"))
            status, message = http_status, "no Kavenegar status in the answer"
        kind = TemporaryFailure if is_temporary_status(status) else PermanentFailure
        return kind(self.redact(f"kavenegar {status} (HTTP {http_status}): {message}"))

    def redact(self, text: str) -> str:
        """Remove the API key (raw and URL-quoted) from a text meant for logs or the database."""
        for secret in {self.api_key, urllib.parse.quote(self.api_key, safe="")}:
            if secret:
                text = text.replace(secret, "***")
        return text


def _read_quietly(response) -> bytes:
    try:
        return response.read()
    except Exception:  # noqa: BLE001 - the status alone still classifies the error
        return b""


def _parse_kavenegar(body: bytes):
    """(return.status, return.message, payload); status is None if not Kavenegar JSON."""
    try:
        payload = json.loads(body.decode("utf-8"))
        ret = payload["return"]
        return int(ret["status"]), str(ret.get("message", "")), payload
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        return None, "", {}


def backend_from_config(config: dict):
    """Build the backend named by ``SMS_BACKEND`` ('log', the default, or 'kavenegar').

    Keys: ``SMS_LOG_FILE`` (log), ``KAVENEGAR_API_KEY``, ``KAVENEGAR_SENDER``,
    ``KAVENEGAR_URL`` and optionally ``KAVENEGAR_TIMEOUT`` (kavenegar).
    """
    name = (config.get("SMS_BACKEND") or "log").strip().lower()
    if name == "log":
        path = config.get("SMS_LOG_FILE")
        if not path:
            raise ValueError("SMS_BACKEND=log needs SMS_LOG_FILE")
        return LogBackend(path)
    if name == "kavenegar":
        if not config.get("KAVENEGAR_API_KEY"):
            raise ValueError("SMS_BACKEND=kavenegar needs KAVENEGAR_API_KEY")
        return KavenegarBackend(
            config["KAVENEGAR_API_KEY"],
            config.get("KAVENEGAR_SENDER", ""),
            base_url=config.get("KAVENEGAR_URL") or "https://api.kavenegar.com",
            timeout=float(config.get("KAVENEGAR_TIMEOUT", 10)),
        )
    raise ValueError(f"unknown SMS_BACKEND {name!r} (use 'log' or 'kavenegar')")


# --------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------


def _due(now):
    """Rows a worker may take now: pending, due, and not leased by another worker."""
    return (
        (SmsOutbox.status == "pending")
        & (SmsOutbox.next_attempt_at <= now)
        & (SmsOutbox.locked_until.is_null() | (SmsOutbox.locked_until < now))
    )


def backoff_delay(attempts: int) -> _dt.timedelta:
    """Wait after the ``attempts``-th failed try: 30 s * 2**attempts, at most 6 h.

    1 -> 1 min, 2 -> 2 min, 3 -> 4 min ... 7 -> 64 min; with the default 8
    attempts a message keeps being retried for about two hours.
    """
    # Cap the exponent first so a huge attempts count cannot build a huge integer.
    return min(BACKOFF_BASE * (2 ** min(attempts, 20)), BACKOFF_CAP)


def claim(sms_id: int, now=None, lease: _dt.timedelta = CLAIM_LEASE) -> bool:
    """Lease one due row for ``lease``; True only for the single worker that got it.

    The conditional UPDATE is the lock: of two workers racing for a row, the
    database lets exactly one change it (rowcount 1); the other sees 0.
    """
    now = now or utcnow()
    with db.atomic():
        changed = SmsOutbox.update(locked_until=now + lease).where((SmsOutbox.id == sms_id) & _due(now)).execute()
    return changed == 1


def _mark_sent(sms, provider_id: str, at) -> None:
    with db.atomic():
        (
            SmsOutbox.update(
                status="sent",
                sent_at=at,
                provider_id=(provider_id or "")[:60],
                attempts=SmsOutbox.attempts + 1,
                locked_until=None,
                last_error="",
            )
            .where(SmsOutbox.id == sms.id)
            .execute()
        )
        wipe_sms_secrets(sms.id)


def _mark_failed_try(sms, error: str, at, permanent: bool, max_attempts: int) -> str:
    """Record a failed try; return 'failed' or 'retry'."""
    attempts = sms.attempts + 1
    gave_up = permanent or attempts >= max_attempts
    with db.atomic():
        (
            SmsOutbox.update(
                status="failed" if gave_up else "pending",
                attempts=attempts,
                next_attempt_at=at if gave_up else at + backoff_delay(attempts),
                last_error=error[:MAX_ERROR_LENGTH],
                locked_until=None,
            )
            .where(SmsOutbox.id == sms.id)
            .execute()
        )
        if gave_up:
            wipe_sms_secrets(sms.id)
    return "failed" if gave_up else "retry"


def _deliver_one(backend, sms, at, max_attempts: int) -> str:
    """Send one claimed row and record the outcome; return 'sent', 'retry' or 'failed'."""
    try:
        provider_id = backend.send(sms.to, sms.render())
    except PermanentFailure as exc:
        return _mark_failed_try(sms, str(exc), at, True, max_attempts)
    except TemporaryFailure as exc:
        return _mark_failed_try(sms, str(exc), at, False, max_attempts)
    except Exception as exc:  # noqa: BLE001
        # A bug or an unexpected library error: retry rather than lose the message.
        return _mark_failed_try(sms, f"{type(exc).__name__}: {exc}", at, False, max_attempts)
    _mark_sent(sms, provider_id, at)
    return "sent"


def deliver_pending(backend, limit: int = 100, now=None, max_attempts: int = 8) -> dict:
    """Send up to ``limit`` due messages; return ``{'sent': n, 'retry': n, 'failed': n}``.

    Safe to run in several processes at once: each row is claimed first (see
    :func:`claim`) and a row another worker holds is skipped. Every database
    change is its own short transaction, and no transaction is open while the
    provider is called, so a slow provider never holds a database lock.
    ``now`` (naive UTC) lets tests move time forward instead of sleeping.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    start = now or utcnow()
    ids = [
        row.id
        for row in (
            SmsOutbox.select(SmsOutbox.id)
            .where(_due(start))
            .order_by(SmsOutbox.next_attempt_at, SmsOutbox.id)
            .limit(limit)
        )
    ]
    for sms_id in ids:
        at = now or utcnow()
        if not claim(sms_id, at):
            continue  # another worker took it between our SELECT and our UPDATE
        sms = SmsOutbox.get_or_none(SmsOutbox.id == sms_id)
        if sms is None:
            continue
        counts[_deliver_one(backend, sms, at, max_attempts)] += 1
    return counts


def resend(sms_ids) -> int:
    """Put failed messages back in the queue, due now, with a fresh attempt count.

    Used by the back office. Only ``failed`` rows change, so a double click or
    a stale list never resends a message that was sent meanwhile. Returns the
    number of rows put back.
    """
    ids = [int(sms_id) for sms_id in sms_ids]
    # A message whose one-time code was wiped cannot be sent again (the code is gone, and
    # it would have expired anyway).
    ids = [sms.id for sms in SmsOutbox.select().where(SmsOutbox.id.in_(ids)) if not sms.secret_wiped]
    if not ids:
        return 0
    with db.atomic():
        return (
            SmsOutbox.update(status="pending", attempts=0, next_attempt_at=utcnow(), locked_until=None, last_error="")
            .where(SmsOutbox.id.in_(ids) & (SmsOutbox.status == "failed"))
            .execute()
        )


def _report(exc: BaseException) -> None:
    log.error("delivery pass failed", exc_info=exc)


def deliver_loop(backend, interval: float = 5, stop_event: threading.Event | None = None) -> None:
    """Run :func:`deliver_pending` every ``interval`` seconds until ``stop_event`` is set.

    For a dedicated worker process (or a thread). Errors of one pass, such as
    the database being unreachable, are printed to stderr and the loop goes on.
    Each pass opens and closes its own connection, so no connection idles
    between passes.
    """
    stop_event = stop_event or threading.Event()
    while not stop_event.is_set():
        try:
            with db.connection_context():
                deliver_pending(backend)
        except Exception as exc:  # noqa: BLE001 - the loop must survive a bad pass
            _report(exc)
        stop_event.wait(interval)


class BackgroundSender:
    """Delivers the outbox from a daemon thread inside the web process.

    With it, a message queued by a request goes out within a second of
    :meth:`kick` (call it *after* the transaction that queued the SMS has
    committed), without running a separate worker. The thread also wakes every
    ``interval`` seconds on its own, which drives the retries.

    The thread uses the global ``db`` proxy the app has already bound: peewee
    keeps one connection per thread, so each pass runs on the thread's own
    connection (opened and closed around the pass) and nothing global is
    rebound. ``database_url`` is kept for the record and for the error message
    when the proxy was never bound in this process.

    Pre-fork servers (gunicorn): nothing starts in ``__init__``. The thread is
    started lazily by the first ``kick()`` in each process, and again whenever
    it has died or the process id changed (a forked child does not inherit
    running threads). Several workers running a thread each is safe because
    rows are claimed before they are sent.
    """

    def __init__(
        self, backend_factory, database_url: str, interval: float = 30, limit: int = 100, max_attempts: int = 8
    ):
        self.backend_factory = backend_factory
        self.database_url = database_url
        self.interval = interval
        self.limit = limit
        self.max_attempts = max_attempts
        self._reset()
        # A lock held by another thread at fork time would stay held forever
        # in the child: give the child fresh primitives (weakref: no leak).
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (ref() or _Nothing)._reset())

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._pid = os.getpid()

    def kick(self) -> None:
        """Wake the sender now, starting its thread if this process has none."""
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._wake, self._stop), name="sms-sender", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread and wait for its current pass (used by tests and shutdown)."""
        thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def _run(self, wake: threading.Event, stop: threading.Event) -> None:
        try:
            # Built here, in the process that sends, never inherited across a fork.
            backend = self.backend_factory()
        except Exception as exc:  # noqa: BLE001 - the next kick() tries again
            _report(exc)
            return
        while not stop.is_set():
            wake.wait(self.interval)
            # Clear before the pass: a kick() during the pass triggers one more pass.
            wake.clear()
            if stop.is_set():
                break
            self._pass(backend)

    def _pass(self, backend) -> None:
        if db.obj is None:
            log.error("database proxy not bound in this process (%s)", self._safe_url())
            return
        try:
            with db.connection_context():
                deliver_pending(backend, limit=self.limit, max_attempts=self.max_attempts)
        except Exception as exc:  # noqa: BLE001 - the thread must survive a bad pass
            _report(exc)

    def _safe_url(self) -> str:
        """The database URL without its password, for an error message."""
        parts = urllib.parse.urlsplit(self.database_url or "")
        if parts.password:
            netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
            return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        return self.database_url or ""


class _Nothing:
    """Stand-in for a BackgroundSender that was garbage-collected before a fork."""

    @staticmethod
    def _reset():
        pass


__all__ = [
    "DeliveryFailure",
    "TemporaryFailure",
    "PermanentFailure",
    "LogBackend",
    "KavenegarBackend",
    "KAVENEGAR_TEMPORARY_STATUSES",
    "is_temporary_status",
    "backend_from_config",
    "backoff_delay",
    "claim",
    "deliver_pending",
    "resend",
    "deliver_loop",
    "BackgroundSender",
    "CLAIM_LEASE",
]
