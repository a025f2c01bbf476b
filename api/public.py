"""Anyone: public verification, the same answer and the same limits as the /verify page."""

from __future__ import annotations

from flask_babel import gettext

import models
from web.extensions import verify_limit
from web.problems import problem

from .auth import api_blueprint
from .schemas import Verification, VerifyArgs

bp = api_blueprint("api_public", __name__, "Public verification (no token)")


@bp.route("/verify")
@verify_limit
@bp.arguments(VerifyArgs, location="query")
@bp.response(200, Verification)
@bp.alt_response(429, description="Too many checks from this address, or about this number")
def verify(args):
    """Check a qualification.

    `q` = a qualification number: valid or not, name, field, current branch;
    `q` = a national code: qualified or not, nothing more (`t` is the certificate's QR token)."""
    query = models.verification.clean_query(args["q"])
    try:
        return models.verification.lookup(query, token=args["t"])
    except models.verification.VerificationThrottled as error:
        return problem(429, gettext(error.msgid), code="throttled")
