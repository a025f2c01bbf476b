"""The directorate's webhook subscriptions (``/admin/webhook/``) and their delivery log
(``/admin/webhookdelivery/``). Rules in ``models.webhooks``; the secret is shown once, on
the page that answers the form, and is never listed."""

from __future__ import annotations

from flask import current_app, flash, g
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

import models
from models import webhooks
from web.errors import flash_error, show_error

from .base import SecureModelView, staff_actor
from .export import ExportColumn

GROUP_LABELS = {
    "qualification": _l("Qualification requests"),
    "cooperation": _l("Cooperations"),
    "officer": _l("Officers' accounts"),
}
STATUS_LABELS = {"pending": _l("Waiting"), "delivered": _l("Delivered"), "failed": _l("Given up")}


class WebhookView(SecureModelView):
    """Subscriptions: created (the secret shown once), listed, stopped."""

    can_create = True
    # The export names the subscriptions, never their secrets.
    column_export_list = ("name", "url", "events", "is_active", "created_at")
    column_list = ("name", "url", "events", "is_active", "created_at")
    column_details_list = ("name", "url", "events", "is_active", "last_event_id", "created_at")
    column_labels = {
        "name": _l("Name"),
        "url": _l("Receiver's address"),
        "events": _l("Events"),
        "is_active": _l("Active"),
        "created_at": _l("Created at"),
        "last_event_id": _l("Last event queued"),
    }
    column_formatters = {
        "events": lambda v, c, m, n: ", ".join(str(GROUP_LABELS[e]) for e in m.event_groups),
    }
    # The export reads the columns as tuples (no model instances), formatted as the list is.
    export_columns = {
        "events": ExportColumn(
            models.WebhookSubscription.events,
            format=lambda events: ", ".join(str(GROUP_LABELS[e]) for e in (events or "").split() if e in GROUP_LABELS),
            memo=True,
        ),
    }
    create_template = "admin/model/create.html"

    def base_query(self):
        return models.WebhookSubscription.select()

    def scaffold_form(self):
        class WebhookForm(BaseForm):
            name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
            url = StringField(_l("Receiver's address"), validators=[InputRequired(), Length(max=500)])
            events = SelectMultipleField(_l("Events"), choices=[], validate_choice=False)
            secret = StringField(
                _l("Secret"),
                description=_l("Signs every delivery (HMAC-SHA256). Leave it empty to have one made."),
                validators=[Length(max=200)],
            )

        return WebhookForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.events.choices = [SelectChoice(code, label) for code, label in GROUP_LABELS.items()]
        return form

    def create_model(self, form):
        try:
            subscription = webhooks.subscribe(
                staff_actor(),
                form.name.data,
                form.url.data,
                form.events.data,
                secret=form.secret.data or "",
                allow_http=current_app.config.get("WEBHOOK_ALLOW_HTTP", False),
            )
        except models.DomainError as error:
            show_error(form, error)
            flash_error(error)
            return False
        g.webhook_created = subscription
        return subscription

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """The subscription form; on success, the page that shows the secret once."""
        answer = super().create_view()
        created = g.pop("webhook_created", None)
        if created is None:
            return answer
        return self.render("admin/webhook_created.html", subscription=created)

    @action("stop", _l("Stop"), _l("Stop sending events to the selected subscriptions?"))
    def action_stop(self, ids):
        chosen = models.WebhookSubscription.select().where(
            models.WebhookSubscription.id.in_([int(i) for i in ids if models.is_id(i)])
        )
        stopped = sum(webhooks.stop(subscription, staff_actor()) for subscription in chosen)
        flash(gettext("%(count)s subscriptions were stopped.", count=stopped), "success")


class WebhookDeliveryView(SecureModelView):
    """The delivery log: every event sent (or still being retried) to each subscription."""

    column_list = ("subscription", "event_type", "status", "attempts", "last_status", "last_error", "created_at")
    column_labels = {
        "subscription": _l("Subscription"),
        "event_type": _l("Event"),
        "status": _l("State"),
        "attempts": _l("Attempts"),
        "last_status": _l("Last answer"),
        "last_error": _l("Last error"),
        "created_at": _l("Queued at"),
        "delivered_at": _l("Delivered at"),
    }
    column_formatters = {
        "status": lambda v, c, m, n: str(STATUS_LABELS.get(m.status, m.status)),
        "subscription": lambda v, c, m, n: m.subscription.name,
    }
    column_details_exclude_list = ("body",)
    column_default_sort = ("id", True)
    column_export_exclude_list = ("body",)
    export_columns = {
        "status": ExportColumn(
            models.WebhookDelivery.status, format=lambda status: str(STATUS_LABELS.get(status, status)), memo=True
        ),
        "subscription": ExportColumn(
            models.WebhookDelivery.subscription,
            names=lambda: dict(
                models.WebhookSubscription.select(
                    models.WebhookSubscription.id, models.WebhookSubscription.name
                ).tuples()
            ),
        ),
    }

    def base_query(self):
        return models.WebhookDelivery.select(models.WebhookDelivery, models.WebhookSubscription).join(
            models.WebhookSubscription
        )
