"""The STOCK Flask-Admin configuration of the qualification cartable, for the benchmark only.

A plain ``flask_admin.contrib.peewee.ModelView(QualificationRequest)`` with the same
column list as ours (foreign-key columns included), the same page size, a filter on
the state, a search on the officer's national code and the CSV export, registered on
its own Flask app and Admin with access allowed to everyone. Nothing here is served by
the real application. ``/admin/qualification_university/`` is the same view with the
one ``where`` a developer must add to scope it to a university (``STOCK_UNIVERSITY``).

    gunicorn -c gunicorn.conf.py --pythonpath bench 'stock:create_stock_app()'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = (
    "id",
    "officer",
    "national_code",
    "city",
    "field_of_study",
    "degree_level",
    "status",
    "submitted_at",
    "due_on",
)
EXPORT_COLUMNS = (
    "id",
    "officer",
    "national_code",
    "city",
    "field_of_study",
    "degree_level",
    "status",
    "submitted_at",
    "decided_at",
)


def create_stock_app(database_url: str | None = None, university_id: int | None = None):
    from flask import Flask
    from flask_admin import Admin
    from flask_admin.contrib.peewee import ModelView
    from flask_babel import Babel

    import models
    from models import Officer, QualificationRequest, db

    url = database_url or os.environ["DATABASE_URL"]
    university_id = university_id or int(os.environ.get("STOCK_UNIVERSITY", "0") or 0)
    models.bind_url(url)
    app = Flask("stock")
    app.config.update(SECRET_KEY="stock-benchmark", BABEL_DEFAULT_LOCALE="fa")
    Babel(app)

    def national_code(view, context, model, name):
        return model.officer.national_code

    class StockQualificationView(ModelView):
        column_list = COLUMNS
        column_formatters = {"national_code": national_code}
        column_filters = ("status",)
        column_searchable_list = (Officer.national_code,)
        column_export_list = EXPORT_COLUMNS
        column_formatters_export = {"national_code": lambda v, c, m, n: m.officer.national_code}
        can_export = True
        page_size = 25  # ours shows 25 rows: compare the same work

        def is_accessible(self):
            return True

    class StockUniversityView(StockQualificationView):
        def get_query(self):
            return super().get_query().where(QualificationRequest.university == university_id)

        def get_count_query(self):
            return super().get_count_query().where(QualificationRequest.university == university_id)

    admin = Admin(app, name="stock")
    admin.add_view(StockQualificationView(QualificationRequest, endpoint="qualification"))
    admin.add_view(StockUniversityView(QualificationRequest, endpoint="qualification_university", name="By university"))

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc):
        if not db.is_closed():
            db.close()

    return app


def status_filter_arg(view) -> str:
    """The URL argument of the stock 'status equals' filter (its index depends on Flask-Admin)."""
    from flask_admin.contrib.peewee.filters import FilterEqual

    for index, flt in enumerate(view._filters or ()):
        if isinstance(flt, FilterEqual) and getattr(flt.column, "name", "") == "status":
            return f"flt0_{view.get_filter_arg(index, flt)}"
    raise LookupError("no status filter")
