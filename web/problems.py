"""Errors as ``application/problem+json`` (RFC 9457), for the doors that answer machines.

A door names the URL prefixes it answers under (``answer_with_problems(app, "/api/")``);
the app's error pages (``web.errors.error_page``) then answer a request under one of them
with a problem document instead of an HTML page, so that a 404 for an unknown route or a
405 looks the same as a refusal from a view.
"""

from __future__ import annotations

import json

from flask import Response, current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

import models

from .refusals import domain_message, status_of

MEDIA_TYPE = "application/problem+json"
EXTENSION_KEY = "problem_json_prefixes"

TITLES = {
    400: _l("The request is not valid."),
    401: _l("A valid API token is required."),
    403: _l("This token may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with the current state."),
    413: _l("The request is too large."),
    415: _l("The body must be JSON."),
    422: _l("The request was refused."),
    429: _l("Too many requests."),
    500: _l("Something went wrong on our side."),
    503: _l("The service is unavailable; try again in a moment."),
}


def answer_with_problems(app, prefix: str) -> None:
    """Make the error pages of requests under ``prefix`` problem documents."""
    app.extensions.setdefault(EXTENSION_KEY, set()).add(prefix)


def wants_problem() -> bool:
    """Is this request under a prefix whose errors are problem documents?"""
    prefixes = current_app.extensions.get(EXTENSION_KEY, ())
    return any(request.path.startswith(prefix) for prefix in prefixes)


def problem(status: int, detail: str = "", *, headers=None, **members) -> Response:
    """A problem document: ``type``, ``title`` (translated), ``status``, ``detail`` and any
    extension members (``errors``, ``code``...)."""
    body = {"type": "about:blank", "title": str(TITLES.get(status, TITLES[500])), "status": status}
    if detail:
        body["detail"] = str(detail)
    body.update({name: value for name, value in members.items() if value not in (None, "", {})})
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_of_http_error(error) -> Response:
    """An HTTP error (``abort(404)``, a webargs 422 with its field messages) as a problem."""
    code = getattr(error, "code", 500) or 500
    if code == 500:
        current_app.logger.exception("unhandled error on %s", request.path)
    data = getattr(error, "data", None) or {}
    errors = data.get("messages") or data.get("errors")
    if isinstance(errors, dict) and len(errors) == 1 and set(errors) <= {"json", "query", "view_args"}:
        errors = next(iter(errors.values()))  # webargs's location: not the client's concern
    headers = dict(data.get("headers") or {})
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    detail = data.get("message") or ""
    return problem(code, detail, headers=headers, errors=errors)


def problem_of_refusal(error) -> Response:
    """A domain refusal as a problem: its translated message, its field errors, its code."""
    code = status_of(error)
    errors = None
    if isinstance(error, models.ValidationFailed):
        errors = {
            name: [gettext(msgid) % params if params else gettext(msgid)]
            for name, (msgid, params) in error.errors.items()
        }
    elif error.field:
        errors = {error.field: [domain_message(error)]}
    headers = {}
    retry_after = (error.params or {}).get("retry_after")
    if retry_after:
        code = 429
        headers["Retry-After"] = str(retry_after)
    return problem(code, domain_message(error), headers=headers, errors=errors, code=error.code)
