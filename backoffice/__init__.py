"""The back office: Flask-Admin in Persian, right-to-left, scoped by role and university."""

from __future__ import annotations

import secrets

from flask import g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l


def _csp_nonce():
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _safe_redirect_target(param_name: str = "url"):
    """Flask-Admin's return ``url`` limited to a path on this site (its own check lets
    'https:evil.example' through)."""
    from flask import request

    from publicforms.web import safe_next

    target = request.values.get(param_name)
    return safe_next(target, "") or None


def _patch_redirect_targets() -> None:
    import flask_admin.actions
    import flask_admin.model.base

    flask_admin.model.base.get_redirect_target = _safe_redirect_target
    flask_admin.actions.get_redirect_target = _safe_redirect_target


def init_admin(app) -> Admin:
    """Create the Admin with the RTL theme and register every view."""
    from .auth import StaffIndexView
    from .views import register_views

    admin = Admin(
        app,
        name=_l("Technical officers registry"),
        theme=Bootstrap4Theme(base_template="admin/rtl_base.html"),
        index_view=StaffIndexView(name=_l("Dashboard"), url="/admin"),
        csp_nonce_generator=_csp_nonce,
    )
    _patch_redirect_targets()
    register_views(admin)
    return admin
