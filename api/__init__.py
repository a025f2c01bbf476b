"""The machine-to-machine API under ``/api/v1/`` (a door, like ``backoffice`` and
``publicforms``: it imports ``web`` and ``models``, never another door).

``init_api(app)`` mounts flask-smorest on the app: the OpenAPI 3.1 document at
``/api/v1/openapi.json`` is generated from the views' schemas; ``/api/v1/docs`` is that
document drawn as a page (no script). Modules: ``auth`` (bearer tokens, scopes, rates,
``Idempotency-Key``), ``schemas``, and one module of views per holder: ``public``
(verification), ``distributor``, ``cartable`` (universities and the directorate),
``directorate`` (officers, the event feed), ``docs``.
"""

from __future__ import annotations

import http

import flask_smorest
from flask_smorest.utils import prepare_response

from web.extensions import csrf
from web.problems import answer_with_problems

PREFIX = "/api/v1"
TITLE = "Technical officers registry API"
VERSION = "1.0.0"


class Api(flask_smorest.Api):
    """flask-smorest without its app-wide error handler (it would answer every page's
    errors in JSON): errors under /api/ are problem documents (``web.problems``)."""

    def _register_error_handlers(self):
        return None

    def _register_responses(self):
        """The document's error responses (each status, and ``default``) are problems."""
        from web.problems import MEDIA_TYPE

        from .schemas import Problem

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = Problem
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (application/problem+json)", "schema": Problem}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_api(app) -> Api:
    """Mount the API's blueprints and its OpenAPI document on ``app``."""
    from . import cartable, directorate, distributor, docs, public
    from .auth import BEARER
    from .schemas import HistoryEvent, Problem

    app.config.update(
        API_TITLE=TITLE,
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": "Tokens are issued by the directorate in the back office (/admin/apiclient/)."},
            "servers": [{"url": "/"}],
        },
    )
    if "Problem" not in api.spec.components.schemas:
        api.spec.components.schema("Problem", schema=Problem)
    api.spec.components.schema("HistoryEvent", schema=HistoryEvent)  # named by RequestDetail's history
    api.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})
    answer_with_problems(app, PREFIX + "/")
    for module in (public, distributor, cartable, directorate):
        # A bearer token, not a cookie, authenticates: no CSRF token to carry.
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.make_blueprint(api))
    app.extensions["api"] = api
    return api
