"""Universities' and the directorate's systems: the cartable's requests, scoped exactly as
the back office's cartable (its "all" tab over ``visible_to``)."""

from __future__ import annotations

from flask import g

from models import api_feed

from .auth import api_blueprint, not_found, token_required
from .schemas import REQUEST_TYPES, RequestDetail, RequestListArgs, RequestPage

bp = api_blueprint("api_cartable", __name__, "The cartable (universities, directorate)")


@bp.route("/requests")
@token_required("requests:read")
@bp.arguments(RequestListArgs, location="query")
@bp.response(200, RequestPage)
def requests(args):
    """The requests of one type the holder may see, optionally of one status."""
    page = api_feed.requests_page(g.actor, args["type"], args["status"], args["after"], args["limit"])
    return {"items": page.rows, "next": page.next_after}


@bp.route("/requests/<string:request_type>/<int:request_id>")
@token_required("requests:read")
@bp.response(200, RequestDetail)
@bp.alt_response(404, description="No such request, or another university's")
def request_detail(request_type, request_id):
    """One request with its history."""
    if request_type not in REQUEST_TYPES:
        return not_found()
    found = api_feed.find_request(g.actor, request_type, request_id)
    return found if found is not None else not_found()
