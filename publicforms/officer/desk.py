"""The officer's desk: the dashboard, the inbox of notices, the printable certificate."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

import models

from ..public import qr_svg
from .access import officer_required, unread_of


@officer_required
def dashboard():
    officer = g.account
    current = models.qualification.open_request(officer)
    return render_template(
        "officer/dashboard.html",
        officer=officer,
        current=current,
        unread=unread_of(officer),
        **models.desk.next_steps(officer, current),
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
    return render_template("officer/message.html", notice=notice, about_url=about_url(notice))


# The officer's page of each reviewed request type, by its code (REQUEST_TYPE).
REQUEST_PAGES = {
    "qualification": ("officer_site.qualification_detail", "request_id"),
    "cooperation": ("officer_site.cooperation_detail", "cooperation_id"),
    "editrequest": ("officer_site.edit_request_detail", "request_id"),
}


def about_url(notice) -> str | None:
    """The officer's page of the request a notice is about, if it names one."""
    page = REQUEST_PAGES.get(notice.request_type)
    if page is None or notice.request_id is None:
        return None
    endpoint, argument = page
    return url_for(endpoint, **{argument: notice.request_id})


@officer_required
def certificate():
    """A printable certificate with a QR code pointing to the public verification page."""
    officer = g.account
    if not officer.is_qualified:
        flash(_("The certificate is available once your qualification is approved."), "info")
        return redirect(url_for("officer_site.dashboard"))
    # The token tells a scan of this certificate from someone trying numbers (L1).
    verify_url = url_for(
        "public.verify", q=officer.qualification_number, t=officer.verification_token or None, _external=True
    )
    # The photo on the certificate is the one a reviewer approved (a picture, not a PDF).
    photo = models.officer_documents(officer).get("photo")
    if photo is not None and not photo.content_type.startswith("image/"):
        photo = None
    return render_template(
        "officer/certificate.html", officer=officer, qr=qr_svg(verify_url), verify_url=verify_url, photo=photo
    )
