"""Values and drawn parts of pages kept a while per process (issue 23).

``KeptValues`` is the one cache of the kind: the cartables' counts
(``backoffice/list_counts.py``), their drawn parts and pages (``backoffice/fragments.py``,
``backoffice/page_frames.py``) and the public pages' header (``site_part``) each keep one,
with their own lifetime. Its entries are replaced whole and clearing swaps in an empty
dictionary: readers on other threads see the old entry or the new one, never a half-built
one; past its size it starts afresh, so a crafted query string per page cannot grow it.

A drawn part may hold a CSRF token, which changes with the session and the second: it is
cut out as a hole when the part is kept (``cut_csrf``) and this request's put back each
time the part is used (``fill_csrf``). The hole is marked with a word drawn at random when
the process starts, which no query string or row can know.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

# Past this many entries a cache starts afresh.
MAX_ENTRIES = 4096
HOLE_WORD = secrets.token_hex(12)
CSRF_HOLE = f"@@csrf-{HOLE_WORD}@@"


class KeptValues:
    """``{key: (expires_at, value)}`` with a lifetime; replaced whole and
    cleared by swapping in an empty dictionary (see the module's docstring)."""

    def __init__(self, seconds: float, max_entries: int | None = None):
        self.seconds = float(seconds)
        # None: the module's MAX_ENTRIES; a cache of large values (whole pages) keeps fewer.
        self.max_entries = max_entries
        self._entries: dict = {}

    def _full(self, entries) -> bool:
        return len(entries) >= (self.max_entries or MAX_ENTRIES)

    def get(self, key, load):
        """The value kept for ``key`` if still fresh, else ``load()`` (kept for next time)."""
        if self.seconds <= 0:
            return load()
        now = time.monotonic()
        entries = self._entries
        found = entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = load()
        if self._full(entries):
            entries = self._entries = {}
        entries[key] = (now + self.seconds, value)
        return value

    def peek(self, key):
        """The fresh value kept for ``key``, or None (always None with no lifetime)."""
        if self.seconds <= 0:
            return None
        found = self._entries.get(key)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, key, value) -> None:
        if self.seconds > 0:
            if self._full(self._entries):
                self._entries = {}
            self._entries[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        self._entries = {}


def cut_csrf(html: str) -> str:
    """``html`` with this request's CSRF token replaced by its hole."""
    return html.replace(generate_csrf(), CSRF_HOLE)


def fill_csrf(html: str) -> str:
    """A kept ``html`` with this request's CSRF token in its holes."""
    # Only where there is a hole: a part without a form must not give the session a token.
    return html.replace(CSRF_HOLE, generate_csrf()) if CSRF_HOLE in html else html


def kept_html(kept: KeptValues, key, draw, cut=cut_csrf, fill=fill_csrf) -> str:
    """``fill(frame)``, the frame being ``cut(draw())`` kept in ``kept`` under ``key``: drawn
    once while fresh, its per-request parts cut out as holes and put back each time."""
    frame = kept.peek(key)
    if frame is None:
        frame = cut(draw())
        kept.put(key, frame)
    return fill(frame)


def site_part(name, *parts, caller):
    """The HTML ``caller()`` draws, kept per page (endpoint and whole path with its query),
    kind of account, language and ``parts`` (what else it shows: an unread count...). Its
    CSRF token is this request's; nothing else drawn per person may be inside."""
    kind = current_user.kind if current_user.is_authenticated else None
    key = (name, request.endpoint, kind, str(get_locale()), request.full_path, repr(parts))
    return Markup(kept_html(current_app.extensions["site_parts"], key, caller))


def init_app(app) -> None:
    """The public pages' kept parts (``{% call site_part('header', unread) %}``)."""
    app.extensions["site_parts"] = KeptValues(app.config.get("SITE_PART_SECONDS", 60), max_entries=1024)
    app.jinja_env.globals["site_part"] = site_part
