"""Who is calling: a bearer token authenticated to its holder's actor, with a scope and a
rate; and ``Idempotency-Key`` on POST (the first answer is kept and replayed).

Only the ``Authorization`` header authenticates: a browser's session cookie never does, so
the API needs no CSRF token and a page cannot make a logged-in browser call it."""

from __future__ import annotations

import functools
from copy import deepcopy

from flask import Response, g, make_response, request
from flask_babel import gettext
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

import models
from models import api_clients
from web.problems import MEDIA_TYPE, problem, problem_of_http_error, problem_of_refusal
from web.session import client_ip

BEARER = "bearerAuth"
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat a POST safely: the first answer to a key is replayed for 24 hours; "
    "the same key with a different request is refused (422).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint of views under /api/v1 whose errors, HTTP or domain, are problem documents."""
    bp = Blueprint(name, import_name, url_prefix="/api/v1", description=description)
    bp.register_error_handler(HTTPException, problem_of_http_error)
    bp.register_error_handler(models.DomainError, problem_of_refusal)
    return bp


def _problem_response(description: str) -> dict:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _document(view, **manual) -> None:
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    doc = view._apidoc.setdefault("manual_doc", {})
    for name, value in manual.items():
        if isinstance(value, dict):
            doc.setdefault(name, {}).update(value)
        else:
            doc[name] = value


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_required(scope: str):
    """Restrict a view to a valid, unrevoked token that has ``scope``; the view finds the
    client in ``g.api_client`` and its holder's ``Actor`` in ``g.actor``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            client = models.api_clients.authenticate(bearer_token())
            if client is None:
                return problem(
                    401,
                    gettext("The token is missing, unknown or revoked."),
                    headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
                )
            try:
                api_clients.count_request(client)
            except api_clients.ApiThrottled as error:
                return problem_of_refusal(error)
            g.api_client = client
            g.actor = client.as_actor(ip=client_ip())
            if not client.has_scope(scope):
                models.audit(g.actor, "access_denied", detail=f"{request.path[:150]} ({scope})", object_type="route")
                return problem(403, gettext("This token was not given the permission %(scope)s.", scope=scope))
            return view(*args, **kwargs)

        _document(
            wrapper,
            security=[{BEARER: []}],
            description=(
                getattr(wrapper, "_apidoc", {}).get("manual_doc", {}).get("description", "") + f"\n\nScope: `{scope}`."
            ).strip(),
            responses={
                "401": _problem_response("No valid token"),
                "403": _problem_response("The token lacks the scope"),
                "429": _problem_response("The token's rate was exceeded"),
            },
        )
        return wrapper

    return decorator


def not_found() -> Response:
    """Another holder's object, or none: the same 404, audited as a refused access."""
    models.audit(g.actor, "access_denied", detail=request.path[:200], object_type="route")
    return problem(404)


def idempotent(view):
    """Honour ``Idempotency-Key`` on a POST: the first answer to a key (success or
    refusal) is stored and replayed; a different request with the key is refused."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not (0 < len(key) <= 200 and key.isascii() and key.isprintable()):
            return problem(400, gettext("The Idempotency-Key must be 1 to 200 printable ASCII characters."))
        print_ = api_clients.fingerprint(request.method, request.path, request.get_data())
        try:
            record, stored = api_clients.reserve_key(g.api_client, key, print_)
        except models.DomainError as error:
            return problem_of_refusal(error)
        if stored is not None:
            response = Response(stored.body, status=stored.status, mimetype=_media_type(stored.status))
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except models.DomainError as error:
            response = problem_of_refusal(error)
        except HTTPException as error:
            response = problem_of_http_error(error)
        except Exception:
            api_clients.release_key(record)
            raise
        if response.status_code >= 500:
            api_clients.release_key(record)
        else:
            api_clients.complete_key(record, response.status_code, response.get_data(as_text=True))
        return response

    return wrapper


def _media_type(status: int) -> str:
    return MEDIA_TYPE if status >= 400 else "application/json"
