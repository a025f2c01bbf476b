"""/metrics: who may read it, what it counts, and the multi-process mode under gunicorn."""

from __future__ import annotations

import datetime as dt
import json
import secrets

import pytest
from prometheus_client.parser import text_string_to_metric_families

import models
from harness import AppHost, run_flask
from models import qualification as quals
from storage import StoredFile


def samples(text: str) -> dict:
    """{(name, frozenset(labels)): value} of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def scrape(client, **kwargs) -> str:
    answer = client.get("/metrics", **kwargs)
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "text/plain"
    return answer.get_data(as_text=True)


# ------------------------------------------------------------------- access


def test_the_host_itself_may_scrape_by_default(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1


def test_another_address_is_refused(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403


def test_an_allowed_network_may_scrape(app):
    app.config["METRICS_ALLOW_IPS"] = "10.1.0.0/16"
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(app):
    token = secrets.token_urlsafe(24)
    app.config["METRICS_TOKEN"] = token
    client = app.test_client()
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for offered in (f"Bearer {token}x", token, "Bearer ", f"Basic {token}"):
        assert client.get("/metrics", environ_base=far, headers={"Authorization": offered}).status_code == 403


def test_a_forwarded_address_does_not_open_it(database_url, tmp_path):
    """Behind a trusted proxy the app believes X-Forwarded-For for everything else, but the
    metrics check looks at the connection's own peer, which a client cannot choose."""
    from app import create_app

    proxied = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "UPLOAD_DIR": str(tmp_path),
            "TRUSTED_PROXY_COUNT": 1,
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )
    answer = proxied.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert answer.status_code == 403


# ----------------------------------------------------------------- contents


def test_latency_is_counted_per_route_not_per_path(client):
    before = scrape(client)
    for branch_id in (9101, 9102, 9103):
        client.get(f"/branch/{branch_id}")
    text = scrape(client)
    count = "registry_http_request_duration_seconds_count"
    grown = (value(text, count, endpoint="public.branch", method="GET") or 0) - (
        value(before, count, endpoint="public.branch", method="GET") or 0
    )
    assert grown == 3
    label_values = {v for (_name, labels) in samples(text) for _key, v in labels}
    assert not any("9101" in v or "/branch/" in v for v in label_values)  # no path, no id in a label
    assert (
        value(text, "registry_http_request_duration_seconds_bucket", endpoint="public.branch", method="GET", le="+Inf")
        is not None
    )
    statuses = {
        dict(labels).get("status")
        for (name, labels) in samples(text)
        if name == "registry_http_requests_total" and dict(labels).get("endpoint") == "public.branch"
    }
    assert statuses and statuses <= {"200", "404"}


def test_outbox_depth_and_age_of_the_oldest_pending_sms(client, dbc):
    now = models.utcnow()
    models.SmsOutbox.create(to="09120000001", text="old", created_at=now - dt.timedelta(minutes=10))
    models.SmsOutbox.create(to="09120000002", text="new", created_at=now - dt.timedelta(seconds=5))
    models.SmsOutbox.create(to="09120000003", text="gone", status="sent", created_at=now - dt.timedelta(hours=5))
    models.SmsOutbox.create(to="09120000004", text="bad", status="failed", created_at=now - dt.timedelta(hours=2))
    text = scrape(client)
    assert value(text, "registry_outbox_pending", outbox="sms") == 2
    assert value(text, "registry_outbox_failed", outbox="sms") == 1
    age = value(text, "registry_outbox_oldest_pending_age_seconds", outbox="sms")
    assert 600 <= age < 700  # the oldest *pending* one, not the sent or failed ones
    assert value(text, "registry_database_up") == 1


def test_every_outbox_in_the_list_is_reported(client, dbc):
    from models import operations

    text = scrape(client)
    for name in operations.OUTBOXES:
        assert value(text, "registry_outbox_pending", outbox=name) is not None


def test_every_tick_job_reports_the_seconds_since_it_last_succeeded(client, dbc):
    from models import tick

    assert tick.JOBS  # the jobs of flask tick (models/time_rules.py)
    first, *others = sorted(tick.JOBS)
    tick.TickJob.create(name=first, last_success_at=models.utcnow() - dt.timedelta(seconds=90))
    text = scrape(client)
    assert 90 <= value(text, "registry_tick_job_lag_seconds", job=first) < 150
    for name in others:  # never succeeded on this database: +Inf, an alert, never a 0
        assert value(text, "registry_tick_job_lag_seconds", job=name) == float("inf")


