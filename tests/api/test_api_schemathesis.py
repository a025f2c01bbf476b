"""Property-based tests of the API against its own OpenAPI document (schemathesis): for
every operation the document describes, generated requests — with a directorate's token,
which may call every operation, and anonymously — never get a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _exercise(operation, headers, calls):
    """Generated requests of one operation, with the token and without; no server error."""

    @SETTINGS
    @given(case=operation.as_strategy())
    def run(case):
        for sent in (headers, {}):
            response = case.call(headers=sent)
            calls.append((operation.label, response.status_code))
            case.validate_response(response, checks=(not_a_server_error,))

    run()


def test_generated_requests_never_get_a_server_error(app, world, issue):
    headers = {"Authorization": f"Bearer {issue('directorate', rate=100000)}"}
    operations = _operations(app)
    assert len(operations) >= 10
    calls = []
    for operation in operations:
        _exercise(operation, headers, calls)
    # Every operation was called, and the token's calls got past authentication somewhere.
    assert {label for label, _status in calls} == {operation.label for operation in operations}
    assert any(status < 400 for _label, status in calls)
