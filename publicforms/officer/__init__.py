"""The officer's site (``/officer/...``, endpoints ``officer_site.*``).

The blueprint and its URL map are here, in one table; the views are in the modules by
subject (Flask's "centralized URL map": the view modules import nothing from this one,
so there is no import cycle):

* ``auth``: registration, login, logout, password reset and change;
* ``desk``: dashboard, inbox, certificate;
* ``profile``: the profile and its direct changes;
* ``qualification``: qualification requests and documents;
* ``cooperation``: cooperation requests and terminations;
* ``edit_requests``: reviewed changes;
* ``migration``: what came over from the old system, confirmed or disputed;
* ``access``: ``officer_required``.
"""

from __future__ import annotations

from flask import Blueprint, g

import models

from . import access, auth, cooperation, desk, edit_requests, migration, profile, qualification

bp = Blueprint("officer_site", __name__, url_prefix="/officer")

GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")

# (rule, view, methods): the endpoint is the view's name, as the contract lists them.
URLS = (
    ("/register", auth.register, BOTH),
    ("/register/confirm/<token>", auth.register_confirm, BOTH),
    ("/register/done", auth.registered, GET),
    ("/login", auth.login, BOTH),
    ("/logout", auth.logout, POST),
    ("/password/reset", auth.password_reset, BOTH),
    ("/password/reset/confirm", auth.password_reset_confirm, BOTH),
    ("/password", auth.password, BOTH),
    ("/", desk.dashboard, GET),
    ("/messages/", desk.messages, GET),
    ("/messages/<int:notice_id>", desk.message, GET),
    ("/certificate", desk.certificate, GET),
    ("/profile", profile.profile, GET),
    ("/profile/edit", profile.profile_edit, BOTH),
    ("/district", profile.district, BOTH),
    ("/profile/complete", profile.profile_complete, BOTH),
    ("/profile/mobile/<token>", profile.mobile_confirm, BOTH),
    ("/migration", migration.migration_confirm, BOTH),
    ("/qualification/", qualification.qualification_list, GET),
    ("/qualification/new", qualification.qualification_new, BOTH),
    ("/qualification/place", qualification.qualification_place, POST),
    ("/qualification/<int:request_id>", qualification.qualification_detail, BOTH),
    ("/documents/<int:document_id>", qualification.document, GET),
    ("/cooperation/", cooperation.cooperation_list, GET),
    ("/cooperation/<int:cooperation_id>", cooperation.cooperation_detail, BOTH),
    ("/termination/", cooperation.termination_list, GET),
    ("/termination/new", cooperation.termination_new, BOTH),
    ("/termination/<int:termination_id>", cooperation.termination_detail, BOTH),
    ("/edit-requests/", edit_requests.edit_request_list, GET),
    ("/edit-requests/new", edit_requests.edit_request_new, BOTH),
    ("/edit-requests/<int:request_id>", edit_requests.edit_request_detail, BOTH),
)

for rule, view, methods in URLS:
    bp.add_url_rule(rule, view_func=view, methods=methods)

bp.before_request(access.first_login_steps)


@bp.app_context_processor
def officer_menu():
    """``menu_unread()``: the unread notices the menu's badge counts, asked only by a page
    that draws the officer's menu."""

    def menu_unread():
        officer = getattr(g, "account", None)
        return access.unread_of(officer) if isinstance(officer, models.Officer) else 0

    return {"menu_unread": menu_unread}