def test_the_lag_gauge_lists_what_tick_job_lags_answers(client, dbc, monkeypatch):
    from models import operations

    asked = []

    def lags(now):
        asked.append(now)
        return {"expire-nominations": 185.5, "send-reminders": 0.0, "clock-skew": -3.0}

    monkeypatch.setattr(operations, "tick_job_lags", lags)
    text = scrape(client)
    assert value(text, "registry_tick_job_lag_seconds", job="expire-nominations") == 185.5
    assert value(text, "registry_tick_job_lag_seconds", job="send-reminders") == 0
    assert value(text, "registry_tick_job_lag_seconds", job="clock-skew") == 0  # never negative
    assert len(asked) == 1 and abs((models.utcnow() - asked[0]).total_seconds()) < 60


def _submitted_request(officer):
    actor = officer.as_actor()
    request = quals.start_request(officer, actor)
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            actor,
            kind,
            StoredFile(
                storage_name=f"ab/{(request.id * 10 + i):032x}.pdf",
                display_name="x.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
            ),
        )
    request.apply("submit", actor)
    return request


def test_requests_waiting_per_university(client, make_officer, dbc):
    for _ in range(2):
        _submitted_request(make_officer(city="اصفهان"))
    _submitted_request(make_officer(city="شیراز"))
    draft = make_officer(city="اصفهان")
    quals.start_request(draft, draft.as_actor())  # a draft waits on nobody
    isfahan = models.University.get(models.University.name == "دانشگاه علوم پزشکی اصفهان").code
    shiraz = models.University.get(models.University.name == "دانشگاه علوم پزشکی شیراز").code
    text = scrape(client)
    waiting = "registry_requests_waiting"
    assert value(text, waiting, university=isfahan, type="qualification") == 2
    assert value(text, waiting, university=shiraz, type="qualification") == 1
    assert value(text, waiting, university=isfahan, type="cooperation") == 0


def test_a_scrape_reports_the_database_down_instead_of_failing(app, database_url, tmp_path):
    from app import create_app

    down_url = (
        "sqlite:////nonexistent-directory/registry.db"
        if database_url.startswith("sqlite")
        else "postgresql://registry:wrong@127.0.0.1:9/registry"
    )
    down = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": down_url,
            "SECRET_KEY": "t",
            "UPLOAD_DIR": str(tmp_path),
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )
    try:
        text = scrape(down.test_client())
    finally:
        models.bind_url(database_url)
    assert value(text, "registry_database_up") == 0
    assert value(text, "registry_outbox_pending", outbox="sms") is None


# ------------------------------------------------------ under gunicorn


@pytest.fixture(scope="module")
def gunicorn_host(fresh_database, processes, ports, tmp_path_factory):
    """One app host under gunicorn, two workers, with PROMETHEUS_MULTIPROC_DIR of its own."""
    import os

    folder = tmp_path_factory.mktemp("metrics-host")
    database = fresh_database("metrics")
    assert run_flask(database, folder / "documents", "init-db").returncode == 0
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "TEST_"))}
    environment.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database,
        UPLOAD_DIR=str(folder / "documents"),
        WORKERS="2",
        WORKER_CLASS="sync",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"),
        IDENTITY_BACKEND_NONE_ACKNOWLEDGED="1",
        SMS_BACKEND_LOG_ACKNOWLEDGED="1",
        SMS_DELIVER_IN_BACKGROUND="0",
        MAX_REQUESTS="0",
    )
    (folder / "prometheus").mkdir()
    (folder / "prometheus" / "counter_99999.db").write_bytes(b"stale")  # from a previous run
    host = AppHost("metrics-host", ports.take(), environment, processes)
    host.start_web()
    host.folder = folder
    return host


def test_under_gunicorn_a_scrape_adds_up_every_worker(gunicorn_host, processes):
    import time
    from concurrent.futures import ThreadPoolExecutor

    def workers_that_served() -> set:
        pids = set()
        for line in processes.log("metrics-host-registry-web").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "request" and entry.get("endpoint") == "public.home":
                pids.add(entry["pid"])
        return pids

    # Concurrent requests to sync workers (one request at a time each), until both workers
    # have served (on a loaded machine the second may still be importing the app at first).
    requests, deadline = 0, time.monotonic() + 60
    while True:
        with ThreadPoolExecutor(8) as pool:
            assert all(answer.status == 200 for answer in pool.map(lambda _: gunicorn_host.get("/"), range(40)))
        requests += 40
        served_by = workers_that_served()
        if len(served_by) == 2 or time.monotonic() > deadline:
            break
    counts = set()
    for _ in range(6):  # whichever worker answers the scrape, it reports them all
        text = gunicorn_host.get("/metrics").text
        counts.add(value(text, "registry_http_request_duration_seconds_count", endpoint="public.home", method="GET"))
    assert counts == {requests}, counts
    assert len(served_by) == 2, served_by  # both workers served: the sum is over processes
    assert not (gunicorn_host.folder / "prometheus" / "counter_99999.db").exists()  # stale files wiped at start
