"""The login page every kind of account shares, on both doors: throttled, one message
that does not say which part was wrong, and a ``next`` page on this site only."""

from __future__ import annotations

from flask import current_app, redirect, request

import models

from .errors import show_error
from .security import safe_next
from .session import client_ip, sign_in


def login_page(kind: str, form, render, home_url: str):
    """Answer a login request for ``kind`` (officer, distributor, staff).

    ``render(form)`` draws the page. A good login starts a session and goes to the
    ``next`` page or ``home_url``; a bad one is 422; too many attempts are 429. A browser
    that logged in before keeps a device cookie, so a stranger's failures do not hold
    its owner back."""
    if form.validate_on_submit():
        keys = models.device_keys(
            current_app.config["SECRET_KEY"], current_app.config.get("SECRET_KEY_FALLBACKS") or ()
        )
        secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
        cookie = device_cookie_name(kind, secure)
        known = request.cookies.get(cookie, "").split(",")[-MAX_DEVICE_TOKENS:]
        try:
            account = models.authenticate(
                kind,
                form.username.data,
                form.password.data,
                client_ip(),
                known_device=lambda account: models.device_is_known(keys, known, kind, account),
            )
        except models.DomainError as error:
            show_error(form, error)
            return render(form), (429 if isinstance(error, models.LoginThrottled) else 422)
        sign_in(kind, account)
        response = redirect(safe_next(form.next.data or request.args.get("next"), home_url))
        if not models.device_is_known(keys[:1], known, kind, account):
            # New, or signed with a key being retired: issued again under the current key.
            known = [t for t in known if t and not models.device_is_known(keys, [t], kind, account)]
            known = known[-(MAX_DEVICE_TOKENS - 1) :] + [models.device_token(keys, kind, account)]
        response.set_cookie(
            cookie,
            ",".join(known),
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    return render(form), (422 if request.method == "POST" else 200)


def device_cookie_name(kind: str, secure: bool) -> str:
    """``__Host-`` in production: the browser then keeps it only over HTTPS, for this host."""
    return f"{'__Host-' if secure else ''}{models.DEVICE_COOKIE}-{kind}"


# A shared computer may keep a few accounts' device tokens, no more.
MAX_DEVICE_TOKENS = 4
DEVICE_COOKIE_DAYS = 180
