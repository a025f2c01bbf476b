"""``/api/v1/docs``: the OpenAPI document drawn as a page of the site (its stylesheet,
Persian and right-to-left like every page; no script, so nothing from a CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict) -> list[dict]:
    """Every operation of the document, in path order: method, path, summary, description,
    scope requirement, parameters, request body schema and responses."""
    found = []
    for path, item in sorted(spec.get("paths", {}).items()):
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "secured": bool(operation.get("security")),
                    "parameters": shared + operation.get("parameters", []),
                    "body": body.get("$ref", "").rpartition("/")[2],
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    return found


def make_blueprint(api) -> Blueprint:
    bp = Blueprint("api_docs", __name__, url_prefix="/api/v1", template_folder="templates")

    @bp.route("/docs")
    def docs():
        spec = api.spec.to_dict()
        return render_template(
            "api/docs.html",
            spec=spec,
            operations=operations(spec),
            schemas=sorted(spec.get("components", {}).get("schemas", {}).items()),
        )

    return bp
