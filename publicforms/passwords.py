"""Passwords on the officer's and the distributor's sites: the change page
(``password.html``) and recovery of a forgotten password by a code sent by SMS
(``password_reset.html``, ``password_reset_confirm.html``). One set of pages for both kinds
of account, each site naming its own kind, forms and endpoints; the rules are ``models.auth``'s."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

import models
from web.errors import show_error
from web.session import client_ip

from .forms import PasswordChangeForm


def _remembered_name_key(kind: str) -> str:
    return f"reset_username_{kind}"


def reset_request_page(kind: str, form, confirm_endpoint: str, numeric_username: bool = False):
    """Step one: a one-time code goes to the account's mobile (the answer is the same
    whether or not the account exists)."""
    if form.validate_on_submit():
        models.request_password_reset(form.username.data, client_ip(), kind=kind)
        flash(
            _("If this account exists, a code was sent to its registered mobile. It is valid for 10 minutes."), "info"
        )
        # The name typed (often a national code) waits in the session, not in the URL that
        # access logs and proxies record.
        session[_remembered_name_key(kind)] = form.username.data.strip()[:80]
        return redirect(url_for(confirm_endpoint))
    return render_template("password_reset.html", form=form, numeric_username=numeric_username), (
        422 if form.errors else 200
    )


def reset_confirm_page(kind: str, form, request_endpoint: str, login_endpoint: str, numeric_username: bool = False):
    """Step two: the code and a new password."""
    if request.method == "GET":
        form.username.data = session.get(_remembered_name_key(kind)) or request.args.get("username", "")
    elif form.validate_on_submit() and _same_passwords(form):
        try:
            models.reset_password(
                form.username.data, form.code.data, form.new_password.data or "", client_ip(), kind=kind
            )
        except models.DomainError as error:
            show_error(form, error, fallback=form.code)
        else:
            session.pop(_remembered_name_key(kind), None)
            flash(_("Your password was changed. Log in with the new password."), "success")
            return redirect(url_for(login_endpoint))
    return render_template(
        "password_reset_confirm.html",
        form=form,
        numeric_username=numeric_username,
        request_url=url_for(request_endpoint),
    ), (422 if form.errors else 200)


def _same_passwords(form) -> bool:
    """The new password typed twice the same; else the second field says so."""
    if form.new_password.data != form.new_password_confirm.data:
        form.new_password_confirm.errors = [_("The two passwords are not the same.")]
        return False
    return True


def password_change_view(done_endpoint):
    """Change the logged-in account's password (officer or distributor: one page,
    ``password.html``); every other session of it ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            models.change_password(
                g.account,
                form.current_password.data or "",
                form.new_password.data or "",
                keep_token=current_user.token,
                confirm=form.new_password_confirm.data or "",
                ip=client_ip(),
            )
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for(done_endpoint))
    return render_template("password.html", form=form), (422 if form.errors else 200)
