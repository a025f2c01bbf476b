"""The HTTP measurements: the application under gunicorn, driven by wrk or by bench/load.py at a
fixed arrival rate, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import generate
from common import ACKNOWLEDGED, BENCH, OUT, PY, REVIEWER_UNIVERSITY, ROOT, SECRET, log, sample_officers

# ------------------------------------------------------------------ gunicorn + wrk

WRK_SCRIPT = r"""
local entries, i, pace = {}, 0, 0
init = function(args)
  for line in io.lines(args[1]) do
    local cookie, path = line:match("^([^\t]*)\t(.*)$")
    table.insert(entries, {cookie, path})
  end
  pace = tonumber(args[2] or "0")
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  i = math.random(#entries)
end
request = function()
  i = i % #entries + 1
  local e = entries[i]
  if e[1] == "" then return wrk.format("GET", e[2]) end
  return wrk.format("GET", e[2], {["Cookie"] = e[1]})
end
delay = function()
  if pace > 0 then return math.floor(-math.log(1 - math.random()) * pace) end
  return 0
end
-- wrk's own summary.errors.status counts statuses of 400 and over only: a redirect (to the
-- login page, a session gone) would pass for a page. Each thread counts every non-2xx.
local threads = {}
setup = function(thread) table.insert(threads, thread) end
not2xx = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then not2xx = not2xx + 1 end
end
done = function(summary, latency, requests)
  local e, bad = summary.errors, 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not2xx") end
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, '
    .. '"p50_ms": %.2f, "p90_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, bad,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# base URL -> process group of the gunicorn serving it (its CPU time is read per run)
SERVER_GROUPS: dict = {}


def group_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process of a process group (the gunicorn
    arbiter and its workers), from /proc."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextlib.contextmanager
def gunicorn(url: str, app_spec: str, extra_env=None, workers=None):
    port = free_port()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY=SECRET,
        DATABASE_URL=url,
        HOST="127.0.0.1",
        PORT=str(port),
        ACCESS_LOG="",
        UPLOAD_DIR=str(OUT / "documents"),
        # Workers never recycled during a measurement: the server's CPU is read from its live
        # processes, and a worker replaced mid-run took its CPU seconds with it (negative figures).
        MAX_REQUESTS="0",
        **ACKNOWLEDGED,
        **(extra_env or {}),
    )
    if workers:
        env["WORKERS"] = str(workers)
    logfile = open(OUT / "logs" / f"gunicorn-{port}.log", "w")  # noqa: SIM115  (lives as long as the server)
    process = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--pythonpath", str(BENCH), app_spec],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.3)
        time.sleep(1.5)  # let every worker boot
        base = f"http://127.0.0.1:{port}"
        SERVER_GROUPS[base] = process.pid
        yield base
    finally:
        SERVER_GROUPS.pop(f"http://127.0.0.1:{port}", None)
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        logfile.close()


def wrk(base: str, entries: list[tuple[str, str]], connections: int, seconds: int, pace_ms: int = 0) -> dict:
    """A warm-up of a few seconds (each worker compiles its templates and fills its caches on its
    first requests), then the measured run."""
    _wrk_once(base, entries, connections, 3, 0)
    return _wrk_once(base, entries, connections, seconds, pace_ms)


def _wrk_once(base, entries, connections, seconds, pace_ms):
    group = SERVER_GROUPS.get(base)
    cpu_before = group_cpu_seconds(group) if group else None
    with tempfile.TemporaryDirectory() as tmp:
        script, targets = Path(tmp) / "bench.lua", Path(tmp) / "targets.tsv"
        script.write_text(WRK_SCRIPT)
        targets.write_text("".join(f"{cookie}\t{path}\n" for cookie, path in entries))
        output = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, connections)),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base,
                "--",
                str(targets),
                str(pace_ms),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    data = json.loads(output.split("WRKJSON", 1)[1].strip().splitlines()[0])
    data["rps"] = round(data["requests"] / (data["duration_us"] / 1e6), 1)
    if cpu_before is not None and data["requests"]:
        # The server's CPU per request (wrk's own not counted): steadier than req/s on a
        # machine that other work loads.
        data["cpu_ms"] = round((group_cpu_seconds(group) - cpu_before) * 1000 / data["requests"], 2)
    data["connections"], data["seconds"], data["pace_ms"] = connections, seconds, pace_ms
    return data


