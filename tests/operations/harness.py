"""The parts the operations tests assemble a deployment from: processes that are always
stopped, free ports, app hosts (gunicorn and the loop commands), nginx running the
repository's example configuration, a fake SMS gateway and a browser-like HTTPS client.

Every process goes through :class:`Processes`: its own process group, stopped (SIGTERM,
then SIGKILL) by the fixture that owns it whatever the outcome, and told by the kernel to
stop if the test process itself dies (``PR_SET_PDEATHSIG``), so nothing outlives a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers import PASSWORD, national_code

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NGINX = Path("/usr/sbin/nginx")
PR_SET_PDEATHSIG = 1


# ------------------------------------------------------------------ processes


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """The processes one test (or module) started, each logging to a file of its own."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list, env: dict) -> subprocess.Popen:
        assert name not in self.started, name
        with open(self.log_path(name), "ab") as log:
            process = subprocess.Popen(
                [str(a) for a in argv],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_stop_with_parent,
            )
        self.started[name] = process
        return process

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def tail(self, name: str, lines: int = 30) -> str:
        return "\n".join(self.log(name).splitlines()[-lines:])

    def assert_running(self) -> None:
        for name, process in self.started.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def stop(self, name: str, timeout: float = 20) -> int:
        """SIGTERM the process group, wait, SIGKILL what is left; return the exit status."""
        process = self.started[name]
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self._reap_group(process.pid)
        return process.returncode

    @staticmethod
    def _reap_group(pgid: int) -> None:
        """A worker whose master died first would keep the group alive: kill it too."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.started)):
            self.stop(name)


# ---------------------------------------------------------------------- ports


# Where the tests' PostgreSQL clusters listen (PG_TEST_PORT, 54329 by default, and the
# engineers' 544xx): a port chosen by the kernel there could keep a cluster from starting.
CLUSTER_PORTS = range(54300, 54600)


class Ports:
    """Free TCP ports on 127.0.0.1: from OPS_TEST_PORTS (``first-last``) when it is set,
    otherwise chosen by the kernel, outside ``CLUSTER_PORTS``."""

    def __init__(self, spec: str):
        self.taken: set[int] = set()
        self.range = None
        if spec:
            first, last = (int(part) for part in spec.split("-"))
            self.range = self.share_of_this_worker(range(first, last + 1))

    @staticmethod
    def share_of_this_worker(ports: range) -> range:
        """Under pytest-xdist each worker takes its own slice of the range, so two workers
        never both find one port free and start servers on it."""
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        if not worker.startswith("gw") or count < 2:
            return ports
        size = len(ports) // count
        start = ports.start + int(worker[2:]) * size
        return range(start, start + size)

    @staticmethod
    def _free(port: int) -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    def take(self) -> int:
        if self.range is None:
            while True:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    port = probe.getsockname()[1]
                if port not in self.taken and port not in CLUSTER_PORTS:
                    self.taken.add(port)
                    return port
        for port in self.range:
            if port not in self.taken and self._free(port):
                self.taken.add(port)
                return port
        raise RuntimeError(f"no free port left in OPS_TEST_PORTS={self.range.start}-{self.range.stop - 1}")


def wait_for_port(port: int, process: subprocess.Popen, what: str, processes: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    name = next((n for n, p in processes.started.items() if p is process), what)
    pytest.fail(f"{what} is not listening on {port}:\n{processes.tail(name)}")


# ------------------------------------------------------------------ databases


def _admin(url: str):
    import psycopg2

    parts = urlsplit(url)
    connection = psycopg2.connect(
        dbname="postgres", user=parts.username, password=parts.password, host=parts.hostname, port=parts.port or 5432
    )
    connection.autocommit = True
    return connection


def drop_database(cursor, name: str, attempts: int = 40) -> None:
    """``DROP DATABASE … WITH (FORCE)``, retried: the suite's role may end its own sessions but
    not an autovacuum worker's (no role: PostgreSQL refuses with InsufficientPrivilege), and
    such a worker is done within moments."""
    import psycopg2.errors

    for attempt in range(attempts):
        try:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ObjectInUse):
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


def sql(url: str, query: str, params=()) -> list:
    """Run one statement on ``url`` and return its rows (for checks from outside the app)."""
    import psycopg2

    parts = urlsplit(url)
    connection = psycopg2.connect(
        dbname=parts.path.lstrip("/"),
        user=parts.username,
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


# ------------------------------------------------------------- outside edges


class FakeKavenegar:
    """The SMS gateway (Kavenegar's send API), recording who sent what.

    Each app host gets its own API key, so the key in the path says which host sent.
    A short delay per message keeps several deliverers busy at the same time.
    """

    PATH = re.compile(r"^/v1/([^/]+)/sms/send\.json$")

    def __init__(self, port: int, delay: float = 0.01):
        from pytest_httpserver import HTTPServer

        self.server = HTTPServer(host="127.0.0.1", port=port)
        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, str]] = []  # (api key, receptor, message)
        self.server.expect_request(self.PATH, method="POST").respond_with_handler(self._send)

    def _send(self, request):
        import json

        from werkzeug.wrappers import Response

        time.sleep(self.delay)
        key = self.PATH.match(request.path).group(1)
        with self.lock:
            self.received.append((key, request.form["receptor"], request.form["message"]))
            number = len(self.received)
        body = {
            "return": {"status": 200, "message": "تایید شد"},
            "entries": [{"messageid": 1000 + number, "status": 1}],
        }
        return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def messages_to(self, mobile: str) -> list[str]:
        with self.lock:
            return [text for _key, to, text in self.received if to == mobile]

    def start(self):
        self.server.start()
        return self

    def stop(self):
        if self.server.is_running():
            self.server.clear()
            self.server.stop()


# ------------------------------------------------------------- HTTP clients


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Answer:
    """One HTTP response: status, headers, body, and the host that served it."""

    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def host(self) -> str:
        return self.headers.get("X-Served-By", "")

    def __repr__(self):
        return f"<Answer {self.status} from {self.host or '?'}: {self.text[:300]!r}>"


class Browser:
    """A cookie-keeping HTTPS client, like one browser tab: no redirects followed, the
    Referer sent as a browser does (Flask-WTF checks it on HTTPS)."""

    def __init__(self, base_url: str, ca_file: Path):
        self.base_url = base_url.rstrip("/")
        self.ca_file = ca_file
        self.cookies = CookieJar()
        context = ssl.create_default_context(cafile=str(ca_file))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPSHandler(context=context),
            _NoRedirects(),
        )
        self.referer = self.base_url + "/"
        self.answers: list[Answer] = []  # every response, in order

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
        url = path if path.startswith("http") else self.base_url + path
        sent = {"Referer": self.referer, "User-Agent": "two-host-test", **(headers or {})}
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with self.opener.open(request, timeout=30) as response:
                answer = Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:  # its socket, closed now rather than by the garbage collector
                answer = Answer(error.code, error.headers, error.read())
        if method == "GET" and answer.status == 200:
            self.referer = url
        self.answers.append(answer)
        return answer

    def get(self, path: str, **headers) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict, files: dict | None = None) -> Answer:
        if files:
            from werkzeug.datastructures import FileStorage
            from werkzeug.test import encode_multipart

            values = dict(fields)
            for name, (content, filename, content_type) in files.items():
                import io

                values[name] = FileStorage(io.BytesIO(content), filename=filename, content_type=content_type)
            boundary, body = encode_multipart(values)
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        return self.request("POST", path, data=body, headers={"Content-Type": content_type})


def hidden_fields(html: str) -> dict:
    """The hidden inputs of a page's forms (what a browser posts back untouched)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag:
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
    return fields


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# ---------------------------------------------------------------- app hosts


def flask_commands(env: dict) -> set[str]:
    """The commands this checkout's ``flask --app app`` knows."""
    listing = subprocess.run(
        [BIN / "flask", "--app", "app", "--help"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    commands = listing.split("Commands:", 1)[-1]
    return {line.split()[0] for line in commands.splitlines() if line.strip()}


UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/srv/registry/app"  # where the units expect the checkout


def unit_command(unit: str) -> list[str]:
    """The ``ExecStart`` of ``deploy/systemd/<unit>``, for this checkout."""
    line = re.search(r"^ExecStart=(.+)$", (UNITS / unit).read_text(), re.M)
    assert line, f"{unit} has no ExecStart"
    return [
        arg.replace(f"{INSTALLED_AT}/.venv/bin", str(BIN)).replace(INSTALLED_AT, str(ROOT))
        for arg in shlex.split(line.group(1))
    ]


def loop_units(commands: set[str]) -> list[str]:
    """The always-running units every app host runs besides gunicorn (``deliver-sms --loop``,
    ``tick --loop``, ...), those whose command this checkout has."""
    units = sorted(
        path.name for path in UNITS.glob("*.service") if re.search(r"^Restart=always$", path.read_text(), re.M)
    )
    return [unit for unit in units if unit_command(unit)[3] in commands]


class AppHost:
    """One application host: the commands of the units in deploy/systemd (gunicorn with
    the project's gunicorn.conf.py, and any number of long-running loops), all with one
    environment, as systemd runs them from /etc/registry/registry.env."""

    def __init__(self, name: str, port: int, env: dict, processes: Processes):
        self.name = name
        self.port = port
        self.env = {**env, "INSTANCE_NAME": name, "HOST": "127.0.0.1", "PORT": str(port)}
        self.processes = processes

    def flask(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "app", *map(str, args)],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def run_unit(self, unit: str) -> subprocess.CompletedProcess:
        """Run a one-shot unit's command (registry-migrate) to its end."""
        return subprocess.run(unit_command(unit), env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300)

    def start_unit(self, unit: str) -> subprocess.Popen:
        return self.processes.start(f"{self.name}-{unit.removesuffix('.service')}", unit_command(unit), self.env)

    def start_web(self) -> None:
        process = self.start_unit("registry-web.service")
        wait_for_port(self.port, process, f"gunicorn of {self.name}", self.processes)

    def get(self, path: str) -> Answer:
        """A request straight to this host, past the proxy."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())


def render_nginx_example(
    example: str, upstreams: list[int], http_port: int, https_port: int, certificate: tuple[Path, Path], log_dir: Path
) -> str:
    """deploy/nginx/registry.conf with this machine's addresses, ports, certificate and logs."""
    cert, key = certificate
    servers = iter(upstreams)
    replacements = [
        (r"server 10\.0\.0\.\d+:8000", lambda m: f"server 127.0.0.1:{next(servers)}"),
        (r"listen \[::\]:\d+[^;]*;\n", ""),  # the test machine may have no IPv6
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ", f"listen 127.0.0.1:{https_port} "),
        (r"server_name registry\.example\.ir;", "server_name localhost;"),
        (r"/etc/letsencrypt/live/registry\.example\.ir/fullchain\.pem", str(cert)),
        (r"/etc/letsencrypt/live/registry\.example\.ir/privkey\.pem", str(key)),
        (r"/var/log/nginx/registry\.access\.log", str(log_dir / "nginx-access.log")),
    ]
    for pattern, replacement in replacements:
        example, count = re.subn(pattern, replacement, example)
        assert count, f"the nginx example no longer has {pattern!r}: update the test's rendering"
    return example


def nginx_main_config(site: Path, folder: Path) -> str:
    """The top of an nginx configuration that keeps every file inside ``folder``."""
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'nginx-error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    include {site};\n}}\n"
    )


class Balancer:
    """Debian's nginx running the repository's example configuration."""

    def __init__(
        self,
        processes: Processes,
        folder: Path,
        upstreams: list[int],
        http_port: int,
        https_port: int,
        certificate: tuple[Path, Path],
    ):
        if not NGINX.exists():
            pytest.fail("nginx is not installed: run tools/system-deps.sh (make test does)")
        folder.mkdir(parents=True, exist_ok=True)
        site = folder / "registry.conf"
        site.write_text(
            render_nginx_example(
                (ROOT / "deploy" / "nginx" / "registry.conf").read_text(),
                upstreams,
                http_port,
                https_port,
                certificate,
                folder,
            )
        )
        main = folder / "nginx.conf"
        main.write_text(nginx_main_config(site, folder))
        argv = [NGINX, "-p", folder, "-c", main, "-e", folder / "nginx-error.log"]
        checked = subprocess.run([*map(str, argv), "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        process = processes.start("nginx", argv, dict(os.environ))
        wait_for_port(https_port, process, "nginx", processes)
        self.url = f"https://localhost:{https_port}"
        self.http_url = f"http://localhost:{http_port}"
        self.access_log = folder / "nginx-access.log"


def run_flask(database_url: str, upload_dir: Path, *args) -> subprocess.CompletedProcess:
    """``flask --app app ARGS`` as an operator runs it on a production host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEST_"))}
    env.update(
        APP_ENV="production",
        DATABASE_URL=database_url,
        UPLOAD_DIR=str(upload_dir),
        SECRET_KEY=secrets.token_hex(32),  # production asks for 32 random bytes
        IDENTITY_BACKEND_NONE_ACKNOWLEDGED="1",
        SMS_BACKEND_LOG_ACKNOWLEDGED="1",
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [str(BIN / "flask"), "--app", "app", *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def person_fields(number: int, choices: dict) -> dict:
    """A registration form filled for a made-up person of Isfahan; ``choices`` are the option
    values of the province, city, field of study and degree selects."""
    return {
        "national_code": national_code(number * 7919),
        "birth_date": "1370/05/21",
        "first_name": "مریم",
        "last_name": "احمدی",
        "father_name": "علی",
        "gender": "female",
        "id_card_number": "1234",
        "mobile": f"0913{number % 10**7:07d}",
        "phone": "",
        "email": "",
        "address": "اصفهان، خیابان چهارباغ، کوچه یکم، پلاک ۱۰",
        "postal_code": "8134567890",
        "district": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **choices,
    }
