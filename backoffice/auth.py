"""The back-office home (a dashboard), staff login and logout."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose

import models
from publicforms.forms import ActionForm, LoginForm
from publicforms.web import client_ip, domain_message, safe_next, sign_in, sign_out

from .base import StaffAccessMixin, current_staff


class StaffIndexView(StaffAccessMixin, AdminIndexView):
    allowed_roles = models.StaffUser.ROLES
    PUBLIC_VIEWS = ("login_view",)

    def _handle_view(self, name, **kwargs):
        if name in self.PUBLIC_VIEWS:
            return None
        return super()._handle_view(name, **kwargs)

    @expose("/")
    def index(self):
        from .dashboard import dashboard_numbers

        return self.render(
            "admin/dashboard.html", numbers=dashboard_numbers(current_staff()), reason_labels=models.REASON_LABELS
        )

    @expose("/login", methods=("GET", "POST"))
    def login_view(self):
        form = LoginForm()
        status = 200
        if form.validate_on_submit():
            try:
                staff = models.authenticate("staff", form.username.data, form.password.data, client_ip())
            except models.LoginThrottled as error:
                form.form_errors.append(domain_message(error))
                status = 429
            except models.DomainError as error:
                form.form_errors.append(domain_message(error))
                status = 422
            else:
                sign_in("staff", staff)
                return redirect(safe_next(form.next.data, url_for("admin.index")))
        elif request.method == "GET":
            form.next.data = safe_next(request.args.get("next"), "")
        elif request.method == "POST":
            status = 422
        return self.render("admin/login.html", form=form), status

    @expose("/logout", methods=("POST",))
    def logout_view(self):
        if ActionForm().validate_on_submit():
            sign_out()
        return redirect(url_for("admin.login_view"))
