"""URLs of the back office's pages built without Werkzeug's URL map (issue 23).

A cartable page builds some forty URLs: its tabs, its sort headers, its pager, its filter
and export links, its style sheets and scripts. Each ``url_for`` walks the URL map's
builder (about 30 us); together they were a sixth of the page. The path of a view's page
never changes (its rule has no argument), so it is built once; what varies is the query
string, encoded here exactly as Werkzeug encodes unknown arguments (``Rule.build``: the
multi-item pairs in order, ``None`` left out, ``urlencode`` with WHATWG's safe characters).
A static file's URL is the same at every request: it is built once per file and version.
``tests/test_fast_urls.py`` compares both ways over every shape the pages use.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request, url_for
from werkzeug.datastructures import iter_multi_items

# Werkzeug's safe characters for a query string (werkzeug.urls._urlencode).
QUERY_SAFE = "!$'()*,/:;?@"
# The views' own pages whose rules take no argument: their URLs vary by query string only.
PAGE_ENDPOINTS = frozenset({".index_view", ".review_view", ".details_view", ".action_view"})
_STATIC_ENDPOINTS = frozenset({"static", "admin.static"})

_paths: dict = {}
_static: dict = {}


def query_string(arguments: dict) -> str:
    """``arguments`` as ``url_for`` appends them to a URL (without the ``?``)."""
    return urlencode([item for item in iter_multi_items(arguments) if item[1] is not None], safe=QUERY_SAFE)


def page_url(endpoint: str, arguments: dict) -> str:
    """``url_for(endpoint, **arguments)`` for a page whose rule takes no argument."""
    key = (request.blueprint, request.script_root, endpoint)
    path = _paths.get(key)
    if path is None:
        path = _paths[key] = url_for(endpoint)
    query = query_string(arguments)
    return f"{path}?{query}" if query else path


def static_url(endpoint: str = "static", **arguments) -> str:
    """``url_for(endpoint, **arguments)`` of a static file, built once per file and version."""
    key = (request.script_root, endpoint, tuple(sorted(arguments.items())))
    found = _static.get(key)
    if found is None:
        found = _static[key] = url_for(endpoint, **arguments)
    return found


class FastUrlMixin:
    """A view whose ``get_url`` builds its own pages' and static files' URLs as above."""

    def get_url(self, endpoint, **kwargs):
        if any(name.startswith("_") for name in kwargs):  # _external, _anchor...: Flask's own
            return super().get_url(endpoint, **kwargs)
        if endpoint in PAGE_ENDPOINTS:
            return page_url(endpoint, kwargs)
        if endpoint in _STATIC_ENDPOINTS or endpoint.endswith(".static"):
            return static_url(endpoint, **kwargs)
        return super().get_url(endpoint, **kwargs)