def worker_rss_kib(group: int) -> dict:
    """{pid: resident KiB} of the workers of a gunicorn process group (the arbiter left out)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == group:
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                status = (entry / "status").read_text()
                found[int(entry.name)] = int(status.split("VmRSS:", 1)[1].split()[0])
    return found


def memory_over_requests(base: str, entries, total: int = 5000, step: int = 500, warmup: int = 2000) -> dict:
    """A single worker's resident memory every ``step`` requests over ``total``, after
    ``warmup`` requests (every template compiled, every cache and SQLite's page cache filled;
    ``entries`` taken in turn on one keep-alive connection, every response read whole): flat
    means no per-request growth. Every non-2xx counts."""
    import http.client

    group = SERVER_GROUPS[base]
    host, port = base.rsplit("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    samples, non2xx = [], 0
    for done in range(warmup):
        cookie, path = entries[done % len(entries)]
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        non2xx += not 200 <= response.status < 300
    for done in range(total + 1):
        if done % step == 0:
            samples.append((done, sum(worker_rss_kib(group).values())))
        if done == total:
            break
        cookie, path = entries[done % len(entries)]
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        non2xx += not 200 <= response.status < 300
    connection.close()
    first, last = samples[1][1], samples[-1][1]
    return {
        "warmup": warmup,
        "requests": total,
        "non2xx": non2xx,
        "rss_mib": [(count, round(kib / 1024, 1)) for count, kib in samples],
        "growth_after_first_step_mib": round((last - first) / 1024, 1),
    }


OFFICER_RATES = (200, 300)


def fixed_rate(base: str, targets, rate: int, seconds: int) -> dict:
    """bench/load.py at ``rate`` requests per second, in wrk's vocabulary for the report."""
    from load import load

    found = load(base, targets, rate, seconds)
    return {
        "requests": found["completed"],
        "rps": found["achieved_rps"],
        "rate_target": rate,
        "p50_ms": found["p50_ms"],
        "p90_ms": found["p90_ms"],
        "p95_ms": found["p95_ms"],
        "p99_ms": found["p99_ms"],
        "max_ms": found["max_ms"],
        "non2xx": found["requests"] - found["statuses"].get(200, 0) - found["errors"],
        "socket_errors": found["errors"],
        "connections": found["connections_opened"],
        "seconds": seconds,
        "pace_ms": 0,
    }


def production_cookies(url: str, officers) -> dict:
    """Session cookies minted by the production configuration (same SECRET_KEY as gunicorn)."""
    os.environ.update(APP_ENV="production", SECRET_KEY=SECRET, **ACKNOWLEDGED)
    try:
        from app import create_app

        app = create_app(
            {
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SMS_DELIVER_IN_BACKGROUND": False,
            }
        )
    finally:
        os.environ.pop("APP_ENV", None)

    def cookie_of(path, username):
        response = app.test_client().post(
            path, data={"username": username, "password": generate.BENCH_PASSWORD}, base_url="https://localhost"
        )
        # Every cookie the login sets (the session, and the device cookie of issue 17 first),
        # as one Cookie header: the first alone is not the session.
        header = "; ".join(cookie.split(";", 1)[0] for cookie in response.headers.getlist("Set-Cookie"))
        if response.status_code != 302 or app.config["SESSION_COOKIE_NAME"] + "=" not in header:
            raise RuntimeError(f"login {username}: {response.status_code}")
        return header

    return {
        "director": cookie_of("/admin/login", generate.DIRECTOR),
        "reviewer": cookie_of("/admin/login", generate.reviewer_name(REVIEWER_UNIVERSITY, 1)),
        "officers": [(cookie_of("/officer/login", user_code), request_id) for user_code, _code, request_id in officers],
    }


