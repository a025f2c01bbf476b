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

from flask import current_app, request

from web.kept import KeptValues

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app) -> None:
    """The application's count cache, forgotten after every write this process handles."""
    app.extensions["list_counts"] = KeptValues(app.config.get("CARTABLE_COUNTS_SECONDS", 10))

    @app.after_request
    def _forget_counts_after_a_write(response):
        if request.method in WRITE_METHODS:
            app.extensions["list_counts"].clear()
            # The drawn parts and pages of the cartables too: a changed city shows in the
            # filters at once.
            for drawn in ("fragments", "page_frames", "site_parts"):
                if drawn in app.extensions:
                    app.extensions[drawn].clear()
        return response


def list_counts() -> KeptValues:
    return current_app.extensions["list_counts"]
