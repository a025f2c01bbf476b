"""The back-office home (a dashboard), staff login and logout."""

from __future__ import annotations

from flask import redirect, url_for
from flask_admin import AdminIndexView, expose

import models
from web.forms import ActionForm, LoginForm
from web.login import login_page
from web.session import sign_out

from .base import StaffAccessMixin, current_staff
from .dashboard import dashboard_numbers
from .flask_admin_adapter import PublicViewsMixin


class StaffIndexView(StaffAccessMixin, PublicViewsMixin, AdminIndexView):
    allowed_roles = models.StaffUser.ROLES
    public_views = ("login_view",)

    @expose("/")
    def index(self):
        return self.render(
            "admin/dashboard.html", numbers=dashboard_numbers(current_staff()), reason_labels=models.REASON_LABELS
        )

    @expose("/login", methods=("GET", "POST"))
    def login_view(self):
        return login_page(
            "staff",
            LoginForm(),
            lambda form: self.render("admin/login.html", form=form, today=models.tehran_today()),
            url_for("admin.index"),
        )

    @expose("/logout", methods=("POST",))
    def logout_view(self):
        if ActionForm().validate_on_submit():
            sign_out()
        return redirect(url_for("admin.login_view"))
