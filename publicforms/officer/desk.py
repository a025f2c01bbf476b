"""The officer's desk: the dashboard, the inbox of notices, the printable certificate."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

import models

from ..public import qr_svg
from .access import officer_required


@officer_required
def dashboard():
    officer = g.account
    current = models.qualification.open_request(officer)
    return render_template(
        "officer/dashboard.html", officer=officer, current=current, unread=models.unread_count(officer)
    )


@officer_required
def messages():
    notices = list(models.inbox(g.account).limit(200))
    return render_template("officer/messages.html", notices=notices)


@officer_required
def message(notice_id):
    notice = models.open_notice(g.account, notice_id)
    if notice is None:
        abort(404)
    return render_template("officer/message.html", notice=notice)


@officer_required
def certificate():
    """A printable certificate with a QR code pointing to the public verification page."""
    officer = g.account
    if not officer.is_qualified:
        flash(_("The certificate is available once your qualification is approved."), "info")
        return redirect(url_for("officer_site.dashboard"))
    verify_url = url_for("public.verify", q=officer.qualification_number, _external=True)
    return render_template("officer/certificate.html", officer=officer, qr=qr_svg(verify_url), verify_url=verify_url)
