"""One log line per request (logger ``registry.request``), with a request id that is also
returned as the ``X-Request-Id`` header.

The id comes from the incoming ``X-Request-Id`` only when a trusted proxy stands in front
(``TRUSTED_PROXY_COUNT`` > 0: the nginx example sets it, so its access log and ours share
the id) and it looks like one (8-128 letters, digits, ``-``, ``_``, ``.``); otherwise a new one
is made. A client reaching the app directly cannot choose the id other lines are filed under.

The line names the route (the endpoint and its URL rule, ``/officer/documents/<int:document_id>``),
never the path as typed nor its query string; the account is its kind and row id. What
json_logging scrubs from every line is thus not even offered here.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import current_app, g, request

log = logging.getLogger("registry.request")
REQUEST_ID_HEADER = "X-Request-Id"
WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


def init_app(app) -> None:
    app.before_request(_assign_request_id)
    app.after_request(_log_request)


def _assign_request_id() -> None:
    g.request_started = time.perf_counter()
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    if current_app.config.get("TRUSTED_PROXY_COUNT") and WELL_FORMED_ID.fullmatch(offered):
        g.request_id = offered
    else:
        g.request_id = uuid.uuid4().hex


def request_id() -> str:
    """This request's id (for a log line or an error page)."""
    return g.get("request_id", "")


def _account() -> str:
    """``officer:42``: who made the request, when a signed-in page said so (``g.actor``)."""
    actor = g.get("actor")
    return f"{actor.kind}:{actor.id}" if actor is not None and actor.id is not None else ""


def _log_request(response):
    if "request_id" not in g:  # a request that failed before our first hook ran
        _assign_request_id()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    started = g.get("request_started")
    rule = request.url_rule.rule if request.url_rule is not None else ""
    log.info(
        "request",
        extra={
            "fields": {
                "request_id": g.request_id,
                "method": request.method,
                "endpoint": request.endpoint or "",
                "route": rule,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "remote_addr": request.remote_addr or "",
                "account": _account(),
                "instance": current_app.config.get("INSTANCE_NAME", ""),
                "pid": os.getpid(),
            }
        },
    )
    return response
