"""The back office: Flask-Admin in Persian, right-to-left, scoped by role and university.

``init_admin(app)`` builds the Admin and registers every view, in menu order.
Modules: ``auth`` (dashboard home, staff login), ``base`` (what every view shares: access,
scope, capped list pages, streaming exports), ``requests`` (the university cartables and
review pages), ``views`` (accounts, notices, SMS, audit, reference data), ``filters``,
``export`` (the CSV writer), ``labels``, ``dashboard`` (its numbers), and
``flask_admin_adapter`` (every private Flask-Admin name we rely on, in one place).
"""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

import models
from web.documents import preview_pages
from web.security import csp_nonce

from . import (
    accounts,
    api_clients,
    encoded,
    fast_urls,
    fragments,
    lean_list,
    list_counts,
    page_frames,
    requests,
    views,
    webhooks,
)
from .auth import StaffIndexView


def init_admin(app) -> Admin:
    """Create the Admin with the RTL theme and register every view."""
    # The review pages show a PDF as pictures of its pages (admin/document_preview.html).
    app.jinja_env.globals["preview_pages"] = preview_pages
    admin = Admin(
        app,
        name=_l("Technical officers registry"),
        theme=Bootstrap4Theme(base_template="admin/rtl_base.html"),
        index_view=StaffIndexView(name=_l("Dashboard"), url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    # The filters' data written as JSON once per view and language (encoded.py), parts of
    # the cartable drawn once per view, role, language, query and counts (fragments.py).
    encoded.install_tojson(app)
    fragments.init_app(app)
    # ...and the cartable pages around their rows (page_frames.py).
    page_frames.init_app(app)
    # Static files' URLs, built once each (fast_urls.py).
    app.jinja_env.globals["static_url"] = fast_urls.static_url
    # The cartables' counts, kept a few seconds per process (list_counts).
    list_counts.init_app(app)
    # The menu, drawn once per view, role and language (lean_list.cached_menu).
    app.jinja_env.globals["cached_menu"] = lean_list.cached_menu
    # The cartable of each reviewed type (models.REVIEWED_TYPES), then the other views.
    for model in models.REVIEWED_TYPES:
        admin.add_view(
            requests.CARTABLE_VIEWS[model](
                model, name=_l(model.TITLE), endpoint=model.REQUEST_TYPE, category=_l("Cartable")
            )
        )
    for view, model, name, endpoint in (
        (views.OfficerView, models.Officer, _l("Officers"), "officer"),
        (views.DistributorView, models.Distributor, _l("Distributors"), "distributor"),
        (views.BranchView, models.Branch, _l("Branches"), "branch"),
        (views.StaffView, models.StaffUser, _l("Staff"), "staff"),
        (views.MessageView, models.Notice, _l("Notices"), "message"),
        (views.SmsView, models.SmsOutbox, _l("SMS outbox"), "sms"),
        (views.AuditView, models.AuditLog, _l("Audit log"), "audit"),
        (views.ProvinceView, models.Province, _l("Provinces"), "province"),
        (views.CityView, models.City, _l("Cities"), "city"),
        (views.CityDistrictView, models.CityDistrict, _l("Municipal districts"), "citydistrict"),
        (views.UniversityView, models.University, _l("Universities"), "university"),
        (views.FieldView, models.FieldOfStudy, _l("Fields of study"), "field"),
        (views.DegreeView, models.DegreeLevel, _l("Degree levels"), "degree"),
        (views.DocumentKindView, models.DocumentKind, _l("Document kinds"), "documentkind"),
        (views.SettingView, models.Setting, _l("Settings"), "setting"),
        (views.HolidayView, models.Holiday, _l("Official holidays"), "holiday"),
        (api_clients.ApiClientView, models.ApiClient, _l("API tokens"), "apiclient"),
        (webhooks.WebhookView, models.WebhookSubscription, _l("Webhooks"), "webhook"),
        (webhooks.WebhookDeliveryView, models.WebhookDelivery, _l("Webhook deliveries"), "webhookdelivery"),
    ):
        admin.add_view(view(model, name=name, endpoint=endpoint))
        if endpoint == "officer":
            # The directorate's queue of identity claims sits next to the officers.
            admin.add_menu_item(accounts.ClaimsMenuLink())
    return admin
