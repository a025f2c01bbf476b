"""The minimal page of issue 23's "within 2x" target, for the benchmark only.

The application as production builds it (every request hook, the server-side session check,
the security headers, the connection kept per thread) plus one page that does the least a
staff page can: check the session, run one query, render a small template. What the
cartable costs beyond this page is the cartable's own work.

    gunicorn -c gunicorn.conf.py --pythonpath bench 'minimal:create_app_with_minimal_page()'
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MINIMAL_PATH = "/bench/minimal"

TEMPLATE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><p>{{ kind }}: {{ count }}</p></body></html>
"""


def add_minimal_page(app):
    """Register ``MINIMAL_PATH`` on ``app``: the session check, one query, a small template."""
    from flask import redirect, render_template
    from flask_login import current_user
    from jinja2 import ChoiceLoader, DictLoader

    import models

    # A template file like any other page's (loaded and compiled once, then cached by Jinja).
    app.jinja_env.loader = ChoiceLoader([DictLoader({"bench_minimal.html": TEMPLATE}), app.jinja_env.loader])

    def minimal_page():
        # Any signed-in account (staff or officer): the same session check their pages make.
        if not current_user.is_authenticated:
            return redirect("/admin/login")
        count = models.University.select().count()
        return render_template("bench_minimal.html", title="minimal", kind=current_user.kind, count=count)

    app.add_url_rule(MINIMAL_PATH, "bench_minimal", minimal_page)
    return app


def create_app_with_minimal_page(test_config=None):
    """``app.create_app`` with the minimal page (the gunicorn entry point of the benchmark)."""
    from app import create_app

    return add_minimal_page(create_app(test_config))
