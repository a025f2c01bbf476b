"""What both doors share (``backoffice/`` and ``publicforms/`` import this package and
``models``, never each other):

* ``extensions``: csrf, babel, login_manager and limiter (bound by ``create_app``);
* ``session``: the logged-in account, sign-in and sign-out, ``account_required``;
* ``login``: the login page of every kind of account;
* ``security``: headers, the Content Security Policy, ``safe_next``, ``deny``;
* ``errors``: how a refusal is shown (``show_error``, ``refusals_flashed``), error pages;
* ``labels``: field, state and action labels, Jinja filters;
* ``documents``: the document store, uploads, serving a document;
* ``forms``: ``ActionForm``, ``LoginForm``;
* ``kept``: values and drawn parts of pages kept a while per process (``KeptValues``,
  ``site_part``);
* ``ratelimit_storage``: Flask-Limiter's counters in our database;
* ``health``, ``metrics``, ``request_log``: the probes (/healthz, /readyz), /metrics, and the
  request id with one log line per request (wired first by ``create_app``, so that they see
  every request).
"""

from __future__ import annotations

from . import errors, kept, labels, security, session  # noqa: F401  (session: Flask-Login's user loader)


def init_app(app) -> None:
    """Register what every request and page shares: security headers, NUL refusal,
    template filters and error pages (the extensions are bound by ``create_app``)."""
    # Before any blueprint: every <int:...> in a route is then a 63-bit ASCII number, so an
    # overflowing or Unicode id is a 404, not a 500 from the database driver (L7).
    app.url_map.converters["int"] = security.RecordIdConverter
    app.before_request(security.refuse_nul_bytes)
    app.after_request(security.add_security_headers)
    labels.init_app(app)
    kept.init_app(app)
    errors.register_handlers(app)
