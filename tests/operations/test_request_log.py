"""The request id (trusted from the proxy only) and the request log line; the scrubbing of
log text. The whole-system check, on every log of a running deployment, is
test_log_privacy.py."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

import json_logging

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def proxied_app(app):
    """The same app as if behind one trusted proxy (TRUSTED_PROXY_COUNT=1)."""
    app.config["TRUSTED_PROXY_COUNT"] = 1
    return app


def test_every_answer_carries_a_fresh_request_id(client):
    first, second = client.get("/"), client.get("/")
    assert HEX_ID.match(first.headers["X-Request-Id"]) and HEX_ID.match(second.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_without_a_trusted_proxy_an_incoming_id_is_ignored(client):
    answer = client.get("/", headers={"X-Request-Id": "chosen-by-the-client-123"})
    assert HEX_ID.match(answer.headers["X-Request-Id"])


def test_behind_the_trusted_proxy_its_id_is_kept(proxied_app):
    answer = proxied_app.test_client().get("/", headers={"X-Request-Id": "0123456789abcdef0123456789abcdef"})
    assert answer.headers["X-Request-Id"] == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("offered", ["short", "has space inside it", "x" * 129, "semi;colon-id-1234", "ÿ" * 10])
def test_a_malformed_id_is_replaced_even_from_the_proxy(proxied_app, offered):
    answer = proxied_app.test_client().get("/", headers={"X-Request-Id": offered})
    assert HEX_ID.match(answer.headers["X-Request-Id"])


def test_one_line_per_request_naming_the_route_not_the_path(client, caplog):
    caplog.set_level(logging.INFO, logger="registry.request")
    answer = client.get("/verify?q=0084575948")
    lines = [r for r in caplog.records if r.name == "registry.request"]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["request_id"] == answer.headers["X-Request-Id"]
    assert (fields["endpoint"], fields["route"], fields["method"], fields["status"]) == (
        "public.verify",
        "/verify",
        "GET",
        answer.status_code,
    )
    assert "0084575948" not in json.dumps(fields) and "q=" not in json.dumps(fields)


def test_a_signed_in_request_names_the_account_by_kind_and_id(officer_client, caplog):
    caplog.set_level(logging.INFO, logger="registry.request")
    officer_client.get("/officer/")
    (line,) = [r for r in caplog.records if r.name == "registry.request"]
    assert line.fields["account"] == f"officer:{officer_client.officer.id}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("national code 0084575948 refused", "national code [number] refused"),
        ("mobile 09121234567", "mobile [number]"),
        ("mobile +989121234567", "mobile [number]"),
        ("code ۱۲۳۴۵۶ sent", "code [number] sent"),
        ("code ١٢٣٤٥٦ sent", "code [number] sent"),
        ("GET /officer/%DB%B0%DB%B0%DB%B8%DB%B4%DB%B5%DB%B7 HTTP/1.1", "GET /officer/[number] HTTP/1.1"),
        ("GET /officer/%30%30%38%34%35%37 HTTP/1.1", "GET /officer/[number] HTTP/1.1"),
        ("GET /verify?q=0084575948 HTTP/1.1", "GET /verify?[query] HTTP/1.1"),
        ("/officer/password/reset/confirm?username=x", "/officer/password/reset/confirm?[query]"),
        ("Key (national_code)=(0084575948) already exists.", "Key (national_code)=([number]) already exists."),
        # Left alone: short numbers, digits inside a word (ids, hashes), a question in prose.
        ("request 42 took 1234 ms", "request 42 took 1234 ms"),
        ("id b09fdf7cd4edd1bafc84ec20ea95c9a2 and 1a2345678b", "id b09fdf7cd4edd1bafc84ec20ea95c9a2 and 1a2345678b"),
        ("why? because", "why? because"),
    ],
)
def test_log_text_is_scrubbed(text, expected):
    assert json_logging.redact(text) == expected


def test_a_json_line_scrubs_message_fields_and_traceback():
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    json_logging.configure("json", "INFO", stream=stream)
    try:
        logger = logging.getLogger("registry.test")
        try:
            raise ValueError("duplicate national code 0084575948")
        except ValueError:
            logger.exception("saving 09121234567 failed", extra={"fields": {"path": "/verify?q=1", "status": 500}})
    finally:
        for handler in [h for h in root.handlers if getattr(h, json_logging.HANDLER_MARK, False)]:
            root.removeHandler(handler)
        root.setLevel(level)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["msg"] == "saving [number] failed" and entry["level"] == "error"
    assert entry["logger"] == "registry.test" and entry["status"] == 500 and entry["path"] == "/verify?[query]"
    assert "ValueError: duplicate national code [number]" in entry["exc"]
