"""Pages for everyone: home, language switch."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from .web import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    from .forms import ActionForm
    response = redirect(safe_next(request.form.get("next"), url_for("public.home")))
    if ActionForm().validate_on_submit() and code in ("fa", "en"):
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
