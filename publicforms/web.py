"""What every page shares: login sessions, security headers, Jinja filters, error pages."""
from __future__ import annotations

import functools
from datetime import datetime
from urllib.parse import urlsplit

from flask import (abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext, lazy_gettext as _l, pgettext
from flask_limiter import Limiter
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

import models
import persian

from . import ratelimit_storage  # noqa: F401  (registers the database:// storage)

login_manager = LoginManager()
# Client address only: X-Forwarded-For is trusted solely through ProxyFix in production.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown", default_limits=[])


class CurrentUser(UserMixin):
    """The logged-in account and its server-side session token (the id Flask-Login keeps)."""

    def __init__(self, account, token):
        self.account = account
        self.token = token
        self.kind = {models.Officer: "officer", models.StaffUser: "staff",
                     models.Distributor: "distributor"}[type(account)]

    def get_id(self):
        return self.token

    @property
    def is_active(self):
        return bool(self.account.is_active)

    def actor(self):
        return self.account.as_actor(ip=client_ip())


@login_manager.user_loader
def _load_user(token):
    account = models.load_session(token, current_app.config["SESSION_IDLE_TIMEOUT"],
                                  current_app.config["SESSION_ABSOLUTE_TIMEOUT"])
    return CurrentUser(account, token) if account is not None else None


def client_ip() -> str:
    # X-Forwarded-For is ignored on purpose: behind a proxy, ProxyFix sets remote_addr.
    return (request.remote_addr or "")[:45]


def sign_in(kind: str, account) -> None:
    """Start a fresh session: the old cookie's contents and id are dropped (no fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    token = models.start_session(kind, account.id, client_ip())
    login_user(CurrentUser(account, token), remember=False, fresh=True)
    session.permanent = False


def sign_out() -> None:
    if current_user.is_authenticated:
        models.end_session(current_user.token)
    logout_user()
    session.clear()


def account_required(kind: str, login_endpoint: str):
    """Restrict a view to one kind of account; others are sent to that kind's login."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated or current_user.kind != kind:
                return redirect(url_for(login_endpoint, next=request.full_path.rstrip("?")))
            g.account = current_user.account
            g.actor = current_user.actor()
            return view(*args, **kwargs)
        return wrapper
    return decorator


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: '//evil', '/\\evil' and 'javascript:' fall back to the default."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def domain_message(error) -> str:
    """Translate a domain or storage error's message id with its parameters."""
    text = gettext(error.msgid)
    params = getattr(error, "params", None) or {}
    return text % params if params else text


def apply_errors(form, errors: dict) -> None:
    """Put a domain ValidationFailed's errors on the WTForms fields they belong to."""
    for name, (msgid, params) in errors.items():
        field = getattr(form, name, None)
        message = gettext(msgid) % params if params else gettext(msgid)
        if field is not None:
            field.errors = list(field.errors or []) + [message]
        else:
            form.form_errors.append(message)


FIELD_LABELS = {
    "national_code": _l("National code"), "birth_date": _l("Birth date"), "first_name": _l("First name"),
    "last_name": _l("Last name"), "father_name": _l("Father's name"), "gender": _l("Gender"),
    "id_card_number": _l("ID booklet number"), "mobile": _l("Mobile"), "phone": _l("Landline"),
    "email": _l("E-mail"), "address": _l("Postal address"), "postal_code": _l("Postal code"),
    "province": _l("Province"), "city": _l("City"), "field_of_study": _l("Field of study"),
    "degree_level": _l("Degree level"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def action_label(code: str) -> str:
    return gettext(models.ACTION_LABELS[code]) if code in models.ACTION_LABELS else code


def status_label(code: str) -> str:
    return pgettext("status", models.STATUS_LABELS.get(code, code)) if code else ""


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'; frame-src 'self'")


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint and not request.endpoint.endswith("static"):
        # Pages can carry personal data (a new user code, a name): never cache them.
        response.headers.setdefault("Cache-Control", "no-store")
    nonce = g.get("csp_nonce")
    policy = CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}'") if nonce else CSP
    response.headers.setdefault("Content-Security-Policy", policy)
    if current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def _refuse_nul_bytes():
    """A NUL byte is never legitimate input, and PostgreSQL refuses it with an error."""
    for value in list(request.args.values()) + list(request.form.values()):
        if "\x00" in value:
            abort(400)


def deny(status: int = 404):
    """Refuse access (404 hides whether the record exists) and audit the attempt."""
    audit_denial("access_denied")
    abort(status)


def audit_denial(action: str) -> None:
    """Record a refused access (who, from where, what) without leaking it to the user."""
    actor = current_user.actor() if current_user and current_user.is_authenticated \
        else models.anonymous_actor(client_ip())
    models.audit(actor, action, detail=request.path[:200], object_type="route")


def init_app(app) -> None:
    login_manager.init_app(app)
    limiter.init_app(app)
    app.before_request(_refuse_nul_bytes)
    login_manager.login_view = "officer_site.login"
    login_manager.session_protection = None  # our server-side sessions already bind the cookie
    app.after_request(_security_headers)
    app.jinja_env.filters.update(
        # A stored datetime is UTC: the day it falls on is Tehran's day.
        jdate=lambda d: persian.format_jalali_date(persian.to_tehran(d) if isinstance(d, datetime) else d),
        jdatetime=lambda dt: persian.format_jalali_datetime(persian.to_tehran(dt)) if dt else "",
        fa_digits=persian.to_persian_digits,
        status_label=status_label,
    )
    app.jinja_env.globals.update(status_label=status_label, action_label=action_label, field_label=field_label,
                                 has_endpoint=lambda name: name in app.view_functions)

    @app.context_processor
    def _layout_values():
        from flask_babel import get_locale
        locale = str(get_locale() or "fa")
        return {"current_locale": locale, "text_direction": "rtl" if locale == "fa" else "ltr"}

    for code in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(code, _error_page)
    import storage
    app.register_error_handler(storage.StorageUnavailable, _storage_unavailable)


ERROR_TITLES = {
    400: _l("The request was not valid. Reload the page and try again."),
    403: _l("You do not have access to this page."),
    404: _l("The page was not found."),
    405: _l("This action is not allowed here."),
    413: _l("The uploaded files are too large. Each document may be at most 5 MB."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. The error was recorded; please try again later."),
    503: _l("The service is busy right now; please try again in a moment."),
}


def _storage_unavailable(error):
    """A full or failing disk: nothing was saved, and the user is told so plainly."""
    current_app.logger.error("document storage failed: %r", error.__cause__)
    return render_template("error.html", code=503, message=domain_message(error)), 503


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if code == 500:
        current_app.logger.exception("unhandled error on %s", request.path)
    return render_template("error.html", code=code, message=str(ERROR_TITLES.get(code, ERROR_TITLES[500]))), code



def get_store():
    """The document store of this app (created once per app)."""
    import storage
    store = current_app.extensions.get("documents")
    if store is None:
        store = current_app.extensions["documents"] = storage.DocumentStore(current_app.config["UPLOAD_DIR"])
    return store
