"""Probes for load balancers and orchestrators, answered in JSON.

``GET /healthz``: the process answers (liveness); it touches nothing else, so a database
outage never gets a healthy process restarted. ``GET /readyz``: this host can serve
(readiness): the database answers, every migration in ``migrations/`` is applied, and
``UPLOAD_DIR`` takes a file. 200 when all hold, 503 otherwise; the body names each check
and its state, never an error's text (that goes to the log).
"""

from __future__ import annotations

import logging
import os
import tempfile

from flask import Blueprint, current_app, jsonify

from models import db, migrations

bp = Blueprint("health", __name__)
log = logging.getLogger("registry.health")

# These endpoints open no database connection of the request (the checks open their own).
NO_DATABASE_ENDPOINTS = {"health.healthz", "health.readyz"}


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="ok")), 200


@bp.get("/readyz")
def readyz():
    checks = {"database": _database(), "migrations": _migrations(), "upload_dir": _upload_dir()}
    ready = all(state == "ok" for state in checks.values())
    return _no_store(jsonify(status="ready" if ready else "not ready", checks=checks)), 200 if ready else 503


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> str:
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1").fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: database unreachable: %s", type(error).__name__)
        return "failed"
    return "ok"


def _migrations() -> str:
    try:
        with db.connection_context():
            missing = migrations.unapplied()
    except Exception as error:  # noqa: BLE001
        log.warning("readiness: migrations unknown: %s", type(error).__name__)
        return "failed"
    if missing:
        log.warning("readiness: %d migrations not applied (run flask init-db): %s", len(missing), ", ".join(missing))
        return "pending"
    return "ok"


def _upload_dir() -> str:
    """A file can be written (and fsynced) where documents go. Nothing is created when the
    directory is missing: an unmounted share must not be replaced by a local folder."""
    root = current_app.config["UPLOAD_DIR"]
    folder = os.path.join(root, "tmp") if os.path.isdir(os.path.join(root, "tmp")) else root
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix="readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        log.warning("readiness: UPLOAD_DIR not writable: %s", error.strerror or type(error).__name__)
        return "failed"
    return "ok"
