"""Security of every response and request, on both doors: headers, the Content Security
Policy (built from a dict, one directive per key), safe redirect targets, NUL refusal, and
refused accesses (``deny``) with their audit row."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import abort, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

import models

from .session import client_ip

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# The policy of every page. A directive maps to its sources (an empty tuple: a bare
# directive such as ``sandbox``); a response changes a directive by its key, never by
# appending text, so a directive can never appear twice (browsers obey the first one).
PAGE_POLICY = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
    "frame-src": ("'self'",),
}


def format_policy(policy: dict) -> str:
    """The header value of a policy dict: ``directive source source; directive ...``."""
    return "; ".join(" ".join((name, *sources)) for name, sources in policy.items())


def parse_policy(header: str) -> dict:
    """A ``Content-Security-Policy`` header value as a policy dict (the first of a repeated
    directive wins, as in browsers)."""
    policy: dict = {}
    for part in header.split(";"):
        words = part.split()
        if words and words[0] not in policy:
            policy[words[0]] = tuple(words[1:])
    return policy


def page_policy(nonce: str | None = None) -> str:
    """The policy of a page; with a nonce, scripts carrying it may run (the back office)."""
    if not nonce:
        return format_policy(PAGE_POLICY)
    return format_policy(dict(PAGE_POLICY, **{"script-src": PAGE_POLICY["script-src"] + (f"'nonce-{nonce}'",)}))


def csp_nonce() -> str:
    """This request's script nonce (made once per request); Flask-Admin puts it on its
    ``<script>`` tags and the page's policy allows it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def add_security_headers(response):
    """After every request: the headers above, the page policy, and no caching of pages
    (they can carry personal data: a new user code, a name)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint and not request.endpoint.endswith("static"):
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Content-Security-Policy", page_policy(g.get("csp_nonce")))
    if current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def refuse_nul_bytes():
    """Before every request: a NUL byte is never legitimate input, and PostgreSQL refuses
    it with an error."""
    for value in list(request.args.values()) + list(request.form.values()):
        if "\x00" in value:
            abort(400)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: '//evil', '/\\evil' and 'javascript:' fall back to the default."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return default
    return target


def deny(status: int = 404):
    """Refuse access (404 hides whether the record exists) and audit the attempt."""
    audit_denial("access_denied")
    abort(status)


def audit_denial(action: str) -> None:
    """Record a refused access (who, from where, what) without leaking it to the user."""
    actor = (
        current_user.actor() if current_user and current_user.is_authenticated else models.anonymous_actor(client_ip())
    )
    models.audit(actor, action, detail=request.path[:200], object_type="route")


class RecordIdConverter(IntegerConverter):
    """``<int:id>`` for record ids: ASCII digits, at most 63 bits."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", models.MAX_ID)
        super().__init__(url_map, *args, **kwargs)