def cartable_scenarios(url: str, officers) -> dict:
    """{name: (our path, the stock view's path)} beyond the first page."""
    from stock import create_stock_app, status_filter_arg

    stock = create_stock_app(url)
    view = next(v for v in stock.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "qualification")
    code = officers[len(officers) // 2][1]
    return {
        "deep page (page=2000)": ("/admin/qualification/?tab=all&page=2000", "/admin/qualification/?page=2000"),
        "filtered by state": (
            "/admin/qualification/?tab=all&flt0_0=submitted",
            f"/admin/qualification/?{status_filter_arg(view)}=submitted",
        ),
        "search by national code": (f"/admin/qualification/?search={code}", f"/admin/qualification/?search={code}"),
    }


def measure_http(url: str, seconds: int, with_stock: bool = True) -> dict:
    from minimal import MINIMAL_PATH

    import models
    from models import db

    models.bind_url(url)
    officers = sample_officers(40)
    cookies = production_cookies(url, officers)
    with db.connection_context():
        university = models.University.get(models.University.code == REVIEWER_UNIVERSITY)
    result = {}
    scenarios = cartable_scenarios(url, officers)
    # The application with the minimal page of issue 23's "within 2x" (bench/minimal.py), so
    # that the yardstick and the cartable are measured on the same server in the same run.
    with gunicorn(url, "minimal:create_app_with_minimal_page()") as base:
        result["minimal page, directorate"] = wrk(base, [(cookies["director"], MINIMAL_PATH)], 4, seconds)
        result["minimal page, officers"] = wrk(
            base, [(cookie, MINIMAL_PATH) for cookie, _ in cookies["officers"]], 4, seconds
        )
        # ``tab=all``: the whole list, as the stock view shows it (see run.measure_lists).
        lists = [(cookies["director"], "/admin/qualification/?tab=all")]
        result["cartable first page, directorate (ours)"] = wrk(base, lists, 4, seconds)
        result["cartable first page, reviewer (ours)"] = wrk(
            base, [(cookies["reviewer"], "/admin/qualification/?tab=all")], 4, seconds
        )
        result["cartable needs my decision, directorate (ours)"] = wrk(
            base, [(cookies["director"], "/admin/qualification/?tab=mine")], 4, seconds
        )
        result["cartable filtered overdue, directorate (ours)"] = wrk(
            base, [(cookies["director"], "/admin/qualification/?tab=all&flt0_7=1")], 4, seconds
        )
        for name, (ours_path, _stock_path) in scenarios.items():
            result[f"cartable {name}, directorate (ours)"] = wrk(base, [(cookies["director"], ours_path)], 4, seconds)
        dashboards = [(cookie, "/officer/") for cookie, _ in cookies["officers"]]
        pages = [(cookie, f"/officer/qualification/{rid}") for cookie, rid in cookies["officers"]]
        mixed = [e for pair in zip(dashboards, pages, strict=True) for e in pair]
        # A fixed arrival rate (bench/load.py), latency counted from each request's due time.
        for name, targets in (("dashboard", dashboards), ("request page", pages), ("pages mixed", mixed)):
            for rate in OFFICER_RATES:
                result[f"officer {name}, {rate} req/s fixed rate"] = fixed_rate(base, targets, rate, 2 * seconds)
        result["officer pages mixed, full speed (8 conn.)"] = wrk(base, mixed, 8, seconds)
        # The officer dashboard under the same load as the minimal page's (4 connections).
        result["officer dashboard, full speed (4 conn.)"] = wrk(base, dashboards, 4, seconds)
    # One worker, never recycled, over 5,000 requests of every page kind (issue 23: memory flat).
    with gunicorn(url, "app:create_app()", {"THREADS": "1"}, workers=1) as base:
        everything = [
            (cookies["director"], "/admin/qualification/?tab=all"),
            (cookies["reviewer"], "/admin/qualification/?tab=mine"),
            (cookies["director"], "/admin/qualification/?tab=all&flt0_7=1"),
            (cookies["director"], "/admin/cooperation/"),
            (cookies["director"], "/admin/editrequest/"),
        ] + mixed
        result["memory over 5,000 requests (1 worker)"] = memory_over_requests(base, everything)
    if with_stock:
        with gunicorn(url, "stock:create_stock_app()", {"STOCK_UNIVERSITY": str(university.id)}) as base:
            result["cartable first page, directorate (stock)"] = wrk(base, [("", "/admin/qualification/")], 4, seconds)
            result["cartable first page, reviewer (stock)"] = wrk(
                base, [("", "/admin/qualification_university/")], 4, seconds
            )
            for name, (_ours_path, stock_path) in scenarios.items():
                result[f"cartable {name}, directorate (stock)"] = wrk(base, [("", stock_path)], 4, seconds)
    for name, row in result.items():
        if "rps" not in row:
            log(f"  {name}: {row}")
            continue
        log(
            f"  {name}: {row['rps']} req/s, CPU {row.get('cpu_ms', '?')} ms/request, p50 {row['p50_ms']} "
            f"p95 {row['p95_ms']} p99 {row['p99_ms']} ms, "
            f"non-2xx {row['non2xx']}, errors {row['socket_errors']}"
        )
    return result
