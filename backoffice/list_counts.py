"""The counts of the cartables' lists and tabs, kept a few seconds per process (issue 23).

A cartable page shows the capped count of its list (for the pager) and of each of its five
tabs: six LIMITed counts of up to 10,001 index entries each, at a million requests most of
the page's database time. The rows of a page are always read afresh; the counts are kept
``CARTABLE_COUNTS_SECONDS`` (default 10) per process, for each staff member, list and set of
filters, and forgotten at once when this process handles a write (any POST, PUT, PATCH or
DELETE): a reviewer's own decision shows in the counts of their next page, another worker's
or host's within the lifetime. ``CARTABLE_COUNTS_SECONDS=0`` counts on every page.

The cache is the application's (``app.extensions``), its entries are replaced whole, and
clearing swaps in an empty dictionary: readers on other threads see the old entry or the new
one, never a half-built one, and never another person's (the key starts with the staff id).
"""

from __future__ import annotations

import time

from flask import current_app, request

# Past this many entries the cache starts afresh (a crafted query string per page must not
# grow it without bound).
MAX_ENTRIES = 4096
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ListCounts:
    """``{key: (expires_at, value)}`` with a lifetime; see the module's docstring."""

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


def init_app(app) -> None:
    """The application's count cache, forgotten after every write this process handles."""
    app.extensions["list_counts"] = ListCounts(app.config.get("CARTABLE_COUNTS_SECONDS", 10))

    @app.after_request
    def _forget_counts_after_a_write(response):
        if request.method in WRITE_METHODS:
            app.extensions["list_counts"].clear()
            # The drawn parts and pages of the cartables too: a changed city shows in the
            # filters at once.
            for drawn in ("fragments", "page_frames"):
                if drawn in app.extensions:
                    app.extensions[drawn].clear()
        return response


def list_counts() -> ListCounts:
    return current_app.extensions["list_counts"]
