"""``GET /metrics`` in the Prometheus text format (prometheus-client).

Two kinds of numbers:

* **per process**, counted as requests are served: a latency histogram and a counter per
  route (the endpoint's name, never the raw path, so ids and typed values make no new
  series). Under gunicorn each worker writes them to files in ``PROMETHEUS_MULTIPROC_DIR``
  (gunicorn.conf.py makes one per start and removes the files of a worker that exits);
  a scrape of any worker adds up every worker of the host.
* **from the database**, read at each scrape (the same on every host: aggregate with
  ``max``): each outbox's pending and failed messages and the age of its oldest pending
  one, the requests waiting on each university, and the lag of each ``tick`` job.

Access: the TCP peer's address (never ``X-Forwarded-For``) in ``METRICS_ALLOW_IPS``
(addresses or networks, default the host itself), or ``Authorization: Bearer`` with
``METRICS_TOKEN``; anyone else gets 403. The nginx example refuses ``/metrics`` outright:
Prometheus scrapes each app host directly.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import time

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from models import db, utcnow
from models import operations as ops

bp = Blueprint("metrics", __name__)
log = logging.getLogger("registry.metrics")
NO_DATABASE_ENDPOINTS = {"metrics.metrics"}
disable_created_metrics()  # no *_created series: a restart already shows as a reset

# 5 ms .. 30 s: pages take 5-80 ms, an export streams for up to minutes.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REQUEST_SECONDS = Histogram(
    "registry_http_request_duration_seconds",
    "Time to answer a request, by route (Flask endpoint) and method",
    ["endpoint", "method"],
    buckets=BUCKETS,
)
REQUESTS = Counter(
    "registry_http_requests", "Requests answered, by route, method and status", ["endpoint", "method", "status"]
)


def init_app(app) -> None:
    app.config.setdefault("METRICS_TOKEN", os.environ.get("METRICS_TOKEN", ""))
    app.config.setdefault("METRICS_ALLOW_IPS", os.environ.get("METRICS_ALLOW_IPS", "127.0.0.1,::1"))
    networks(app.config["METRICS_ALLOW_IPS"])  # a malformed setting stops the start, not a scrape
    app.before_request(_start_clock)
    app.after_request(_count)
    app.register_blueprint(bp)


@functools.lru_cache(maxsize=8)
def networks(spec: str) -> tuple:
    """``METRICS_ALLOW_IPS``: comma-separated addresses or networks (``10.0.0.0/24``)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


# ----------------------------------------------------------------- the scrape


def _peer_address() -> str:
    """The address of the TCP peer, before ProxyFix read any forwarded header."""
    original = request.environ.get("werkzeug.proxy_fix.orig", {})
    return original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR", "")


def may_scrape() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        peer = ipaddress.ip_address(_peer_address())
    except ValueError:
        return False
    return any(peer in network for network in networks(current_app.config["METRICS_ALLOW_IPS"]))


@bp.get("/metrics")
def metrics():
    if not may_scrape():
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(REQUESTS)
    registry.register(DatabaseCollector())
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class DatabaseCollector:
    """The gauges read from the database at each scrape; ``registry_database_up`` is 0 (and
    the others absent) when the database cannot answer."""

    def describe(self):
        # Named without querying, so registering the collector costs nothing.
        return [family for family, _fill in self._families()]

    @staticmethod
    def _families():
        outbox = ["outbox"]
        return [
            (GaugeMetricFamily("registry_database_up", "1 when the database answered this scrape"), None),
            (
                GaugeMetricFamily("registry_outbox_pending", "Messages waiting to be delivered", labels=outbox),
                "pending",
            ),
            (
                GaugeMetricFamily(
                    "registry_outbox_failed", "Messages given up on (resend from the back office)", labels=outbox
                ),
                "failed",
            ),
            (
                GaugeMetricFamily(
                    "registry_outbox_oldest_pending_age_seconds",
                    "Age of the oldest message still waiting (0 when none waits)",
                    labels=outbox,
                ),
                "oldest_pending_age_seconds",
            ),
            (
                GaugeMetricFamily(
                    "registry_requests_waiting",
                    "Requests waiting on a university's decision",
                    labels=["university", "type"],
                ),
                "waiting",
            ),
            (
                GaugeMetricFamily(
                    "registry_tick_job_lag_seconds",
                    "Seconds since each tick job last succeeded (+Inf: never)",
                    labels=["job"],
                ),
                "lag",
            ),
        ]

    def collect(self):
        families = self._families()
        up = families[0][0]
        try:
            with db.connection_context():
                now = utcnow()
                backlogs = ops.outbox_backlogs(now)
                waiting = ops.requests_waiting()
                lags = ops.tick_job_lags(now)
        except Exception as error:  # noqa: BLE001 - a scrape reports the outage, it does not fail
            log.warning("metrics: database unavailable: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for family, field in families[1:4]:
            for backlog in backlogs:
                family.add_metric([backlog.outbox], getattr(backlog, field))
            yield family
        waiting_family = families[4][0]
        for university, kind, count in waiting:
            waiting_family.add_metric([university, kind], count)
        yield waiting_family
        lag_family = families[5][0]
        for job, lag in sorted(lags.items()):
            lag_family.add_metric([job], max(0.0, float(lag)))
        yield lag_family
