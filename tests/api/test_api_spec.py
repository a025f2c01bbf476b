"""The OpenAPI document describes every route under /api/v1, holds together (every
reference resolves, every path parameter is declared), and the scope matrix: every kind of
token against every endpoint. Errors anywhere under /api/ are problem documents; the
pages' errors stay HTML."""

from __future__ import annotations

import re

import pytest

import models
from models import cooperation as coops

PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}  # the operations of a path item

# (method, path template, scope): every endpoint that needs a token.
ENDPOINTS = (
    ("GET", "/api/v1/branches", "branches:read"),
    ("POST", "/api/v1/branches", "branches:write"),
    ("POST", "/api/v1/branches/{branch_id}/nominations", "nominations:write"),
    ("GET", "/api/v1/cooperations", "cooperations:read"),
    ("POST", "/api/v1/cooperations/{cooperation_id}/withdraw", "cooperations:write"),
    ("GET", "/api/v1/requests", "requests:read"),
    ("GET", "/api/v1/requests/{request_type}/{request_id}", "requests:read"),
    ("GET", "/api/v1/officers/{national_code}", "officers:read"),
    ("GET", "/api/v1/events", "events:read"),
    ("PATCH", "/api/v1/branches/{branch_id}", "branches:write"),
    ("POST", "/api/v1/branches/{branch_id}/close", "branches:write"),
)
# What each holder gets from each endpoint above, in order.
MATRIX = {
    "distributor": (200, 201, 201, 200, 200, 403, 403, 403, 403, 200, 200),
    "university": (403, 403, 403, 403, 403, 200, 200, 403, 403, 403, 403),
    "directorate": (403, 403, 403, 403, 403, 200, 200, 200, 200, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
}


NEW_BRANCH = {
    "name": "شعبه سوم",
    "province": "تهران",
    "city": "تهران",
    "district": "17",
    "address": "تهران، خیابان سوم، پلاک ۳",
}


@pytest.fixture
def spec(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def test_the_document_is_openapi_3_1_and_holds_together(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    # The errors the document names are problem documents.
    for name, response in spec["components"]["responses"].items():
        assert list(response["content"]) == [PROBLEM], name
    schemas = spec["components"]["schemas"]
    responses = spec["components"].get("responses", {})
    text = str(spec)
    for ref in set(re.findall(r"'\$ref': '([^']+)'", text)):
        kind, _, name = ref.removeprefix("#/components/").partition("/")
        assert name in {"schemas": schemas, "responses": responses}[kind], ref
    for path, item in spec["paths"].items():
        assert path.startswith("/api/v1/"), path
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared_here = declared | {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert set(re.findall(r"{(\w+)}", path)) == declared_here, (method, path)
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            assert operation.get("summary"), (method, path)


def test_every_route_under_api_v1_is_in_the_document(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith(("api-docs.", "api_docs.")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {
        (method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS
    }
    assert routes and routes == documented
    # Every endpoint but verification needs a token and names its scope.
    secured = {(m, p) for m, p, _ in ENDPOINTS}
    assert documented - secured == {("GET", "/api/v1/verify")}
    for method, path, scope in ENDPOINTS:
        operation = spec["paths"][path][method.lower()]
        assert operation["security"] == [{"bearerAuth": []}] and scope in operation["description"]
    assert "Idempotency-Key" in {
        p["name"] for p in spec["paths"]["/api/v1/branches/{branch_id}/nominations"]["parameters"]
    }


@pytest.mark.parametrize("holder", sorted(MATRIX))
def test_the_scope_matrix(holder, world, tokens, call, make_officer, dbc):
    token = {"distributor": "pakhsh", "university": "tehran", "directorate": "directorate"}.get(holder)
    tehran = models.City.get(models.City.name == "تهران")
    second = coops.create_branch(
        world.pakhsh.as_actor(), "شعبه دوم", tehran.province, tehran, "تهران، خیابان دوم، پلاک ۲", district="17"
    )
    pending = coops.nominate(world.branch, world.pakhsh.as_actor(), make_officer(qualified=True).national_code)
    values = {
        "branch_id": second.id,
        "cooperation_id": pending.id,
        "request_type": "qualification",
        "request_id": world.tehran_request.id,
        "national_code": world.free_officer.national_code,
    }
    extra = {"/api/v1/requests": "?type=qualification"}
    bodies = {
        "/api/v1/branches": NEW_BRANCH,
        "/api/v1/branches/{branch_id}/nominations": {"national_code": world.free_officer.national_code},
        "/api/v1/branches/{branch_id}": {"name": "شعبه دوم تازه"},
        "/api/v1/branches/{branch_id}/close": {"reason": "پایان قرارداد اجاره"},
    }
    got = []
    for method, template, _ in ENDPOINTS:
        path = template.format(**values) + extra.get(template, "")
        body = {"json": bodies[template]} if method in ("POST", "PATCH") and template in bodies else {}
        answer = call(method, path, tokens[token] if token else None, **body)
        assert answer.status_code < 300 or answer.mimetype == PROBLEM, (method, path)
        got.append(answer.status_code)
    assert tuple(got) == MATRIX[holder]


def test_errors_under_the_api_are_problems_and_the_pages_stay_html(client, call, tokens):
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.mimetype == PROBLEM
    assert unknown.get_json()["status"] == 404 and unknown.get_json()["title"]
    wrong_method = call("DELETE", "/api/v1/branches", tokens["pakhsh"])
    assert wrong_method.status_code == 405 and wrong_method.mimetype == PROBLEM
    not_json = call("POST", "/api/v1/branches/1/nominations", tokens["pakhsh"], data="x", content_type="text/plain")
    assert not_json.status_code in (415, 422) and not_json.mimetype == PROBLEM
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    # flask-smorest's app-wide JSON handler is not installed: a page's 405 stays HTML too.
    assert client.delete("/verify").mimetype == "text/html"


def test_the_docs_page_lists_every_operation_from_the_document(client, spec):
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    for path, item in spec["paths"].items():
        for method in item:
            if method in METHODS:
                assert f'data-operation="{method.upper()} {path}"' in page
    # Everything it loads is ours (no CDN), and it runs under the site's policy.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert 'lang="fa" dir="rtl"' in page
