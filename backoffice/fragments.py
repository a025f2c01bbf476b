"""Parts of a cartable page drawn once and reused while what they show is the same (issue 23).

Around its rows a cartable page draws its tabs, Flask-Admin's menu bar (the list's count,
the export links, the filters' menu, the search box), the table's sort headers, the pager
and the filters' data for the script: half the page's time, and for a given view, role,
language, query string and counts always the same HTML. A template wraps such a part in

    {% call fragment('menu bar', cartable_counts, count) %} ... {% endcall %}

and the part is drawn once per key, which always holds the view, the role, the language
and the whole query string, plus what the call adds (the counts it shows). Nothing drawn
per request (a CSP nonce, a CSRF token, a person's name) may be inside a fragment.

Entries live ``FRAGMENT_SECONDS`` (the filter options' own lifetime: a renamed city shows
in the filters' menu within it) and are forgotten when the back office changes a row;
the cache starts afresh past ``web.kept.MAX_ENTRIES``. ``tests/test_fragments.py`` draws every page
kind twice and with the cache off and requires the same HTML.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from web.kept import KeptValues

from .base import FILTER_OPTIONS_TTL, current_staff


def fragment(name, *parts, caller):
    """The HTML ``caller()`` draws, kept per view, role, language, query string and ``parts``."""
    staff = current_staff()
    key = (
        name,
        request.endpoint,
        staff.role if staff is not None else None,
        str(get_locale()),
        request.query_string,
        repr(parts),
    )
    return current_app.extensions["fragments"].get(key, lambda: Markup(caller()))


def init_app(app) -> None:
    # The same kept-values cache as the counts' (web.kept.KeptValues), its own lifetime.
    app.extensions["fragments"] = KeptValues(app.config.get("FRAGMENT_SECONDS", FILTER_OPTIONS_TTL))
    app.jinja_env.globals["fragment"] = fragment
