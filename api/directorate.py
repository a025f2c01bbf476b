"""The directorate's systems: an officer's record by national code, and the event feed
other registries follow to stay in sync."""

from __future__ import annotations

from flask import g

from models import api_feed

from .auth import api_blueprint, not_found, token_required
from .schemas import EventPage, OfficerRecord, PageArgs

bp = api_blueprint("api_directorate", __name__, "The directorate: officers and events")


@bp.route("/officers/<string:national_code>")
@token_required("officers:read")
@bp.response(200, OfficerRecord)
@bp.alt_response(404, description="No officer has this national code")
def officer(national_code):
    """An officer's record: identity, study, place, qualification and current branch."""
    found = api_feed.officer_by_national_code(g.actor, national_code[:20])
    return found if found is not None else not_found()


@bp.route("/events")
@token_required("events:read")
@bp.arguments(PageArgs, location="query")
@bp.response(200, EventPage)
def events(args):
    """Qualification, cooperation and account changes after the cursor `after`, oldest
    first. Keep the last `next` (or the last event's `id`) and ask again with it."""
    page = api_feed.events_page(g.actor, args["after"], args["limit"])
    last = page.rows[-1].id if page.rows else args["after"]
    return {"items": page.rows, "next": last, "more": page.next_after is not None}
