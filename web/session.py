"""Sessions for both doors: the logged-in account (``CurrentUser``), starting and ending a
server-side session, and restricting a view to one kind of account."""

from __future__ import annotations

import functools

from flask import current_app, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

import models

from .extensions import login_manager

ACCOUNT_KINDS = {models.Officer: "officer", models.StaffUser: "staff", models.Distributor: "distributor"}


class CurrentUser(UserMixin):
    """The logged-in account and its server-side session token (the id Flask-Login keeps)."""

    def __init__(self, account, token):
        self.account = account
        self.token = token
        self.kind = ACCOUNT_KINDS[type(account)]

    def get_id(self):
        return self.token

    @property
    def is_active(self):
        return bool(self.account.is_active)

    def actor(self):
        return self.account.as_actor(ip=client_ip())


@login_manager.user_loader
def _load_user(token):
    account = models.load_session(
        token, current_app.config["SESSION_IDLE_TIMEOUT"], current_app.config["SESSION_ABSOLUTE_TIMEOUT"]
    )
    return CurrentUser(account, token) if account is not None else None


def client_ip() -> str:
    """The client's address as the audit and the throttles record it."""
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
    """End the server-side session and forget the cookie's contents."""
    if current_user.is_authenticated:
        models.end_session(current_user.token)
    logout_user()
    session.clear()


def account_required(kind: str, login_endpoint: str):
    """Restrict a view to one kind of account; others are sent to that kind's login.
    The view finds the account in ``g.account`` and the acting ``Actor`` in ``g.actor``."""

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
