"""Webhooks against a local receiver (pytest-httpserver): each delivery is signed with
HMAC-SHA256 over the timestamp and the body, a failure is retried with back-off, and a
subscription's events arrive in order (a failing one holds the later ones back)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re

import pytest
from werkzeug.wrappers import Response

import models
from helpers import staff_client_for
from models import WebhookDelivery, webhooks
from models import cooperation as coops


@pytest.fixture
def receiver(httpserver):
    """A receiver answering with the statuses in ``receiver.statuses`` (then 200), keeping
    what it got in ``receiver.got``."""

    class Receiver:
        statuses: list = []
        got: list = []

    def handle(request):
        Receiver.got.append((dict(request.headers), request.get_data()))
        return Response("ok", status=Receiver.statuses.pop(0) if Receiver.statuses else 200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handle)
    Receiver.url = httpserver.url_for("/hook")
    return Receiver


def _subscribe(world, url, events=("qualification", "cooperation")):
    return webhooks.subscribe(
        world.directorate.as_actor(), "بایگانی", url, list(events), secret="s" * 24, allow_http=True
    )


def _verified(headers, body, secret):
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["X-Registry-Signature"])
    expected = hmac.new(secret.encode(), match.group(1).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(2))


def test_signed_retried_and_in_order(world, receiver, make_officer, dbc):
    subscription = _subscribe(world, receiver.url)
    first = coops.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    coops.withdraw(first, world.pakhsh.as_actor())
    make_officer()  # an officer's account event: not subscribed
    now = models.utcnow()
    receiver.statuses = [500]
    assert webhooks.tick_webhooks(now) == 0
    (failed,) = receiver.got
    assert json.loads(failed[1])["type"] == "cooperation_nominate"
    # The later event waits behind the failing one; nothing is due before the back-off.
    assert webhooks.tick_webhooks(now + dt.timedelta(seconds=10)) == 0 and len(receiver.got) == 1
    assert webhooks.tick_webhooks(now + webhooks.retry_delay(1)) == 2
    types = [json.loads(body)["type"] for _, body in receiver.got]
    assert types == ["cooperation_nominate", "cooperation_nominate", "cooperation_withdraw"]
    for headers, body in receiver.got:
        assert _verified(headers, body, subscription.secret)
        assert headers["X-Registry-Event"] == json.loads(body)["type"]
    assert not _verified(receiver.got[0][0], receiver.got[0][1] + b" ", subscription.secret)
    log = list(WebhookDelivery.select().order_by(WebhookDelivery.event_id))
    assert [(d.status, d.attempts) for d in log] == [("delivered", 2), ("delivered", 1)]
    assert log[0].body and json.loads(log[0].body)["national_code"] == world.free_officer.national_code


def test_a_delivery_given_up_lets_the_next_one_go(world, receiver, dbc):
    _subscribe(world, receiver.url, events=("cooperation",))
    first = coops.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    coops.withdraw(first, world.pakhsh.as_actor())
    receiver.statuses = [503] * webhooks.MAX_ATTEMPTS
    now = models.utcnow()
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        webhooks.tick_webhooks(now)
        now += webhooks.retry_delay(attempt)
    log = list(WebhookDelivery.select().order_by(WebhookDelivery.event_id))
    assert [d.status for d in log] == ["failed", "delivered"]
    assert log[0].attempts == webhooks.MAX_ATTEMPTS and log[0].last_status == 503


def test_an_unreachable_receiver_is_retried_not_crashed(world, dbc):
    _subscribe(world, "http://127.0.0.1:9/hook")
    coops.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    assert webhooks.tick_webhooks(models.utcnow()) == 0
    (delivery,) = WebhookDelivery.select()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_error


def test_subscribing_needs_https_and_the_directorate(world, make_staff, dbc):
    with pytest.raises(models.ValidationFailed):
        webhooks.subscribe(world.directorate.as_actor(), "x", "http://example.org/hook", ["officer"])
    with pytest.raises(models.ValidationFailed):
        webhooks.subscribe(world.directorate.as_actor(), "x", "https://example.org/hook", [])
    with pytest.raises(models.PermissionDenied):
        webhooks.subscribe(make_staff("university").as_actor(), "x", "https://example.org/hook", ["officer"])
    assert webhooks.subscribe(world.directorate.as_actor(), "x", "https://example.org/hook", ["officer"]).secret
    assert "webhooks" in models.tick.JOBS


def test_the_back_office_shows_the_secret_once_and_keeps_a_log(app, world, receiver, dbc):
    staff = staff_client_for(app, world.directorate)
    answer = staff.post(
        "/admin/webhook/new/", data={"name": "بایگانی", "url": receiver.url, "events": ["cooperation"], "secret": ""}
    )
    secret = re.search(r'id="webhook-secret"[^>]*>([^<]+)<', answer.get_data(as_text=True)).group(1)
    assert len(secret) >= 32 and models.WebhookSubscription.get().secret == secret
    assert secret not in staff.get("/admin/webhook/").get_data(as_text=True)
    assert secret not in staff.get("/admin/webhook/export/csv/").get_data(as_text=True)
    coops.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    webhooks.tick_webhooks(models.utcnow())
    assert "cooperation_nominate" in staff.get("/admin/webhookdelivery/").get_data(as_text=True)
    subscription = models.WebhookSubscription.get()
    staff.post("/admin/webhook/action/", data={"action": "stop", "rowid": str(subscription.id)})
    assert not models.WebhookSubscription.get_by_id(subscription.id).is_active
