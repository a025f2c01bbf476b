"""The directorate issues and revokes API tokens at ``/admin/apiclient/``. Every rule is in
``models.api_clients``; the token is shown once, on the page that answers the issuing
form (``id="api-token"``), and only its hash is kept."""

from __future__ import annotations

from flask import flash, g
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

import models
from models import api_clients
from web.errors import flash_error, show_error

from .base import SecureModelView, staff_actor
from .export import ExportColumn

HOLDER_KIND_LABELS = {
    "distributor": _l("Distributor"),
    "university": _l("University of medical sciences"),
    "directorate": _l("The directorate"),
}


def _scope_label(scope: str) -> str:
    return f"{gettext(api_clients.SCOPE_LABELS[scope])} ({scope})"


def _holder(view, context, model, name):
    return model.holder_name() or HOLDER_KIND_LABELS.get(model.holder_kind, "")


def _state(view, context, model, name):
    return gettext("Revoked") if model.is_revoked else gettext("In use")


class ApiClientView(SecureModelView):
    """Tokens of other systems: issue (shown once), list with last use, revoke."""

    can_create = True
    # The export names the tokens, never their hashes.
    column_export_list = ("name", "holder_kind", "scopes", "token_hint", "created_at", "last_used_at", "revoked_at")
    column_list = ("name", "holder_kind", "holder", "scopes", "token_hint", "created_at", "last_used_at", "state")
    column_details_list = (
        "name",
        "holder_kind",
        "holder",
        "scopes",
        "token_hint",
        "rate_per_minute",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    column_labels = {
        "name": _l("Name"),
        "holder_kind": _l("Kind of holder"),
        "holder": _l("Holder"),
        "scopes": _l("Permissions"),
        "token_hint": _l("Token begins with"),
        "rate_per_minute": _l("Requests per minute"),
        "created_at": _l("Issued at"),
        "created_by": _l("Issued by"),
        "last_used_at": _l("Last used"),
        "revoked_at": _l("Revoked at"),
        "state": _l("State"),
    }
    column_formatters = {
        "holder": _holder,
        "state": _state,
        "holder_kind": lambda v, c, m, n: HOLDER_KIND_LABELS.get(m.holder_kind, m.holder_kind),
        "scopes": lambda v, c, m, n: ", ".join(_scope_label(s) for s in m.scope_list if s in api_clients.SCOPE_LABELS),
    }
    # The export reads the columns as tuples (no model instances), formatted as the list is.
    export_columns = {
        "holder_kind": ExportColumn(
            models.ApiClient.holder_kind, format=lambda kind: str(HOLDER_KIND_LABELS.get(kind, kind)), memo=True
        ),
        "scopes": ExportColumn(
            models.ApiClient.scopes,
            format=lambda scopes: ", ".join(
                _scope_label(s) for s in (scopes or "").split() if s in api_clients.SCOPE_LABELS
            ),
            memo=True,
        ),
    }
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "last_used_at")
    create_template = "admin/apiclient_create.html"

    def base_query(self):
        return models.ApiClient.select()

    def scaffold_form(self):
        class ApiClientForm(BaseForm):
            name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
            holder_kind = SelectField(
                _l("Kind of holder"), choices=[SelectChoice(k, v) for k, v in HOLDER_KIND_LABELS.items()]
            )
            holder = StringField(
                _l("Holder"),
                description=_l("The distributor's user name, or the university's name; empty for the directorate."),
                validators=[Length(max=200)],
            )
            scopes = SelectMultipleField(
                _l("Permissions"),
                description=_l("None chosen: every permission the kind of holder may have."),
                choices=[],
                validate_choice=False,
            )

        return ApiClientForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.scopes.choices = [SelectChoice(scope, _scope_label(scope)) for scope in api_clients.SCOPES]
        return form

    def create_model(self, form):
        try:
            client, token = api_clients.issue_client(
                staff_actor(), form.name.data, form.holder_kind.data, form.holder.data, scopes=form.scopes.data or None
            )
        except models.DomainError as error:
            show_error(form, error)
            flash_error(error)
            return False
        g.issued_api_token = (client, token)
        return client

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """The issuing form; on success, the page that shows the token once."""
        answer = super().create_view()
        issued = g.pop("issued_api_token", None)
        if issued is None:
            return answer
        client, token = issued
        return self.render(
            "admin/apiclient_issued.html", client=client, token=token, holder=_holder(self, None, client, "")
        )

    @action("revoke", _l("Revoke"), _l("Revoke the selected tokens? The systems using them stop working at once."))
    def action_revoke(self, ids):
        actor, revoked = staff_actor(), 0
        for client in models.ApiClient.select().where(
            models.ApiClient.id.in_([int(i) for i in ids if models.is_id(i)])
        ):
            try:
                api_clients.revoke_client(client, actor)
                revoked += 1
            except models.DomainError as error:
                flash_error(error)
        if revoked:
            flash(gettext("%(count)s tokens were revoked.", count=revoked), "success")
