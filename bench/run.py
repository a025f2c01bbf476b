"""The performance benchmark of issue 9 (``make bench``).

Generates the data sets when they are missing (``bench/generate.py``: 10k, 100k and
1M requests, SQLite files under ``instance/bench/`` and PostgreSQL databases
``registry_bench_10k``, ``registry_bench_100k``, ``registry_bench``), then measures,
on each database and side by side with the stock Flask-Admin view (``bench/stock.py``):

1. the qualification cartable ``/admin/qualification/``: first page, a deep page
   (page=2000), filtered by state, searched by national code, in-process through the
   Flask test client as the directorate and as a university reviewer (median of
   ``--runs`` runs), and under gunicorn with ``wrk`` on 127.0.0.1;
2. SQL statements per list page (a peewee query hook) at page sizes 25 and 100, and per export;
3. the CSV export of every row as the directorate, in a child process: time to first
   byte, total time, rows/s, peak RSS (``ru_maxrss``);
4. the officer dashboard and request page under gunicorn with ``wrk`` (paced at about
   200 requests/s by a Lua script, and at full speed);
5. the in-process cost of each page at 10k, 100k and 1M requests.

Writes ``instance/bench/results-<backend>.json`` and ``instance/bench/report.md``.

    .venv/bin/python bench/run.py                      # everything (generates what is missing)
    .venv/bin/python bench/run.py --backend sqlite --scales 0.01,0.1   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import generate
from common import (
    BENCH,
    OUT,
    PG_NAMES,
    PY,
    REVIEWER_UNIVERSITY,
    SECRET,
    log,
    sample_officers,
    scale_label,
    serving_url,
    url_for_scale,
)
from http_load import measure_http

# ------------------------------------------------------------------ data


def ensure_postgres() -> None:
    subprocess.run([str(BENCH / "postgres.sh"), "start"], check=True, stdout=subprocess.DEVNULL)
    for name in PG_NAMES.values():
        found = subprocess.run(
            ["su", "postgres", "-c", f"psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='{name}'\""],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if found != "1":
            subprocess.run(["su", "postgres", "-c", f"createdb -O registry {name}"], check=True)


def has_data(url: str, scale: float) -> bool:
    import models
    from models import db

    if url.startswith("sqlite") and not Path(url.split("sqlite:///", 1)[1]).exists():
        return False
    try:
        models.bind_url(url)
        with db.connection_context():
            if "qualification_request" not in db.get_tables():
                return False
            count = models.QualificationRequest.select().count()
    except Exception:  # noqa: BLE001 - an unreachable or empty database: generate it
        return False
    return count == max(int(generate.BASE_OFFICERS * scale), int(generate.BASE_REQUESTS * scale))


def ensure_data(backend: str, scales, force: bool = False) -> dict:
    timings = {}
    for scale in scales:
        url = url_for_scale(backend, scale)
        if force or not has_data(url, scale):
            log(f"generating {backend} {scale_label(scale)} -> {url}")
            started = time.monotonic()
            subprocess.run([PY, str(BENCH / "generate.py"), "--scale", str(scale), "--url", url], check=True)
            timings[scale_label(scale)] = round(time.monotonic() - started, 1)
        else:
            bring_indexes_up_to_date(url)
    return timings


# Indexes a migration dropped since a data set may have been generated (019: qr_waiting).
RETIRED_INDEXES = frozenset({"qr_waiting"})


def bring_indexes_up_to_date(url: str) -> None:
    """A data set generated before a release that added or dropped indexes is brought to the
    release's (the models' ``Meta.indexes``, as generate.py creates them, without the retired
    ones), then analysed: the plans measured are the release's."""
    import models
    from models import db

    models.bind_url(url)
    with db.connection_context():
        before = {index.name for table in db.get_tables() for index in db.get_indexes(table)}
        models.create_tables()
        for name in RETIRED_INDEXES & before:
            log(f"  index {name} retired by a migration: dropped")
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
        after = {index.name for table in db.get_tables() for index in db.get_indexes(table)}
        if after - before or RETIRED_INDEXES & before:
            # The planner's statistics, new indexes included (as migration 019 does).
            log(f"  new indexes {sorted(after - before)}: ANALYZE")
            db.execute_sql("ANALYZE")


# ------------------------------------------------------------------ in-process


