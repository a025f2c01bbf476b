"""The access matrix's cells for the API under /api/v1. A browser's session is no API
credential: every role, logged in or not, gets what an anonymous caller gets (401 where a
token is needed), and the public parts (verification, the OpenAPI document, its page)
answer everyone."""

from __future__ import annotations

import re

from security_expect import Cell, everyone

API_ENDPOINT_PREFIXES = ("api_", "api-docs.")
PUBLIC = {
    "api_public.verify": "/api/v1/verify?q=1405-000000001",
    "api-docs.openapi_json": "/api/v1/openapi.json",
    "api_docs.docs": "/api/v1/docs",
}


def is_api(rule) -> bool:
    return rule.endpoint.startswith(API_ENDPOINT_PREFIXES)


def api_cells(world, rule) -> list:
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    if rule.endpoint in PUBLIC:
        assert methods == ["GET"], rule
        return [Cell(rule.endpoint, "GET", PUBLIC[rule.endpoint], everyone(200))]
    values = {
        "branch_id": world["b1"],
        "cooperation_id": world["coop_q"],
        "request_type": "qualification",
        "request_id": world["qa"],
        "national_code": "0499370899",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
    if rule.rule == "/api/v1/requests":
        url += "?type=qualification"
    return [Cell(rule.endpoint, method, url, everyone(401), body={"national_code": "0499370899"}) for method in methods]
