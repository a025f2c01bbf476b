"""Webhooks: the directorate subscribes another system's URL to events of the feed
(:mod:`models.api_feed`); each event becomes a delivery in an outbox, sent by ``flask tick``
with a signature, retried with back-off, in order per subscription, with a delivery log.

The signature (``X-Registry-Signature: t=<unix time>,v1=<hex>``) is HMAC-SHA256 with the
subscription's secret over ``"<t>.<body>"``: the receiver recomputes it and refuses an old
``t`` (a replay). The secret is kept to sign; it is shown to staff once, when created.

A subscription's deliveries go out one at a time in event order: while the oldest is
failing (waiting for its retry) the later ones wait behind it; after
:data:`MAX_ATTEMPTS` it is marked ``failed`` and the next one goes. Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .api_feed import REQUEST_EVENT_TYPES, events_page
from .audit import AuditLog, audit
from .base import N_, Actor, BaseModel, PermissionDenied, db, utcnow
from .officer_rules import ValidationFailed
from .tick import register_job

EVENT_GROUPS = ("qualification", "cooperation", "officer")
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
BATCH = 100
ONLY_DIRECTORATE = N_("Only the directorate manages webhooks.")
BAD_URL = N_("Enter the receiver's full address, starting with https://.")
NO_EVENTS = N_("Choose at least one kind of event.")
SHORT_SECRET = N_("The secret must be at least 16 characters (leave it empty to have one made).")


class WebhookSubscription(BaseModel):
    name = CharField(max_length=120)
    url = CharField(max_length=500)
    secret = CharField(max_length=200)
    events = CharField(max_length=200)  # space-separated EVENT_GROUPS
    is_active = BooleanField(default=True)
    last_event_id = IntegerField(default=0)  # the feed's cursor: events after it are queued next
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_subscription"

    def __str__(self):
        return self.name

    @property
    def event_groups(self) -> list[str]:
        return [group for group in self.events.split() if group in EVENT_GROUPS]


class WebhookDelivery(BaseModel):
    """One event for one subscription: the outbox row and its log."""

    subscription = ForeignKeyField(WebhookSubscription, backref="deliveries", on_delete="CASCADE", index=True)
    event_id = IntegerField()
    event_type = CharField(max_length=60)
    body = TextField()
    status = CharField(max_length=10, default="pending", index=True)  # pending | delivered | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    last_status = IntegerField(null=True)
    last_error = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        indexes = ((("subscription", "event_id"), True),)


def group_of(object_type: str) -> str:
    """The kind of event a subscriber chooses: qualification, cooperation or officer."""
    return object_type if object_type in REQUEST_EVENT_TYPES else "officer"


def subscribe(actor, name: str, url: str, events, secret: str = "", allow_http: bool = False):
    """A new subscription from the next event on (the directorate only); returns it with
    its secret (made here when none is given)."""
    if not actor.is_directorate:
        raise PermissionDenied(ONLY_DIRECTORATE)
    errors = {}
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.hostname or len(url) > 500:
        errors["url"] = (BAD_URL, {})
    chosen = [group for group in (events or []) if group in EVENT_GROUPS]
    if not chosen:
        errors["events"] = (NO_EVENTS, {})
    secret = (secret or "").strip() or secrets.token_urlsafe(32)
    if len(secret) < 16:
        errors["secret"] = (SHORT_SECRET, {})
    if errors:
        raise ValidationFailed(errors)
    with db.atomic():
        # From the next event on: what happened before is in the feed (GET /api/v1/events).
        newest = AuditLog.select(AuditLog.id).order_by(AuditLog.id.desc()).first()
        subscription = WebhookSubscription.create(
            name=(name or url)[:120],
            url=url,
            secret=secret,
            events=" ".join(chosen),
            last_event_id=newest.id if newest else 0,
        )
        audit(actor, "webhook_subscribed", subscription, detail=" ".join(chosen))
    return subscription


def stop(subscription, actor) -> bool:
    """No more events go to the subscription (its pending deliveries stay in the log)."""
    if not actor.is_directorate:
        raise PermissionDenied(ONLY_DIRECTORATE)
    with db.atomic():
        changed = (
            WebhookSubscription.update(is_active=False)
            .where((WebhookSubscription.id == subscription.id) & (WebhookSubscription.is_active == True))  # noqa: E712
            .execute()
        )
        if changed:
            audit(actor, "webhook_stopped", subscription)
    return bool(changed)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` signature of a delivery."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def queue_events(now: _dt.datetime) -> int:
    """Put every feed event after each active subscription's cursor in its outbox."""
    directorate = Actor(kind="staff", role="directorate", name="webhooks")
    queued = 0
    for subscription in WebhookSubscription.select().where(WebhookSubscription.is_active == True):  # noqa: E712
        page = events_page(directorate, subscription.last_event_id, BATCH)
        if not page.rows:
            continue
        with db.atomic():
            for event in page.rows:
                if group_of(event.object_type) not in subscription.event_groups:
                    continue
                body = {
                    "id": event.id,
                    "type": event.type,
                    "at": event.at.replace(tzinfo=_dt.UTC).isoformat(),
                    "object_type": event.object_type,
                    "object_id": event.object_id,
                    "national_code": event.national_code,
                }
                WebhookDelivery.insert(
                    subscription=subscription,
                    event_id=event.id,
                    event_type=event.type,
                    body=json.dumps(body, ensure_ascii=False),
                    next_attempt_at=now,
                ).on_conflict_ignore().execute()
                queued += 1
            WebhookSubscription.update(last_event_id=page.rows[-1].id).where(
                (WebhookSubscription.id == subscription.id)
                & (WebhookSubscription.last_event_id == subscription.last_event_id)
            ).execute()
    return queued


