"""Fixtures for the operations tests: real processes (gunicorn hosts, nginx, the loop
commands, ``flask backup``) on PostgreSQL databases of their own.

Ports: free ones chosen by the kernel, or, when ``OPS_TEST_PORTS=first-last`` is set, free
ones from that range (for machines where engineers share the port space).
"""

from __future__ import annotations

import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest

from harness import FakeKavenegar, Ports, Processes, _admin, drop_database, sql


@pytest.fixture(scope="module")
def processes(tmp_path_factory, request):
    running = Processes(tmp_path_factory.mktemp("logs"))
    yield running
    running.stop_all()
    if getattr(request.node, "ops_failed", False):
        for name in running.started:
            print(f"----- {name} (last lines of {running.log_path(name)})\n{running.tail(name)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember a failure on the module, so ``processes`` prints the servers' logs."""
    outcome = yield
    if outcome.get_result().failed:
        item.getparent(pytest.Module).ops_failed = True


@pytest.fixture(scope="module")
def ports():
    """Per module: the previous module's servers are stopped by then, so its ports are free."""
    return Ports(os.environ.get("OPS_TEST_PORTS", ""))


@pytest.fixture(scope="session")
def postgres_url():
    """The test server's URL (TEST_DATABASE_URL); these tests need PostgreSQL."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL: TEST_DATABASE_URL (make test-postgres sets it)")
    return url


@pytest.fixture(scope="module")
def new_database(postgres_url):
    """Make empty PostgreSQL databases next to the test database; all dropped at the end."""
    made = []
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    parts = urlsplit(postgres_url)

    def make(purpose: str) -> str:
        name = f"{parts.path.lstrip('/')}_{worker}_{purpose}"
        admin = _admin(postgres_url)
        with admin.cursor() as cursor:
            drop_database(cursor, name)
            cursor.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        made.append(name)
        return urlunsplit(parts._replace(path="/" + name))

    yield make
    admin = _admin(postgres_url)
    with admin.cursor() as cursor:
        for name in made:
            drop_database(cursor, name)
    admin.close()


@pytest.fixture(scope="module")
def fresh_database(request, tmp_path_factory):
    """Make empty databases of the suite's kind: PostgreSQL databases (see ``new_database``)
    when TEST_DATABASE_URL names PostgreSQL, otherwise new SQLite files."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        return request.getfixturevalue("new_database")
    folder = tmp_path_factory.mktemp("databases")

    def make(purpose: str) -> str:
        # Empty each time, as the PostgreSQL ones are (dropped and made anew).
        for leftover in folder.glob(purpose + ".db*"):
            leftover.unlink()
        return f"sqlite:///{folder / (purpose + '.db')}"

    return make


@pytest.fixture(scope="session")
def sql_on():
    return sql


@pytest.fixture(scope="module")
def sms_gateway(ports):
    gateway = FakeKavenegar(ports.take()).start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def tls_certificate(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1: (certificate, key) paths."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
