"""Two app hosts on one PostgreSQL and one shared UPLOAD_DIR, behind Debian's nginx in
round robin with no sticky sessions, as the README's "Production" section describes.

Everything runs as in production: APP_ENV=production, gunicorn with gunicorn.conf.py,
TLS at nginx with the repository's own example configuration (deploy/nginx/registry.conf),
TRUSTED_PROXY_COUNT=1, the Kavenegar backend pointed at a local fake gateway, and the
loop commands of deploy/systemd/ running on both hosts. Each host names itself in
``X-Served-By`` (INSTANCE_NAME), which is how the test proves which host answered.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import sys
import time

import pytest

import persian
from harness import (
    ROOT,
    AppHost,
    Balancer,
    Browser,
    csrf_token,
    flask_commands,
    loop_units,
    person_fields,
)
from helpers import MINIMAL_PDF, PASSWORD

pytestmark = pytest.mark.two_hosts

HOSTS = ("host-a", "host-b")


class Cluster:
    def __init__(self, database_url, hosts, balancer, gateway, upload_dir, loops):
        self.database_url = database_url
        self.hosts = hosts
        self.balancer = balancer
        self.gateway = gateway
        self.upload_dir = upload_dir
        self.loops = loops

    def visitor(self, ca_file) -> Browser:
        return Browser(self.balancer.url, ca_file)


@pytest.fixture(scope="module")
def cluster(new_database, processes, ports, sms_gateway, tls_certificate, tmp_path_factory):
    database = new_database("twohosts")
    shared = tmp_path_factory.mktemp("shared")
    # Production's pooled URL, as in the README.
    pooled = database.replace("postgresql://", "postgresql+pool://", 1) + "?max_connections=4&stale_timeout=300"
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "TEST_"))}
    environment.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": pooled,
            "UPLOAD_DIR": str(shared / "documents"),
            "SMS_BACKEND": "kavenegar",
            "KAVENEGAR_URL": sms_gateway.url,
            "KAVENEGAR_SENDER": "10004346",
            "SMS_DELIVER_IN_BACKGROUND": "1",
            "TRUSTED_PROXY_COUNT": "1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "WORKERS": "2",
            "THREADS": "2",
            "IDENTITY_BACKEND": "none",
            "IDENTITY_BACKEND_NONE_ACKNOWLEDGED": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    hosts = [
        AppHost(name, ports.take(), {**environment, "KAVENEGAR_API_KEY": f"key-{name}"}, processes) for name in HOSTS
    ]
    # Migrations on the first host only, as on a real deploy.
    migrated = hosts[0].run_unit("registry-migrate.service")
    assert migrated.returncode == 0 and "reference data" in migrated.stdout, migrated.stderr
    for host in hosts:
        host.start_web()
    balancer = Balancer(
        processes,
        tmp_path_factory.mktemp("nginx"),
        [h.port for h in hosts],
        ports.take(),
        ports.take(),
        tls_certificate,
    )
    # deliver-sms --loop and tick --loop (once it exists), on both hosts, as their units run them.
    loops = loop_units(flask_commands(hosts[0].env))
    for host in hosts:
        for unit in loops:
            host.start_unit(unit)
    yield Cluster(database, hosts, balancer, sms_gateway, shared / "documents", loops)
    processes.assert_running()  # nobody crashed along the way


@pytest.fixture
def visitor(cluster, tls_certificate):
    return cluster.visitor(tls_certificate[0])


def on_host(visitor: Browser, host: str, last: str) -> str:
    """Make the next request land on ``host``: round robin alternates, so if the last
    answer came from ``host`` one cheap request goes to the other first."""
    if last == host:
        last = visitor.get("/").host
        assert last != host, "nginx did not alternate"
    return last


def other(host: str) -> str:
    return HOSTS[1] if host == HOSTS[0] else HOSTS[0]


# ------------------------------------------------------------------- the test


def test_every_host_answers_and_names_itself(cluster):
    for host in cluster.hosts:
        answer = host.get("/")
        assert answer.status == 200 and answer.host == host.name


def test_the_balancer_alternates_between_the_hosts(visitor):
    served = [visitor.get("/").host for _ in range(8)]
    assert set(served) == set(HOSTS)
    assert all(a != b for a, b in itertools.pairwise(served)), served


def test_plain_http_is_sent_to_https(cluster, tls_certificate):
    import urllib.error
    import urllib.request

    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(Refuse())
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(cluster.balancer.http_url + "/officer/login", timeout=10)
    answer.value.close()
    assert answer.value.code == 301
    assert answer.value.headers["Location"].startswith("https://localhost")


def test_the_app_sees_https_and_sets_secure_host_cookies(visitor):
    answer = visitor.get("/officer/login")
    cookies = answer.headers.get_all("Set-Cookie") or []
    session = [c for c in cookies if c.startswith("__Host-session=")]
    assert session, cookies
    assert "Secure" in session[0] and "HttpOnly" in session[0]


def _reference_ids(cluster, sql_on) -> dict:
    """The option values a person picks in the registration form's selects."""

    def one(query, *params):
        rows = sql_on(cluster.database_url, query, params)
        assert rows, query
        return str(rows[0][0])

    city = one("SELECT id FROM city WHERE name = %s", "اصفهان")
    return {
        "city": city,
        "province": one("SELECT province_id FROM city WHERE id = %s", int(city)),
        "field_of_study": one("SELECT id FROM field_of_study WHERE eligible ORDER BY id LIMIT 1"),
        "degree_level": one("SELECT id FROM degree_level WHERE rank = 2"),
    }


