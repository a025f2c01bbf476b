"""The API's request and response shapes (marshmallow), from which the OpenAPI document
is generated. Only shapes and wire formats live here: what a value means is the domain's."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt

import marshmallow as ma
from marshmallow import fields, validate

from models import REVIEWED_TYPES, State

STATES = [state.value for state in State]
REQUEST_TYPES = [model.REQUEST_TYPE for model in REVIEWED_TYPES]


class UtcDateTime(fields.DateTime):
    """A timestamp in ISO 8601 with its offset: the database keeps UTC without one."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, _dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Cursor(fields.String):
    """An opaque page cursor; the client passes back the ``next`` it was given."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return base64.urlsafe_b64encode(f"c{value}".encode()).decode().rstrip("=")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ma.ValidationError("not a cursor this API gave") from None
        if not decoded.startswith("c") or not decoded[1:].isascii() or not decoded[1:].isdigit():
            raise ma.ValidationError("not a cursor this API gave")
        return int(decoded[1:][:19])


class Strict(ma.Schema):
    """Unknown fields are refused (422), never silently ignored."""

    class Meta:
        unknown = ma.RAISE


class PageArgs(Strict):
    after = Cursor(load_default=0, metadata={"description": "the `next` cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Problem(ma.Schema):
    """application/problem+json (RFC 9457)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String(metadata={"description": "a stable machine code, when the refusal has one"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


def page_of(item_schema, name: str):
    """A page schema: ``items`` and the ``next`` cursor (null on the last page)."""
    return ma.Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "next": Cursor(allow_none=True)}, name=name
    )


# ------------------------------------------------------------------ verification


class VerifyArgs(Strict):
    q = fields.String(required=True, validate=validate.Length(min=1, max=40))
    t = fields.String(load_default="", validate=validate.Length(max=40))


class Verification(ma.Schema):
    kind = fields.String(metadata={"description": "`number` or `national_code`"})
    valid = fields.Boolean()
    name = fields.String()
    field = fields.String()
    qualified_on = UtcDateTime()
    branch = fields.String()
    distributor = fields.String()


# ------------------------------------------------------------------ distributors


class Branch(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    province = fields.String(attribute="province.name")
    city = fields.String(attribute="city.name")
    district = fields.Integer(allow_none=True)
    address = fields.String()
    is_active = fields.Boolean()
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class Cooperation(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": STATES})
    branch_id = fields.Integer()
    branch = fields.String(attribute="branch.name")
    officer_name = fields.String(attribute="officer.full_name")
    officer_national_code = fields.String(attribute="officer.national_code")
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    ended_at = UtcDateTime(allow_none=True)
    decision_note = fields.String()


class BranchBody(Strict):
    name = fields.String(required=True, validate=validate.Length(max=200))
    province = fields.String(required=True, metadata={"description": "the province's Persian name"})
    city = fields.String(required=True, metadata={"description": "the city's Persian name"})
    district = fields.String(load_default="", metadata={"description": "the municipal district (Tehran: 1-22)"})
    address = fields.String(required=True, validate=validate.Length(max=500))


class BranchChange(Strict):
    """Only the fields sent change; a new city without a district clears the district."""

    name = fields.String(validate=validate.Length(max=200))
    province = fields.String(metadata={"description": "the province's Persian name"})
    city = fields.String(metadata={"description": "the city's Persian name"})
    district = fields.String()
    address = fields.String(validate=validate.Length(max=500))


class BranchClose(Strict):
    reason = fields.String(required=True, validate=validate.Length(max=2000))


class NominationBody(Strict):
    national_code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class CooperationListArgs(PageArgs):
    status = fields.String(load_default="", validate=validate.OneOf(["", *STATES]))


# ------------------------------------------------------------------ the cartable


class RequestListArgs(PageArgs):
    type = fields.String(required=True, validate=validate.OneOf(REQUEST_TYPES))
    status = fields.String(load_default="", validate=validate.OneOf(["", *STATES]))


class ReviewedRequest(ma.Schema):
    id = fields.Integer()
    type = fields.String(attribute="REQUEST_TYPE")
    status = fields.String(metadata={"enum": STATES})
    university_id = fields.Integer(allow_none=True)
    officer_name = fields.String(attribute="officer.full_name")
    officer_national_code = fields.String(attribute="officer.national_code")
    submitted_at = UtcDateTime(allow_none=True)
    last_submitted_at = UtcDateTime(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    due_on = fields.Date(allow_none=True)
    decision_note = fields.String()


class HistoryEvent(ma.Schema):
    action = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    actor_kind = fields.String()
    note = fields.String()
    at = UtcDateTime()


class RequestDetail(ReviewedRequest):
    history = fields.Function(
        lambda r: HistoryEvent(many=True).dump(list(r.history())),
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/HistoryEvent"}},
    )


# ------------------------------------------------------------------ the directorate


class OfficerRecord(ma.Schema):
    national_code = fields.String(attribute="officer.national_code")
    user_code = fields.String(attribute="officer.user_code")
    first_name = fields.String(attribute="officer.first_name")
    last_name = fields.String(attribute="officer.last_name")
    field_of_study = fields.String(attribute="officer.field_of_study.name")
    degree_level = fields.String(attribute="officer.degree_level.name")
    province = fields.String(attribute="officer.province.name")
    city = fields.String(attribute="officer.city.name")
    is_active = fields.Boolean(attribute="officer.is_active")
    qualified = fields.Boolean(attribute="officer.qualification_in_force")
    qualification_number = fields.String(attribute="officer.qualification_number", allow_none=True)
    qualified_at = UtcDateTime(attribute="officer.qualified_at", allow_none=True)
    qualification_hold = fields.String(attribute="officer.qualification_hold")
    branch_id = fields.Function(
        lambda f: f.cooperation.branch_id if f.cooperation else None, metadata={"type": ["integer", "null"]}
    )
    branch = fields.Function(lambda f: f.cooperation.branch.name if f.cooperation else "", metadata={"type": "string"})
    distributor = fields.Function(
        lambda f: f.cooperation.distributor.name if f.cooperation else "", metadata={"type": "string"}
    )


class FeedEvent(ma.Schema):
    id = Cursor(metadata={"description": "this event's cursor: pass it as `after` to read what followed"})
    at = UtcDateTime()
    type = fields.String(metadata={"description": "e.g. `qualification_approve`, `officer_deactivated`"})
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    national_code = fields.String()


BranchPage = page_of(Branch, "BranchPage")
CooperationPage = page_of(Cooperation, "CooperationPage")
RequestPage = page_of(ReviewedRequest, "RequestPage")
EventPage = ma.Schema.from_dict(
    {
        "items": fields.List(fields.Nested(FeedEvent)),
        "next": Cursor(metadata={"description": "always set: the cursor to ask with next time"}),
        "more": fields.Boolean(metadata={"description": "more events are waiting already"}),
    },
    name="EventPage",
)
