"""Real-browser fixtures: a live server on a free port, Debian's Chromium, dialog
watching, full-page screenshots and axe-core accessibility checks.

The live server runs the per-test ``app`` of tests/conftest.py (database reset per
test) in a daemon thread; peewee keeps a connection per thread, and the app opens
one per request, so the server threads and the test thread do not share one.
"""
from __future__ import annotations

import importlib.util
import logging
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import models

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"
AXE_PATH = "/static/vendor/axe/axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "Kh0sh-Amad-2024"
TEHRAN_UNIVERSITY = "دانشگاه علوم پزشکی تهران"



def _shared_conftest():
    """tests/conftest.py, loaded under its own name: pytest imports every conftest as
    the module ``conftest``, so in tests/e2e ``import conftest`` finds this file."""
    spec = importlib.util.spec_from_file_location("_tests_shared_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shared = _shared_conftest()
# Re-exported so ``from conftest import MINIMAL_PDF, JPEG_BYTES`` works in tests/e2e too.
MINIMAL_PDF = _shared.MINIMAL_PDF
JPEG_BYTES = _shared.JPEG_BYTES
del _shared


# ------------------------------------------------------------------ browser

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fa-IR", "timezone_id": "Asia/Tehran",
            "viewport": {"width": 1280, "height": 900}}


# ------------------------------------------------------------------ server

@pytest.fixture
def live_server(app):
    """The test's app served over real HTTP; yields the base URL."""
    app.config["WTF_CSRF_ENABLED"] = True  # real forms carry real tokens
    app.config["SMS_DELIVER_IN_BACKGROUND"] = False
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # no line per request in the captured output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        access_log.setLevel(level)


# ------------------------------------------------------------------ dialogs

@pytest.fixture
def dialogs():
    """Every alert/confirm/prompt any page of the test opened (an XSS would show here)."""
    fired: list = []
    yield fired
    assert not fired, f"unexpected JavaScript dialogs: {fired}"


def watch_dialogs(context, fired: list) -> None:
    def on_dialog(dialog):
        fired.append({"type": dialog.type, "message": dialog.message,
                      "url": dialog.page.url if dialog.page else ""})
        dialog.dismiss()
    context.on("dialog", on_dialog)


def assert_no_dialogs(fired: list) -> None:
    assert not fired, f"unexpected JavaScript dialogs: {fired}"


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


# ------------------------------------------------------------------ accessibility

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
    iframes: false
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                              summary: (n.failureSummary || '').slice(0, 300)}))
  }));
}"""


def axe_violations(page) -> list:
    """All WCAG 2 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = re.match(r"^https?://[^/]+", page.url).group(0)
        # Served by the app itself, so the page's CSP (script-src 'self') allows it.
        page.add_script_tag(url=origin + AXE_PATH)
    return page.evaluate(AXE_RUN)


def format_violations(violations: list) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {node['target']}: {node['html']}")
    return "\n".join(lines)


def assert_accessible(page, label: str = "") -> list:
    """No serious or critical WCAG 2 A/AA violation; returns the minor ones for logging."""
    violations = axe_violations(page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, (f"axe found serious/critical violations on {label or page.url}:\n"
                         + format_violations(serious))
    minor = [v for v in violations if v not in serious]
    if minor:
        print(f"axe (minor/moderate) on {label or page.url}:\n{format_violations(minor)}")
    return minor


# ------------------------------------------------------------------ accounts

def make_staff(username: str, role: str, university: str | None = TEHRAN_UNIVERSITY,
               full_name: str = "کارشناس آزمون"):
    with models.db.connection_context():
        uni = models.University.get(models.University.name == university) \
            if university and role == "university" else None
        return models.create_staff(username, PASSWORD, role, university=uni, full_name=full_name)


def staff_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/admin/login" not in page.url, f"staff login failed: {page.url}"


def officer_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/officer/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith("/officer"), f"officer login failed: {page.url}"
