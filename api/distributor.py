"""A distributor's systems: its branches, nominations and cooperations, through the same
operations and visibility predicates as the distributor's pages."""

from __future__ import annotations

from flask import g

import models
from models import Branch, Cooperation, Officer, api_feed
from models import cooperation as coops

from .auth import IDEMPOTENCY_HEADER, api_blueprint, idempotent, not_found, token_required
from .schemas import Branch as BranchSchema
from .schemas import (
    BranchBody,
    BranchChange,
    BranchClose,
    BranchPage,
    CooperationListArgs,
    CooperationPage,
    NominationBody,
    PageArgs,
)
from .schemas import Cooperation as CooperationSchema

bp = api_blueprint("api_distributor", __name__, "A distributor's branches and cooperations")


def _cooperation(cooperation_id: int):
    """The cooperation as the distributor sees it, with its officer and branch."""
    query = Cooperation.select(Cooperation, Officer, Branch).join(Officer).switch(Cooperation).join(Branch)
    return Cooperation.find(g.actor, cooperation_id, query)


@bp.route("/branches")
@token_required("branches:read")
@bp.arguments(PageArgs, location="query")
@bp.response(200, BranchPage)
def branches(args):
    """The distributor's branches, a page at a time."""
    page = api_feed.branches_page(g.actor, args["after"], args["limit"])
    return {"items": page.rows, "next": page.next_after}


@bp.route("/branches", methods=["POST"], parameters=[IDEMPOTENCY_HEADER])
@token_required("branches:write")
@idempotent
@bp.arguments(BranchBody)
@bp.response(201, BranchSchema)
@bp.alt_response(422, description="A field is not valid (the same rules as the branch form)")
def create_branch(body):
    """Define a branch (places by their Persian names; in Tehran, its municipal district)."""
    province, city = _places(body["province"], body["city"])
    branch = coops.create_branch(g.actor, body["name"], province, city, body["address"], district=body["district"])
    return api_feed.find_branch(g.actor, branch.id)


def _places(province_name: str, city_name: str | None):
    """The province and city rows named in Persian (None for a name that matches none)."""
    province = models.find_by_persian_name(models.Province, province_name)
    if city_name is None or province is None:
        return province, None
    return province, models.find_by_persian_name(models.City, city_name, province=province.id)


@bp.route("/branches/<int:branch_id>", methods=["PATCH"], parameters=[IDEMPOTENCY_HEADER])
@token_required("branches:write")
@idempotent
@bp.arguments(BranchChange)
@bp.response(200, BranchSchema)
@bp.alt_response(404, description="Not one of the distributor's branches")
@bp.alt_response(409, description="Closed, or a university is reviewing a nomination for it")
def edit_branch(body, branch_id):
    """Change a branch's name, address or place (the branch page's rules)."""
    branch = api_feed.find_branch(g.actor, branch_id)
    if branch is None:
        return not_found()
    fields = dict(body)
    if "province" in fields or "city" in fields:
        fields["province"], fields["city"] = _places(
            fields.get("province", branch.province.name), fields.get("city", branch.city.name)
        )
    models.edit_branch(branch, g.actor, **fields)
    return api_feed.find_branch(g.actor, branch_id)


@bp.route("/branches/<int:branch_id>/close", methods=["POST"], parameters=[IDEMPOTENCY_HEADER])
@token_required("branches:write")
@idempotent
@bp.arguments(BranchClose)
@bp.response(200, BranchSchema)
@bp.alt_response(404, description="Not one of the distributor's branches")
@bp.alt_response(409, description="Closed already")
def close_branch(body, branch_id):
    """Close a branch for good: its open nomination is withdrawn, its officer released."""
    branch = api_feed.find_branch(g.actor, branch_id)
    if branch is None:
        return not_found()
    models.close_branch(branch, g.actor, body["reason"])
    return api_feed.find_branch(g.actor, branch_id)


@bp.route("/branches/<int:branch_id>/nominations", methods=["POST"], parameters=[IDEMPOTENCY_HEADER])
@token_required("nominations:write")
@idempotent
@bp.arguments(NominationBody)
@bp.response(201, CooperationSchema)
@bp.alt_response(404, description="Not one of the distributor's branches")
@bp.alt_response(422, description="The officer cannot be nominated (the same answer whatever the reason)")
def nominate(body, branch_id):
    """Nominate an officer for the branch by national code; the officer must accept."""
    branch = api_feed.find_branch(g.actor, branch_id)
    if branch is None:
        return not_found()
    cooperation = coops.nominate(branch, g.actor, body["national_code"])
    return _cooperation(cooperation.id)


@bp.route("/cooperations")
@token_required("cooperations:read")
@bp.arguments(CooperationListArgs, location="query")
@bp.response(200, CooperationPage)
def cooperations(args):
    """The distributor's cooperations (nominations, active, ended), a page at a time."""
    page = api_feed.cooperations_page(g.actor, args["after"], args["limit"], args["status"])
    return {"items": page.rows, "next": page.next_after}


@bp.route("/cooperations/<int:cooperation_id>/withdraw", methods=["POST"], parameters=[IDEMPOTENCY_HEADER])
@token_required("cooperations:write")
@idempotent
@bp.response(200, CooperationSchema)
@bp.alt_response(404, description="Not one of the distributor's cooperations")
@bp.alt_response(409, description="Decided meanwhile: nothing to withdraw")
def withdraw(cooperation_id):
    """Withdraw a nomination still waiting on the officer or the university."""
    cooperation = Cooperation.find(g.actor, cooperation_id)
    if cooperation is None:
        return not_found()
    coops.withdraw(cooperation, g.actor)
    return _cooperation(cooperation.id)
