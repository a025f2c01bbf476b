"""Who may open the officer's pages: a logged-in officer (others go to the officer login);
and what a migrated officer must do first (a new password, the missing profile fields)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

import models
from web.session import account_required

officer_required = account_required("officer", "officer_site.login")

# The pages each first-login step leads to, and the pages open meanwhile.
_STEP_PAGES = {"password": "officer_site.password", "profile": "officer_site.profile_complete"}
_ALWAYS_OPEN = {"officer_site.logout", "officer_site.login", "officer_site.register"}


def first_login_steps():
    """Before every officer page: a logged-in officer with a step to do is led to its page."""
    if not current_user.is_authenticated or current_user.kind != "officer":
        return None
    step = models.first_login_step(current_user.account)
    if step is None or request.endpoint in _ALWAYS_OPEN or request.endpoint == _STEP_PAGES[step]:
        return None
    return redirect(url_for(_STEP_PAGES[step]))
