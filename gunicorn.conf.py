"""Gunicorn settings for production (``make serve-prod``); every value can be overridden
from the environment. Run behind a TLS-terminating proxy, on PostgreSQL:

    APP_ENV=production SECRET_KEY=... DATABASE_URL=postgresql://... UPLOAD_DIR=/srv/registry/documents \\
        .venv/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'
"""

import multiprocessing
import os

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

accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG= (empty) turns it off
# The path without its query string, and no Referer: a query (``/verify?q=``, a search)
# may hold a national code, which has no place in a log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(D)s'

errorlog = os.environ.get("ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info")
