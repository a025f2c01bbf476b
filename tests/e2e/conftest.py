"""Real-browser fixtures: a live server on a free port, Debian's Chromium, dialog
watching and full-page screenshots (helpers for tests are in browser.py).

The live server runs the per-test ``app`` of tests/conftest.py (database reset per
test) in a daemon thread; peewee keeps a connection per thread and the app opens
one per request, so the server threads and the test thread never share one.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from browser import assert_no_dialogs, watch_dialogs

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "fa-IR",
        "timezone_id": "Asia/Tehran",
        "viewport": {"width": 1280, "height": 900},
    }


# ------------------------------------------------------------------ server


class _ServerErrors(logging.Handler):
    """Collects what the server logs at ERROR: unhandled exceptions, with tracebacks."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list = []

    def emit(self, record):
        self.records.append(self.format(record))


@pytest.fixture
def live_server(app):
    """The test's app served over real HTTP; yields the base URL. A server-side
    exception fails the test with its traceback (a browser only sees "500")."""
    app.config["WTF_CSRF_ENABLED"] = True  # real forms carry real tokens
    app.config["SMS_DELIVER_IN_BACKGROUND"] = False
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # no line per request in the captured output
    errors = _ServerErrors()
    for logger in (access_log, app.logger):
        logger.addHandler(errors)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        for logger in (access_log, app.logger):
            logger.removeHandler(errors)
        access_log.setLevel(level)
    assert not errors.records, "the server logged errors:\n" + "\n".join(errors.records)


# ------------------------------------------------------------------ pages


@pytest.fixture
def dialogs():
    """Every JavaScript dialog any page of the test opened; none is allowed."""
    fired: list = []
    yield fired
    assert_no_dialogs(fired)


@pytest.fixture
def page(context, dialogs):
    """pytest-playwright's page, with dialogs recorded."""
    watch_dialogs(context, dialogs)
    return context.new_page()


@pytest.fixture
def second_page(new_context, dialogs):
    """A page in a second, separate browser context (another user's cookies)."""
    context = new_context()  # browser_context_args are applied by the factory
    watch_dialogs(context, dialogs)
    return context.new_page()


# ------------------------------------------------------------------ screenshots


@pytest.fixture
def shot(request):
    """shot(page, "step") saves test-artifacts/screenshots/<test-name>-<step>.png (full page)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.originalname)

    def take(page, step: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