_people = iter(range(7001, 8000))


def new_person(cluster, sql_on) -> dict:
    return person_fields(next(_people), _reference_ids(cluster, sql_on))


def _wait_for_sms(cluster, mobile: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = cluster.gateway.messages_to(mobile)
        if messages:
            return messages[-1]
        time.sleep(0.2)
    pytest.fail(f"no SMS reached {mobile}")


def register(cluster, visitor, person, sql_on) -> tuple[str, list[str]]:
    """Register through the proxy, the code confirmed on the host the form was not posted to;
    return the user code and the hosts that served the steps (form, POST, code form, code
    POST, the user code's page)."""
    page = visitor.get("/officer/register")
    assert page.status == 200, page
    steps = [page.host]
    answer = visitor.post("/officer/register", {**person, "csrf_token": csrf_token(page.text)})
    steps.append(answer.host)
    # The mobile is confirmed by a code sent by SMS, on a form of its own: each step served
    # by the host the previous one did not use.
    assert answer.status == 303, answer
    confirm = answer.headers["Location"]
    answer = visitor.get(confirm)
    steps.append(answer.host)
    assert 'name="code"' in answer.text, answer
    code = re.search(r"\b(\d{6})\b", persian.to_ascii_digits(_wait_for_sms(cluster, person["mobile"])))
    assert code, "no 6-digit code in the SMS"
    on_host(visitor, other(steps[1]), steps[-1])  # the code typed on the host that did not register
    answer = visitor.post(confirm, {"code": code.group(1), "csrf_token": csrf_token(answer.text)})
    steps.append(answer.host)
    assert answer.status == 303, answer
    answer = visitor.get(answer.headers["Location"])
    steps.append(answer.host)
    user_code = re.search(r'id="user-code"[^>]*>\s*([^<\s]+)\s*<', answer.text)
    assert user_code, answer
    return user_code.group(1), steps


def log_in(visitor, username: str, host: str) -> str:
    """Log in with the login form's POST served by ``host``; return that host."""
    page = visitor.get("/officer/login")
    on_host(visitor, host, page.host)
    answer = visitor.post(
        "/officer/login", {"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert answer.status == 302 and answer.host == host, answer
    return answer.host


def test_register_on_one_host_and_log_in_on_the_other(cluster, visitor, sql_on):
    person = new_person(cluster, sql_on)
    user_code, steps = register(cluster, visitor, person, sql_on)
    # Round robin: the form came from one host, its POST went to the other; the code was
    # confirmed (the account created) on the host that did not take the registration.
    assert steps[0] != steps[1] and steps[3] == other(steps[1]), steps
    registered_on = steps[3]
    log_in(visitor, user_code, other(registered_on))
    dashboard = visitor.get("/officer/")
    assert dashboard.status == 200 and user_code in persian.to_ascii_digits(dashboard.text)
    # The account is one row, whichever host wrote it.
    rows = sql_on(
        cluster.database_url, "SELECT user_code FROM officer WHERE national_code = %s", (person["national_code"],)
    )
    assert rows == [(user_code,)]


@pytest.fixture
def signed_in(cluster, visitor, sql_on):
    person = new_person(cluster, sql_on)
    user_code, steps = register(cluster, visitor, person, sql_on)
    last = log_in(visitor, user_code, HOSTS[0])
    visitor.person = person
    visitor.last = last
    return visitor


def test_upload_on_one_host_and_download_on_the_other(cluster, signed_in):
    visitor = signed_in
    page = visitor.get("/officer/qualification/new")
    assert page.status == 200, page
    uploader = other(page.host)
    degree = MINIMAL_PDF + b"% degree " + secrets.token_bytes(8).hex().encode() + b"\n"
    answer = visitor.post(
        "/officer/qualification/new",
        {"action": "save", "csrf_token": csrf_token(page.text)},
        files={"doc_degree": (degree, "مدرک تحصیلی.pdf", "application/pdf")},
    )
    assert answer.status == 302 and answer.host == uploader, answer
    page = visitor.get("/officer/qualification/new")
    link = re.search(r'data-document="degree">[^<]*<a href="(/officer/documents/\d+)"', page.text)
    assert link, page
    downloader = on_host(visitor, other(uploader), page.host)
    download = visitor.get(link.group(1))
    assert download.status == 200 and download.host == other(uploader) != uploader, (download, downloader)
    assert download.body == degree
    # The file is in the one shared directory, under a generated name.
    stored = [p for p in cluster.upload_dir.rglob("*.pdf") if p.read_bytes() == degree]
    assert len(stored) == 1 and "مدرک" not in stored[0].name


def test_logout_on_one_host_ends_the_session_on_the_other(signed_in):
    visitor = signed_in
    seen = {}
    for _ in range(2):
        answer = visitor.get("/officer/")
        assert answer.status == 200, answer
        seen[answer.host] = answer
    assert set(seen) == set(HOSTS)  # the session works on both
    last = on_host(visitor, HOSTS[0], answer.host)
    token = csrf_token(seen[HOSTS[1]].text)
    out = visitor.post("/officer/logout", {"csrf_token": token})
    assert out.status == 302 and out.host == HOSTS[0], out
    for _ in range(2):
        after = visitor.get("/officer/")
        assert after.status == 302 and "/officer/login" in after.headers["Location"], after
        last = after.host
    assert last in HOSTS


def _queue_messages(cluster, count: int, marker: str) -> None:
    """Queue SMS through the domain's own function, in one transaction, from outside the hosts."""
    script = (
        "import sys, models\n"
        "models.bind_url(sys.argv[1])\n"
        "with models.db.connection_context(), models.db.atomic():\n"
        "    for i in range(int(sys.argv[2])):\n"
        "        models.queue_sms('0915%07d' % i, sys.argv[3] + ' %d' % i)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, cluster.database_url, str(count), marker], cwd=ROOT, check=True, timeout=120
    )


def test_loops_on_both_hosts_deliver_each_sms_exactly_once(cluster, processes, sql_on):
    assert "registry-sms.service" in cluster.loops
    marker = "two-host-" + secrets.token_hex(4)
    count = 250  # more than one delivery pass takes (100), so both hosts' deliverers work
    _queue_messages(cluster, count, marker)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ((pending,),) = sql_on(
            cluster.database_url,
            "SELECT COUNT(*) FROM sms_outbox WHERE text LIKE %s AND status <> 'sent'",
            (marker + "%",),
        )
        if not pending:
            break
        processes.assert_running()
        time.sleep(0.5)
    assert pending == 0, f"{pending} messages still not sent"
    time.sleep(1)  # a duplicate would be a second send of a row already marked sent
    received = [(key, text) for key, _to, text in cluster.gateway.received if text.startswith(marker)]
    texts = [text for _key, text in received]
    assert sorted(texts) == sorted(f"{marker} {i}" for i in range(count))  # each once, none lost
    by_host = {key for key, _text in received}
    assert by_host == {f"key-{name}" for name in HOSTS}, by_host
    attempts = sql_on(
        cluster.database_url,
        "SELECT attempts, COUNT(*) FROM sms_outbox WHERE text LIKE %s GROUP BY attempts",
        (marker + "%",),
    )
    assert attempts == [(1, count)]


def test_both_hosts_are_ready_and_metrics_stay_off_the_public_name(cluster, visitor):
    ready = [visitor.get("/readyz") for _ in range(2)]
    assert {answer.host for answer in ready} == set(HOSTS)
    assert all(answer.status == 200 and '"ready"' in answer.text for answer in ready), ready
    assert visitor.get("/metrics").status == 404  # refused by nginx
    for host in cluster.hosts:  # each host is scraped directly, from an allowed address
        answer = host.get("/metrics")
        assert answer.status == 200 and "registry_outbox_pending" in answer.text


def test_tick_loops_on_both_hosts_run_every_job(cluster, processes, sql_on):
    """Both hosts run ``flask tick --loop``; every job of the registry runs and succeeds, with
    one lease row each (two hosts racing for a job make no second row), and /metrics on each
    host reports each job's lag as a finite number of seconds."""
    from models import tick

    assert "registry-tick.service" in cluster.loops
    jobs = sorted(tick.JOBS)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = sql_on(cluster.database_url, "SELECT name FROM tick_job WHERE last_success_at IS NOT NULL", ())
        if sorted(name for (name,) in done) == jobs:
            break
        processes.assert_running()
        time.sleep(0.5)
    rows = sql_on(cluster.database_url, "SELECT name, failures, last_error FROM tick_job ORDER BY name", ())
    assert [name for name, _f, _e in rows] == jobs, rows
    assert all(failures == 0 and not error for _name, failures, error in rows), rows
    for host in cluster.hosts:
        metrics = host.get("/metrics").text
        for job in jobs:
            line = re.search(rf'^registry_tick_job_lag_seconds\{{job="{re.escape(job)}"\}} (\S+)$', metrics, re.M)
            assert line and float(line.group(1)) < 600, (host.name, job)
