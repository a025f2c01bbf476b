"""Pages for everyone: home, language switch, public verification, a branch's page."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

import models
from web.extensions import LOCALES, limiter, verify_limit
from web.forms import ActionForm
from web.security import safe_next

from .forms import VerifyForm

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    response = redirect(safe_next(request.form.get("next"), url_for("public.home")))
    if ActionForm().validate_on_submit() and code in LOCALES:
        response.set_cookie(
            "lang",
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code (no external request, allowed by the CSP)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#111", light="#fff"))


@bp.route("/verify", methods=["GET", "POST"])
@verify_limit
def verify():
    """Anyone checks a qualification: by number (name, field, current branch) or by
    national code (qualified or not, nothing more).

    The page's own form posts, so a national code typed there stays out of URLs and
    access logs; ``GET /verify?q=`` (the QR code, links) answers as well."""
    form = VerifyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        raw, token = form.q.data or "", ""
    else:
        raw, token = request.args.get("q", ""), request.args.get("t", "")
    query = models.verification.clean_query(raw)
    result, refusal = None, None
    if query:
        try:
            result = models.verification.lookup(query, token=token[:40])
        except models.verification.VerificationThrottled as error:
            refusal = error
    form.q.data = query
    page = render_template("verify.html", form=form, query=query, result=result, refusal=refusal)
    return page, (429 if refusal else 200)


@bp.route("/branch/<token>")
@limiter.limit("60 per minute")
def branch(token):
    found = models.Branch.get_or_none(
        (models.Branch.public_token == token[:32]) & (models.Branch.is_active == True)  # noqa: E712
    )
    if found is None:
        abort(404)
    active = found.active_cooperation()
    return render_template(
        "branch.html",
        branch=found,
        active=active,
        qr=qr_svg(url_for("public.branch", token=found.public_token, _external=True)),
    )
