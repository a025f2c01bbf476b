"""011 -- the machine-to-machine API (issue 21): the tokens issued to distributors,
universities and the directorate (only their SHA-256 is stored), the answers kept for
``Idempotency-Key`` replays, and the webhooks' subscriptions and delivery outbox.

Independent of 004-010: it only creates its own four tables (``create_model`` is safe on a
database that has them already, e.g. one made by ``create_tables()`` of this release).
"""

import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create api_client, api_idempotency, webhook_subscription and webhook_delivery."""

    @migrator.create_model
    class ApiClient(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=120)
        holder_kind = pw.CharField(max_length=12)
        distributor = pw.ForeignKeyField(
            column_name="distributor_id",
            field="id",
            model=migrator.orm["distributor"],
            null=True,
            on_delete="RESTRICT",
            backref="+",
            index=True,
        )
        university = pw.ForeignKeyField(
            column_name="university_id",
            field="id",
            model=migrator.orm["university"],
            null=True,
            on_delete="RESTRICT",
            backref="+",
            index=True,
        )
        scopes = pw.TextField(default="")
        token_hash = pw.CharField(max_length=64, unique=True)
        token_hint = pw.CharField(default="", max_length=12)
        rate_per_minute = pw.IntegerField(default=120)
        created_at = pw.DateTimeField(default=dt.datetime.now)
        created_by = pw.CharField(default="", max_length=120)
        revoked_at = pw.DateTimeField(null=True)
        last_used_at = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "api_client"

    @migrator.create_model
    class ApiIdempotency(pw.Model):
        id = pw.AutoField()
        client = pw.ForeignKeyField(
            column_name="client_id", field="id", model=migrator.orm["api_client"], on_delete="CASCADE", backref="+"
        )
        key = pw.CharField(max_length=200)
        fingerprint = pw.CharField(max_length=64)
        status = pw.IntegerField(default=0)
        body = pw.TextField(default="")
        created_at = pw.DateTimeField(default=dt.datetime.now, index=True)

        class Meta:
            legacy_table_names = False
            table_name = "api_idempotency"
            indexes = [(("client", "key"), True)]

    @migrator.create_model
    class WebhookSubscription(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=120)
        url = pw.CharField(max_length=500)
        secret = pw.CharField(max_length=200)
        events = pw.CharField(max_length=200)
        is_active = pw.BooleanField(default=True)
        last_event_id = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=dt.datetime.now)

        class Meta:
            legacy_table_names = False
            table_name = "webhook_subscription"

    @migrator.create_model
    class WebhookDelivery(pw.Model):
        id = pw.AutoField()
        subscription = pw.ForeignKeyField(
            column_name="subscription_id",
            field="id",
            model=migrator.orm["webhook_subscription"],
            on_delete="CASCADE",
            backref="deliveries",
            index=True,
        )
        event_id = pw.IntegerField()
        event_type = pw.CharField(max_length=60)
        body = pw.TextField()
        status = pw.CharField(default="pending", index=True, max_length=10)
        attempts = pw.IntegerField(default=0)
        next_attempt_at = pw.DateTimeField(default=dt.datetime.now, index=True)
        last_status = pw.IntegerField(null=True)
        last_error = pw.CharField(default="", max_length=300)
        created_at = pw.DateTimeField(default=dt.datetime.now)
        delivered_at = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "webhook_delivery"
            indexes = [(("subscription", "event_id"), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop the four tables."""
    migrator.remove_model("webhook_delivery")
    migrator.remove_model("webhook_subscription")
    migrator.remove_model("api_idempotency")
    migrator.remove_model("api_client")
