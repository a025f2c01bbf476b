"""Who may open the officer's pages: a logged-in officer (others go to the officer login);
and what an officer must do first, whatever page they open: a migrated officer a new
password and the missing profile fields, an officer of a split city (Tehran) registered
before districts existed their municipal district (``officer_site.district``), and last a
migrated officer the confirmation of what came over (``officer_site.migration_confirm``)."""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_login import current_user

import models
from web.session import account_required

officer_required = account_required("officer", "officer_site.login")

# The pages each first-login step leads to, and the pages open meanwhile.
_STEP_PAGES = {
    models.profile_completion.PASSWORD: "officer_site.password",
    models.profile_completion.PROFILE: "officer_site.profile_complete",
    models.profile_completion.DISTRICT: "officer_site.district",
    models.profile_completion.CONFIRM: "officer_site.migration_confirm",
}
_ALWAYS_OPEN = {"officer_site.logout", "officer_site.login", "officer_site.register"}
# Pages a step's page links to: the confirmation shows the migrated documents.
_OPEN_DURING = {models.profile_completion.CONFIRM: {"officer_site.document"}}


def first_login_steps():
    """Before every officer page: a logged-in officer with a step to do is led to its page
    (the district page comes back to the page asked for)."""
    if not current_user.is_authenticated or current_user.kind != "officer":
        return None
    step = models.first_login_step(current_user.account)
    if step is None or request.endpoint in _ALWAYS_OPEN or request.endpoint == _STEP_PAGES[step]:
        return None
    if request.endpoint in _OPEN_DURING.get(step, ()):
        return None
    if step == models.profile_completion.DISTRICT:
        return redirect(url_for(_STEP_PAGES[step], next=request.full_path.rstrip("?")))
    return redirect(url_for(_STEP_PAGES[step]))


def unread_of(officer) -> int:
    """The officer's unread notices, counted once per request (the page and its menu's badge)."""
    if "unread_notices" not in g:
        g.unread_notices = models.unread_count(officer)
    return g.unread_notices
