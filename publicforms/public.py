"""Pages for everyone: home, language switch, public verification, a branch's page."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup

import models
from persian import normalize_text, to_ascii_digits
from web.extensions import LOCALES, limiter
from web.forms import ActionForm
from web.security import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    response = redirect(safe_next(request.form.get("next"), url_for("public.home")))
    if ActionForm().validate_on_submit() and code in LOCALES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code (no external request, allowed by the CSP)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#111", light="#fff"))


@bp.route("/verify")
@limiter.limit("30 per minute")
def verify():
    """Anyone checks a qualification: by number (name, field, current branch) or by
    national code (qualified or not, nothing more)."""
    query = to_ascii_digits(normalize_text(request.args.get("q", ""))).strip()
    result = None
    if query:
        result = models.verification.lookup(query)
    return render_template("verify.html", query=query, result=result)


@bp.route("/branch/<int:branch_id>")
@limiter.limit("60 per minute")
def branch(branch_id):
    found = models.Branch.get_or_none((models.Branch.id == branch_id) & (models.Branch.is_active == True))  # noqa: E712
    if found is None:
        abort(404)
    active = found.active_cooperation()
    return render_template(
        "branch.html",
        branch=found,
        active=active,
        qr=qr_svg(url_for("public.branch", branch_id=found.id, _external=True)),
    )
