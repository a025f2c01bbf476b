"""Gunicorn settings for production (``make serve-prod``); every value can be overridden
from the environment. Run behind a TLS-terminating proxy, on PostgreSQL:

    APP_ENV=production SECRET_KEY=... DATABASE_URL=postgresql://... UPLOAD_DIR=/srv/registry/documents \\
        .venv/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'
"""

import atexit
import multiprocessing
import os
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# 2 x cores + 1 processes: each page is CPU work in Python (templates), so processes, not
# threads, add throughput; a few threads per process keep a slow client or a long CSV
# export from blocking that process.
workers = int(os.environ.get("WORKERS") or os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = os.environ.get("WORKER_CLASS", "gthread")
threads = int(os.environ.get("THREADS", "4"))

# Each worker imports the application itself: nothing (no database connection, no lock)
# is shared across a fork, and a restart picks up new code.
preload_app = False

# A gthread worker keeps answering the arbiter while a request streams, so a 1M-row
# export (about half a minute) is not killed; timeout only catches a stuck worker.
timeout = int(os.environ.get("TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("KEEPALIVE", "5"))

# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("MAX_REQUESTS_JITTER", "500"))

# Behind the proxy: X-Forwarded-Proto from these addresses marks the request as https.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn 25+ opens a control socket for gunicornc at one fixed path per user
# ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl): two gunicorns of one user (two app hosts
# on one machine, as in the two-host test) would take each other's. We never use it.
control_socket_disable = True

accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG= (empty) turns it off
# The path without its query string, and no Referer: a query (``/verify?q=``, a search)
# may hold a national code, which has no place in a log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(D)s'

errorlog = os.environ.get("ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info")
# JSON lines (json_logging.py): the error log, and one access line per request with the
# path and the request id but never the query string (a national code typed into /verify
# or a search would land there). LOG_FORMAT=text keeps gunicorn's own lines, with the same
# rule in the format below.
if os.environ.get("LOG_FORMAT", "json") == "json":
    logger_class = "json_logging.GunicornLogger"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s'

# Prometheus in multi-process mode: every worker writes its counters to files in this
# directory, and a scrape of any worker adds them up. It must be set before a worker
# imports prometheus_client, so here, in the arbiter; without a setting, a private
# directory per start (removed at exit).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="registry-metrics-")
    os.environ["REGISTRY_METRICS_DIR_IS_OURS"] = "1"
    # Also when gunicorn stops before on_exit (its address taken, a bad setting): removed at
    # the arbiter's exit. Only by the arbiter: workers inherit the handler but leave with
    # os._exit, and the pid check keeps any other child from removing it.
    _arbiter_pid = os.getpid()
    atexit.register(
        lambda: (
            os.getpid() == _arbiter_pid and shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
        )
    )


def on_starting(server):
    """Counters of a previous run would be added to this one's: start from empty files."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    """A worker that exits (recycled after max_requests, killed, or at shutdown) leaves its
    counters in place but its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("REGISTRY_METRICS_DIR_IS_OURS") == "1":
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