class Counter:
    """Counts the SQL statements peewee runs (a query hook on the bound database)."""

    def __init__(self, database):
        self.events = []
        database.query_hooks.append(self.events.append)

    def reset(self):
        self.events.clear()

    @property
    def count(self):
        return len(self.events)


def make_apps(url: str):
    os.environ.pop("APP_ENV", None)
    from minimal import add_minimal_page
    from stock import create_stock_app

    import models
    from app import create_app

    models.bind_url(url)
    from models import db

    with db.connection_context():
        university = models.University.get(models.University.code == REVIEWER_UNIVERSITY)
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "SEED_DEMO_DATA": False,
        "RATELIMIT_ENABLED": False,
        "SMS_DELIVER_IN_BACKGROUND": False,
        "WTF_CSRF_ENABLED": False,
        "TESTING": False,
    }
    ours = add_minimal_page(create_app(config))
    stock = create_stock_app(url, university.id)
    return ours, stock, university


def login(app, path: str, username: str):
    client = app.test_client()
    response = client.post(path, data={"username": username, "password": generate.BENCH_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login {username} on {path} failed: {response.status_code}")
    return client


def timed(client, path: str, counter: Counter, runs: int, warmup: int = 2):
    for _ in range(warmup):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    times, cpu, sql, queries = [], [], [], []
    for _ in range(runs):
        counter.reset()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(sum(event.duration for event in counter.events) * 1000)
        queries.append(counter.count)
    # Wall time includes the database's own work (PostgreSQL runs in another process); CPU
    # time is this process's alone, and what a busy machine distorts least.
    return {
        "ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
        "cpu_ms": round(statistics.median(cpu), 2),
        "sql_ms": round(statistics.median(sql), 2),
        "queries": statistics.median(queries),
    }


def every_filter_path(request_id: int) -> dict:
    """{name: path} of each tab, filter and sort of the qualification cartable (as
    tests/test_query_plans.py's QUALIFICATION_PAGES), the reference values taken from a real request."""
    import models
    from models import db

    with db.connection_context():
        sample = models.QualificationRequest.get_by_id(request_id)
        national_code = sample.officer.national_code
    base = "/admin/qualification/"
    return {
        "unfiltered first page (tab=all)": base + "?tab=all",
        **{f"tab {tab}": f"{base}?tab={tab}" for tab in models.cartable.TAB_CODES if tab != "all"},
        "state": base + "?tab=all&flt0_0=submitted",
        "city": f"{base}?tab=all&flt0_1={sample.city_id}",
        "field": f"{base}?tab=all&flt0_2={sample.field_of_study_id}",
        "degree": f"{base}?tab=all&flt0_3={sample.degree_level_id}",
        "submitted from": base + "?tab=all&flt0_4=1405/01/01",
        "submitted until": base + "?tab=all&flt0_5=1404/01/01",
        "assigned to me": base + "?tab=all&flt0_6=1",
        "overdue": base + "?tab=all&flt0_7=1",
        "district": base + "?tab=all&flt0_8=7",
        "deep page (page=2000)": base + "?tab=all&page=2000",
        "sort by id, descending": base + "?tab=all&sort=0&desc=1",
        "sort by state": base + "?tab=all&sort=8",
        "sort by submission, descending": base + "?tab=all&sort=9&desc=1",
        "sort by days waiting": base + "?tab=all&sort=10",
        "sort by due date, descending": base + "?tab=all&sort=11&desc=1",
        "search by national code": f"{base}?search={national_code}",
    }


def measure_lists(url: str, runs: int, stock_runs: int, with_stock: bool = True) -> dict:
    """Cartable list pages, ours and stock, in-process; officer pages in-process."""
    from minimal import MINIMAL_PATH
    from stock import status_filter_arg

    import models
    from models import db

    ours, stock, university = make_apps(url)
    counter = Counter(db.obj)
    director = login(ours, "/admin/login", generate.DIRECTOR)
    reviewer = login(ours, "/admin/login", generate.reviewer_name(REVIEWER_UNIVERSITY, 1))
    officers = sample_officers(12)
    code = officers[len(officers) // 2][1]
    stock_client = stock.test_client()
    stock_view = next(v for v in stock.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "qualification")
    stock_status = status_filter_arg(stock_view)
    # ``tab=all``: the whole list, as the stock view shows it (the cartable opens on "needs my
    # decision" since issue 20); the tab of the daily work and the overdue filter besides.
    scenarios = {
        "first page": ("/admin/qualification/?tab=all", "?"),
        "deep page (page=2000)": ("/admin/qualification/?tab=all&page=2000", None),
        "filtered by state": ("/admin/qualification/?tab=all&flt0_0=submitted", f"?{stock_status}=submitted"),
        "search by national code": (f"/admin/qualification/?search={code}", f"?search={code}"),
        "needs my decision": ("/admin/qualification/?tab=mine", None),
        "filtered overdue": ("/admin/qualification/?tab=all&flt0_7=1", None),
    }
    result = {"lists": {}, "page_size": {}, "officer_inprocess": {}}
    # The yardstick of issue 23: the least a staff page does (session check, one query, a small
    # template), in the same process and run as the cartable.
    result["minimal_inprocess"] = {
        "directorate": timed(director, MINIMAL_PATH, counter, runs),
        "reviewer": timed(reviewer, MINIMAL_PATH, counter, runs),
    }
    for name, (path, stock_suffix) in scenarios.items():
        row = {
            "ours_director": timed(director, path, counter, runs),
            "ours_reviewer": timed(reviewer, path, counter, runs),
        }
        if with_stock and (stock_suffix is not None or "page=" in path):
            stock_path = "/admin/qualification/" + (stock_suffix if stock_suffix is not None else "?page=2000")
            row["stock"] = timed(stock_client, stock_path.rstrip("?"), counter, stock_runs, warmup=1)
            row["stock_university"] = timed(
                stock_client,
                stock_path.replace("/qualification/", "/qualification_university/").rstrip("?"),
                counter,
                stock_runs,
                warmup=1,
            )
        result["lists"][name] = row
        log(f"  {name}: " + ", ".join(f"{k} {v['ms']} ms/{v['queries']}q" for k, v in row.items()))
    # Issue 23: every tab, filter and sort the cartable offers, against its unfiltered first page.
    result["every_filter"] = {}
    for name, path in every_filter_path(request_id=officers[0][2]).items():
        result["every_filter"][name] = {
            "ours_director": timed(director, path, counter, runs),
            "ours_reviewer": timed(reviewer, path, counter, runs),
        }
    # Statements per list page must not grow with the page size: 25 vs 100 rows.
    admin = ours.extensions["admin"][0]
    for endpoint in ("qualification", "cooperation", "editrequest"):
        view = next(v for v in admin._views if getattr(v, "endpoint", "") == endpoint)
        view.can_set_page_size, view.page_size_options = True, (25, 100)
        row = {}
        for size in (25, 100):
            row[str(size)] = timed(director, f"/admin/{endpoint}/?page_size={size}", counter, 3, warmup=1)
        if with_stock and endpoint == "qualification":
            stock_view.can_set_page_size, stock_view.page_size_options = True, (25, 100)
            for size in (25, 100):
                row[f"stock {size}"] = timed(
                    stock_client, f"/admin/qualification/?page_size={size}", counter, min(3, stock_runs), warmup=0
                )
        result["page_size"][endpoint] = row
    # Officer pages, in-process (their cost at each scale).
    user_code, _code, request_id = officers[0]
    officer = login(ours, "/officer/login", user_code)
    # The benchmark times the look-up, not the per-national-code limit (issue 17, L1).
    models.verification.LOOKUPS_PER_QUERY_PER_HOUR = 10**9
    result["officer_inprocess"] = {
        "minimal page (officer)": timed(officer, MINIMAL_PATH, counter, runs),
        "/officer/": timed(officer, "/officer/", counter, runs),
        "/officer/qualification/<id>": timed(officer, f"/officer/qualification/{request_id}", counter, runs),
        "/verify?q=<national code>": timed(ours.test_client(), f"/verify?q={code}", counter, runs),
        # The API's verification: the same look-up, answered as JSON (issue 21).
        "/api/v1/verify?q=<national code>": timed(ours.test_client(), f"/api/v1/verify?q={code}", counter, runs),
    }
    with db.connection_context():
        result["rows"] = models.QualificationRequest.select().count()
    return result


# ------------------------------------------------------------------ export (child process)


def export_child(url: str, which: str) -> None:
    """Run one CSV export in this (fresh) process and print its figures as JSON."""
    from models import db

    ours, stock, _university = make_apps(url)
    counter = Counter(db.obj)
    if which == "ours":
        client, path = login(ours, "/admin/login", generate.DIRECTOR), "/admin/qualification/export/csv/"
    elif which == "ours-xlsx":
        client, path = login(ours, "/admin/login", generate.DIRECTOR), "/admin/qualification/export/xlsx/"
    else:
        client, path = stock.test_client(), "/admin/qualification/export/csv/"
    import models

    with db.connection_context():
        # What the export lists (no tab: every request but drafts), counted before the clock starts.
        expected_rows = (
            models.QualificationRequest.select().where(models.QualificationRequest.status != "draft").count()
        )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    counter.reset()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    first = first_row = None
    size = lines = 0
    for chunk in response.response:
        if first is None and chunk:
            first = time.perf_counter() - started
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        size += len(chunk)
        lines += chunk.count(b"\n")
        if first_row is None and lines >= 2:
            first_row = time.perf_counter() - started
    response.close()
    total = time.perf_counter() - started
    # A workbook's rows are not lines: its row count is the list's (the audit row counts the same).
    rows = lines - 1 if which != "ours-xlsx" else expected_rows
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(
        json.dumps(
            {
                "cpu_s": round(cpu, 2),
                "rows_per_cpu_s": round(rows / cpu) if cpu else 0,
                "status": response.status_code,
                "rows": rows,
                "bytes": size,
                "ttfb_s": round(first or total, 3),
                "first_row_s": round(first_row or total, 3),
                "total_s": round(total, 2),
                "rows_per_s": round(rows / total) if total else 0,
                "rss_before_mib": round(rss_before / 1024, 1),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "queries": counter.count,
                "expected_rows": expected_rows,
            }
        )
    )


def run_export(url: str, which: str, timeout: float) -> dict:
    process = subprocess.Popen(
        [PY, __file__, "export-child", "--url", url, "--which", which],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{process.pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+)", status)
            if match:
                peak = max(peak, int(match.group(1)))
        time.sleep(0.5)
    if process.poll() is None:
        process.kill()
        process.wait()
        return {"status": "killed", "timeout_s": timeout, "peak_rss_mib": round(peak / 1024, 1)}
    out, err = process.communicate()
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"status": "failed", "stderr": err[-2000:]}


# ------------------------------------------------------------------ report


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free": free,
        "python": platform.python_version(),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "loadavg": os.getloadavg(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("export-child")
    child.add_argument("--url", required=True)
    child.add_argument("--which", choices=("ours", "ours-xlsx", "stock"), default="ours")
    parser.add_argument("--backend", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--scales", default="0.01,0.1,1")
    parser.add_argument("--runs", type=int, default=9, help="in-process runs per page (median)")
    parser.add_argument("--stock-runs", type=int, default=3, help="runs of the (slow) stock pages")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--stock-export-timeout", type=float, default=120.0)
    parser.add_argument("--skip", default="", help="comma list of: lists,export,http")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "export-child":
        export_child(args.url, args.which)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    scales = [float(s) for s in args.scales.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    for backend in args.backend.split(","):
        started = time.monotonic()
        if backend == "postgres":
            ensure_postgres()
        generated = ensure_data(backend, scales, force=args.regenerate)
        results = {"machine": machine(), "backend": backend, "generated_s": generated, "scales": {}}
        for scale in scales:
            url = url_for_scale(backend, scale)
            label = scale_label(scale)
            entry = results["scales"][label] = {"url": url}
            served = serving_url(url)
            if "lists" not in skip:
                log(f"{backend} {label}: list pages in-process")
                entry.update(measure_lists(served, args.runs, args.stock_runs if scale >= 1 else args.runs))
            if "export" not in skip:
                log(f"{backend} {label}: CSV export")
                entry["export"] = {"ours": run_export(served, "ours", 900)}
                entry["export"]["ours xlsx"] = run_export(served, "ours-xlsx", 900)
                entry["export"]["stock"] = run_export(served, "stock", args.stock_export_timeout)
                log(f"  {entry['export']}")
            if "http" not in skip and scale >= 1:
                log(f"{backend} {label}: gunicorn + wrk")
                entry["http"] = measure_http(served, args.wrk_seconds)
        results["seconds"] = round(time.monotonic() - started, 1)
        path = OUT / f"results-{backend}.json"
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        log(f"{backend}: done in {results['seconds']} s -> {path}")
    from report import write_report

    write_report(OUT)


if __name__ == "__main__":
    main()