def post(url: str, body: bytes, headers: dict) -> int:
    """POST the body; the receiver's HTTP status (an exception when there is none)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def retry_delay(attempts: int) -> _dt.timedelta:
    """After the n-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    return _dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver_due(now: _dt.datetime, send=post) -> int:
    """Send each subscription's oldest pending delivery that is due, and the ones after it
    while they succeed. Returns the number delivered."""
    delivered = 0
    for subscription in WebhookSubscription.select().where(WebhookSubscription.is_active == True):  # noqa: E712
        pending = (
            WebhookDelivery.select()
            .where((WebhookDelivery.subscription == subscription.id) & (WebhookDelivery.status == "pending"))
            .order_by(WebhookDelivery.event_id)
            .limit(BATCH)
        )
        for delivery in pending:
            if delivery.next_attempt_at > now:
                break  # the oldest waits for its retry; the later ones wait behind it (order)
            outcome = _attempt(subscription, delivery, now, send)
            if outcome == "retry":
                break
            delivered += outcome == "delivered"
    return delivered


def _attempt(subscription, delivery, now, send) -> str:
    """One try: ``delivered``, ``retry`` (later) or ``failed`` (given up after MAX_ATTEMPTS)."""
    body = delivery.body.encode()
    timestamp = int(now.replace(tzinfo=_dt.UTC).timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "officer-registry-webhooks/1",
        "X-Registry-Event": delivery.event_type,
        "X-Registry-Delivery": str(delivery.id),
        "X-Registry-Signature": f"t={timestamp},v1={sign(subscription.secret, timestamp, body)}",
    }
    status, error = None, ""
    try:
        status = send(subscription.url, body, headers)
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = type(failure).__name__ + ": " + str(failure)[:200]
    attempts = delivery.attempts + 1
    if status is not None and 200 <= status < 300:
        WebhookDelivery.update(status="delivered", attempts=attempts, last_status=status, delivered_at=now).where(
            WebhookDelivery.id == delivery.id
        ).execute()
        return "delivered"
    given_up = attempts >= MAX_ATTEMPTS
    WebhookDelivery.update(
        status="failed" if given_up else "pending",
        attempts=attempts,
        last_status=status,
        last_error=(error or f"HTTP {status}")[:300],
        next_attempt_at=now + retry_delay(attempts),
    ).where(WebhookDelivery.id == delivery.id).execute()
    # Given up: the next event may go now; still retrying: it waits behind this one.
    return "failed" if given_up else "retry"


def tick_webhooks(now: _dt.datetime) -> int:
    """``flask tick``'s job: queue the new events, then deliver what is due."""
    queue_events(now)
    return deliver_due(now)


register_job("webhooks", tick_webhooks, every=_dt.timedelta(seconds=30))
