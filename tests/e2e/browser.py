"""Helpers for the browser tests: accessibility checks with axe-core, dialog watching,
and logging in through the real forms."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import models
from helpers import PASSWORD

# A test asset (tests/e2e/assets/README.md), never served by the application.
AXE_SOURCE = Path(__file__).resolve().parent / "assets" / "axe" / "axe.min.js"
TEHRAN_UNIVERSITY = "دانشگاه علوم پزشکی تهران"


# ------------------------------------------------------------------ dialogs


def watch_dialogs(context, fired: list) -> None:
    """Record (and dismiss) every alert/confirm/prompt any page of the context opens."""

    def on_dialog(dialog):
        fired.append({"type": dialog.type, "message": dialog.message, "url": dialog.page.url if dialog.page else ""})
        dialog.dismiss()

    context.on("dialog", on_dialog)


def assert_no_dialogs(fired: list) -> None:
    assert not fired, f"unexpected JavaScript dialogs (XSS?): {fired}"


# ------------------------------------------------------------------ accessibility

# Colours are judged on the settled page: a button still inside its 0.15 s colour
# transition (Bootstrap's .btn) reads as low contrast on a loaded machine, so every
# running CSS transition and finite animation is waited for first (a spinner's
# infinite one would never finish).
AXE_RUN = """async () => {
  const finite = document.getAnimations().filter(
    a => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
  await Promise.all(finite.map(a => a.finished.catch(() => null)));
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


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page) -> list:
    """All WCAG 2 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self')
        # does not govern; add_script_tag(path=...) would insert an inline script, which it
        # blocks. The page itself is left as the application served it.
        page.evaluate(_axe_source())
    return page.evaluate(AXE_RUN)


def format_violations(violations: list) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {node['target']}: {node['html']}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", " "))
    return "\n".join(lines)


def assert_accessible(page, label: str = "") -> list:
    """No serious or critical WCAG 2 A/AA violation; prints and returns the lesser ones."""
    violations = axe_violations(page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe found serious/critical violations on {label or page.url}:\n" + format_violations(serious)
    minor = [v for v in violations if v not in serious]
    if minor:
        print(f"axe (minor/moderate) on {label or page.url}:\n{format_violations(minor)}")
    return minor


# ------------------------------------------------------------------ accounts


def make_staff(username: str, role: str, university: str | None = TEHRAN_UNIVERSITY, full_name: str = "کارشناس آزمون"):
    with models.db.connection_context():
        uni = (
            models.University.get(models.University.name == university) if university and role == "university" else None
        )
        return models.create_staff(username, PASSWORD, role, university=uni, full_name=full_name)


def _submit_login(page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def staff_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    _submit_login(page, base_url + "/admin/login", username, password)
    assert "/admin/login" not in page.url, f"staff login failed: {page.url}"


def officer_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    _submit_login(page, base_url + "/officer/login", username, password)
    assert page.url.rstrip("/").endswith("/officer"), f"officer login failed: {page.url}"


# ------------------------------------------------------------------ SMS


def code_from_sms_log(app, mobile: str) -> str:
    """Deliver the queued SMS with the app's ``log`` backend and read the newest 6-digit
    code sent to ``mobile`` from the SMS log file, as the person reads it on the phone."""
    import json
    import re

    import notify

    with models.db.connection_context():
        notify.deliver_pending(notify.backend_from_config(app.config))
    lines = Path(app.config["SMS_LOG_FILE"]).read_text(encoding="utf-8").splitlines()
    for line in reversed(lines):
        message = json.loads(line)
        found = re.search(r"(?<!\d)(\d{6})(?!\d)", message["text"])
        if message["to"] == mobile and found:
            return found.group(1)
    raise AssertionError(f"no code was sent to {mobile}")
