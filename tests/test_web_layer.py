"""The shared web layer (web/): how a refusal is shown on both doors, and the security
policy built from a dict."""

from __future__ import annotations

import pytest
from flask import Flask
from wtforms import StringField

import models
from models import N_, ConflictError, DomainError, PermissionDenied, ValidationFailed
from web import errors, security
from web.forms import ActionForm


class NameForm(ActionForm):
    name = StringField("name")
    code = StringField("code")


@pytest.fixture
def form(app):
    with app.test_request_context(method="POST"):
        yield NameForm(meta={"csrf": False})


def test_show_error_puts_each_message_where_it_belongs(form):
    errors.show_error(
        form,
        ValidationFailed({"name": (N_("This field is required."), {}), "elsewhere": (N_("Choose your city."), {})}),
    )
    errors.show_error(form, DomainError(N_("Enter a valid e-mail address."), field="code"))
    errors.show_error(form, DomainError(N_("The postal code has 10 digits.")), fallback=form.code)
    errors.show_error(form, DomainError(N_("Choose the gender.")))
    assert form.name.errors == ["این فیلد الزامی است."]
    assert len(form.code.errors) == 2
    assert len(form.form_errors) == 2  # a field the form lacks, and no field at all
    assert len(form.errors) == 3  # both fields, and the form itself


def test_status_of_a_refusal():
    assert errors.status_of(ConflictError(N_("x"))) == 409
    assert errors.status_of(PermissionDenied(N_("x"))) == 403
    assert errors.status_of(models.LoginThrottled(N_("x"))) == 429
    assert errors.status_of(DomainError(N_("x"))) == 422


def refusing_app(app: Flask) -> Flask:
    """The test app with three routes that let a refusal escape, and one that flashes it."""

    def escape(kind):
        raise {"conflict": ConflictError, "permission": PermissionDenied, "other": DomainError}[kind](
            N_("You may not do this on this request.")
        )

    def flashed():
        from flask import redirect

        with errors.refusals_flashed():
            raise ConflictError(N_("You may not do this on this request."))
        return redirect("/")

    app.add_url_rule("/test-refusal/<kind>", view_func=escape)
    app.add_url_rule("/test-flashed", view_func=flashed, methods=["POST"])
    return app


@pytest.mark.parametrize("kind, status", [("conflict", 409), ("permission", 403), ("other", 422)])
def test_a_refusal_no_view_caught_is_a_page_with_its_status_not_a_500(app, dbc, kind, status):
    client = refusing_app(app).test_client()
    before = models.AuditLog.select().where(models.AuditLog.action == "access_denied").count()
    response = client.get(f"/test-refusal/{kind}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "شما اجازه انجام این کار را روی این درخواست ندارید." in page
    denials = models.AuditLog.select().where(models.AuditLog.action == "access_denied").count() - before
    assert denials == (1 if kind == "permission" else 0)


def test_a_flashed_refusal_shows_with_role_alert_on_the_next_page(app):
    client = refusing_app(app).test_client()
    response = client.post("/test-flashed", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="alert alert-danger" role="alert"' in page


def test_the_policy_is_a_dict_and_each_directive_appears_once():
    page = security.page_policy(nonce="abc")
    names = [part.split()[0] for part in page.split("; ")]
    assert len(names) == len(set(names)) and "frame-ancestors" in names
    assert "script-src 'self' 'nonce-abc'" in page and "'nonce-abc'" not in security.page_policy()
    policy = security.parse_policy("default-src 'none'; sandbox; frame-ancestors 'none'; frame-ancestors *")
    assert policy == {"default-src": ("'none'",), "sandbox": (), "frame-ancestors": ("'none'",)}
    policy["frame-ancestors"] = ("'self'",)
    assert security.format_policy(policy) == "default-src 'none'; sandbox; frame-ancestors 'self'"
