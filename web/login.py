"""The login page every kind of account shares, on both doors: throttled, one message
that does not say which part was wrong, and a ``next`` page on this site only."""

from __future__ import annotations

from flask import redirect, request

import models

from .errors import show_error
from .security import safe_next
from .session import client_ip, sign_in


def login_page(kind: str, form, render, home_url: str):
    """Answer a login request for ``kind`` (officer, distributor, staff).

    ``render(form)`` draws the page. A good login starts a session and goes to the
    ``next`` page or ``home_url``; a bad one is 422; too many attempts are 429."""
    if form.validate_on_submit():
        try:
            account = models.authenticate(kind, form.username.data, form.password.data, client_ip())
        except models.DomainError as error:
            show_error(form, error)
            return render(form), (429 if isinstance(error, models.LoginThrottled) else 422)
        sign_in(kind, account)
        return redirect(safe_next(form.next.data or request.args.get("next"), home_url))
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    return render(form), (422 if request.method == "POST" else 200)
