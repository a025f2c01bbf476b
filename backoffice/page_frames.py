"""A cartable page kept whole around the parts drawn per request (issue 23).

Around its 25 rows a cartable page is the same HTML for one staff member, view, language,
query string and set of counts: the frame, the menu, the tabs, the filters' data, the
pager, some 120 KB that Jinja draws through four inherited templates in about half the
page's time. Only three things in it change from one request to the next: the rows (read
afresh on every page), the CSP nonce and the CSRF token. The page is therefore drawn once
with a hole where the rows go, the nonce and the token are cut out of what was drawn, and
that frame is kept; the next request with the same key fills the three holes and sends it.

The key holds whatever else the frame shows that is not in the query string: the staff
member (their name is in the header, their role decides the menu and the columns), the
language, the tab and list counts, whether the page is full (the pager), the menu's badge
and the day. A page with a message to show once (``flash``) is drawn whole and not kept.
Frames live ``FRAGMENT_SECONDS``, the filter options' own lifetime, are forgotten when this
process handles a write, and at most ``MAX_FRAMES`` are kept (a page is large).

The holes are marked with a random word drawn when the process starts (``web.kept``), so that no query
string or row can write one. ``tests/test_page_frames.py`` checks a kept page is byte for
byte the page drawn whole, that a new nonce and token reach every place they are used, and
that nothing of one staff member's page reaches another's.
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import get_locale
from markupsafe import Markup

from web.kept import HOLE_WORD, KeptValues, cut_csrf, fill_csrf, kept_html
from web.security import csp_nonce

from .base import FILTER_OPTIONS_TTL

MAX_FRAMES = 128
ROWS_HOLE = f"@@rows-{HOLE_WORD}@@"
NONCE_HOLE = f"@@nonce-{HOLE_WORD}@@"


def framed(staff, parts: tuple, rows: Markup, draw):
    """The page ``draw([rows])`` makes (``draw([])`` for no rows), from its kept frame when
    there is one.

    ``rows`` is the page's rows as one piece of HTML, ``parts`` what the view adds to the
    key (its counts...); ``draw`` returns the page's HTML for the list of row pieces it is
    given, so that the rows land where a page drawn whole has them, byte for byte."""
    if staff is None or session.get("_flashes"):
        return draw([rows] if rows else [])
    key = (request.endpoint, staff.id, staff.role, str(get_locale()), request.query_string, bool(rows), parts)
    page = kept_html(
        current_app.extensions["page_frames"],
        key,
        lambda: draw([Markup(ROWS_HOLE)] if rows else []),
        cut=_cut_holes,
        fill=lambda frame: _fill(frame, rows),
    )
    return Markup(page)


def _cut_holes(html: str) -> str:
    """``html`` with this request's nonce and CSRF token replaced by their holes."""
    return cut_csrf(html.replace(csp_nonce(), NONCE_HOLE))


def _fill(frame: str, rows: str) -> str:
    # The rows last: nothing in them is taken for a hole.
    return fill_csrf(frame.replace(NONCE_HOLE, csp_nonce())).replace(ROWS_HOLE, rows, 1)


def init_app(app) -> None:
    app.extensions["page_frames"] = KeptValues(
        app.config.get("FRAGMENT_SECONDS", FILTER_OPTIONS_TTL), max_entries=MAX_FRAMES
    )
