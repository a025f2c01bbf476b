"""The Flask extension objects, in one place: created here unbound, bound by ``create_app``
(``app.py``), imported by whatever needs them (``from web.extensions import limiter``)."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from . import ratelimit_storage  # noqa: F401  (registers the database:// storage with `limits`)

LOCALES = ("fa", "en")

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
login_manager.session_protection = None  # our server-side sessions already bind the cookie
# Client address only: X-Forwarded-For is trusted solely through ProxyFix in production.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown", default_limits=[])


def select_locale() -> str:
    """The language the visitor chose (a cookie set by the language switch), else Persian."""
    chosen = request.cookies.get("lang")
    return chosen if chosen in LOCALES else "fa"


def identity_checker():
    """The identity adapter ``create_app`` built from the settings (``models.identity``)."""
    from flask import current_app

    return current_app.extensions["identity"]
