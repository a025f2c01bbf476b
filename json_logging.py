"""Log lines as JSON objects, one per line, with personal data taken out: the formatters of
the application's logging and of gunicorn's error and access logs.

Why a top-level module of its own: gunicorn's master process loads it from
``gunicorn.conf.py`` (``logger_class``) before any application code, so it imports neither
Flask nor the application.

What no log line may carry (the seed's privacy rule and SECURITY-CHECKLIST 30): a national
code, a mobile number, a one-time code, or a query string (``/verify?q=…``,
``?username=…``). Rather than trusting every caller, every line is scrubbed on its way
out: any run of six or more digits (ASCII, Persian or Arabic-Indic; a national code has
ten, a mobile eleven, a code six), also percent-encoded in a URL, standing alone becomes
``[number]``, and whatever follows
a ``?`` in a path becomes ``[query]``. Digits inside a word (a hexadecimal request id, a
hash) are left as they are; so are the numbers we log as numbers (status, durations).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import sys

# A digit: ASCII, Persian (U+06F0-06F9) or Arabic-Indic (U+0660-0669), as it is or
# percent-encoded in a URL (%3x, %DB%Bx, %D9%Ax).
_DIGIT = r"(?:[0-9\u06f0-\u06f9\u0660-\u0669]|%3[0-9]|%DB%B[0-9]|%D9%A[0-9])"
LONG_NUMBER = re.compile(rf"(?<!\w)\+?{_DIGIT}{{6,}}(?!\w)", re.IGNORECASE)
QUERY_STRING = re.compile(r"(?<=[\w/.%-])\?[^\s\"'<>]+")
HANDLER_MARK = "_registry_handler"


def redact(text: str) -> str:
    """``text`` without long numbers and query strings."""
    return LONG_NUMBER.sub("[number]", QUERY_STRING.sub("?[query]", text))


class RedactingFormatter(logging.Formatter):
    """A plain text line (for development), scrubbed like the JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...}``: the fields a caller passes as
    ``extra={"fields": {...}}`` are added (their text scrubbed), and ``exc`` holds a
    traceback (scrubbed too: a database error quotes the values it refused)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(kind: str) -> logging.Formatter:
    """``json`` (production) or ``text`` (development)."""
    if kind == "text":
        return RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return JsonFormatter()


def configure(kind: str = "json", level: str = "INFO", stream=None) -> None:
    """Send every logger's records (the application's, the libraries') to one handler on the
    root logger, formatted as ``kind``; safe to call again (the handler is replaced)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(kind))
    setattr(handler, HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a dependency; `make run` does not use it
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with JSON lines: the error log through :class:`JsonFormatter`, and
    one access line per request with the path but never the query string."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((name.lower(), value) for name, value in resp.headers)
        fields = {
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id", ""),
        }
        self.access_log.info("access", extra={"fields": fields})
