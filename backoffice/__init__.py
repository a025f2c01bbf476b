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


def init_admin(app) -> Admin:
    """Create the Admin with the RTL theme and register every view."""
    from .auth import StaffIndexView
    from .views import register_views

    admin = Admin(app, name=_l("Technical officers registry"),
                  theme=Bootstrap4Theme(base_template="admin/rtl_base.html"),
                  index_view=StaffIndexView(name=_l("Dashboard"), url="/admin"),
                  csp_nonce_generator=_csp_nonce)
    register_views(admin)
    return admin
