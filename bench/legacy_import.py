"""Benchmark of the legacy import (issues 6, 18): 200,000 officers in minutes, bounded memory.

Generates the four legacy CSV files (200,000 officers, 5,000 distributors, 20,000
branches, 15,000 contracts by default) with a few per cent of bad rows (refused: bad
national code, unreadable birth date, duplicates, password format) and of the problems
of real old data (imported with a warning: short address, no postal code, no father's
name or ID number, no degree, a landline as mobile, a misspelt city, an unqualified
officer with a contract, a distributor without a manager mobile), half the passwords
clear, half ASP.NET-hashed (real hashes of random passwords and salts), in the encoding
``--encoding`` names (``cp1256`` writes Arabic ي/ك throughout, as Windows-1256 exports
do), then imports them into a fresh SQLite database (and PostgreSQL with
``--postgres URL``; that database's public schema is dropped first) and prints
rows/s, the wall time per phase and the peak RSS.

    .venv/bin/python bench/legacy_import.py                      # the full run
    .venv/bin/python bench/legacy_import.py --officers 20000     # a quick one
    .venv/bin/python bench/legacy_import.py --postgres postgresql://registry:registry@127.0.0.1/bench

Runs: a dry run, the import, and a second import (which must import nothing).
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from models import legacy  # noqa: E402
from models.accounts import aspnet_membership_hash  # noqa: E402
from tests.helpers import national_code  # noqa: E402

FIRST_NAMES = ["علی", "محمد", "مریم", "زهرا", "رضا", "فاطمه", "حسین", "سارا", "مهدی", "نرگس", "امیر", "لیلا"]
LAST_NAMES = ["احمدی", "محمدی", "کریمی", "رضایی", "حسینی", "موسوی", "جعفری", "کاظمی", "یزدانی", "نیک‌پور"]
ARABIC = str.maketrans({"ی": "ي", "ک": "ك"})


def reference_names():
    def rows(name):
        with open(ROOT / "data" / name, encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    provinces = {r["code"]: r["name_fa"] for r in rows("provinces.csv")}
    cities = [(provinces[r["province_code"]], r["name_fa"]) for r in rows("cities.csv")]
    fields = [r["name_fa"] for r in rows("fields.csv") if r["eligible"] == "1"]
    degrees = [r["name_fa"] for r in rows("degrees.csv") if r["eligible"] == "1"]
    return cities, fields, degrees


def password_columns(rng: random.Random, index: int):
    password = f"pw-{index}-{rng.getrandbits(32):08x}"
    if index % 2:
        salt = base64.b64encode(rng.randbytes(16)).decode()
        return "1", aspnet_membership_hash(password, salt), salt
    return "0", password, ""


class _Cp1256Writer:
    """csv.writer over a Windows-1256 file: Persian ی becomes Arabic ي (cp1256 has no ی)."""

    def __init__(self, handle):
        self.out = csv.writer(handle)

    def writerow(self, row):
        self.out.writerow([cell.replace("ی", "ي") for cell in row])


def generate(
    directory: Path,
    officers: int,
    distributors: int,
    branches: int,
    contracts: int,
    bad_percent: float,
    seed: int = 6,
    encoding: str = "utf-8-sig",
    warn_percent: float = 0.0,
) -> dict:
    """Write the four files; return how many rows of each kind were made bad (refused) or
    incomplete (imported with a warning) on purpose."""
    rng = random.Random(seed)
    cities, fields, degrees = reference_names()
    bad = {"officers": 0, "distributors": 0, "branches": 0, "contracts": 0}
    warned = {"officers": 0, "distributors": 0, "unqualified working officers": 0}
    is_bad = lambda: rng.random() * 100 < bad_percent  # noqa: E731
    is_incomplete = lambda: rng.random() * 100 < warn_percent  # noqa: E731

    def writer(name):
        handle = open(directory / name, "w", encoding=encoding, newline="")  # noqa: SIM115  (the caller closes it)
        out = _Cp1256Writer(handle) if encoding == "cp1256" else csv.writer(handle)
        out.writerow(legacy.COLUMNS[name])
        return handle, out

    contract_officers = rng.sample(range(officers), contracts)
    contract_set = set(contract_officers)
    handle, out = writer(legacy.OFFICERS)
    for i in range(officers):
        province, city = rng.choice(cities)
        if i % 7 == 0:  # Arabic ي/ك typed by old keyboards
            province, city = province.translate(ARABIC), city.translate(ARABIC)
        fmt, password, salt = password_columns(rng, i)
        row = [
            str(50_000_000 + i),
            national_code(100_000 + i * 3),
            f"{rng.randint(1335, 1382)}/{rng.randint(1, 12):02d}/{rng.randint(1, 29):02d}",
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            rng.choice(FIRST_NAMES),
            rng.choice(("male", "female")),
            str(rng.randint(1, 999999)),
            f"0912{rng.randint(0, 9999999):07d}",
            "",
            "",
            f"{city}، خیابان {rng.choice(LAST_NAMES)}، پلاک {rng.randint(1, 200)}",
            f"{rng.randint(1, 9)}{rng.randint(0, 999999999):09d}",
            province,
            city,
            rng.choice(fields),
            rng.choice(degrees),
            fmt,
            password,
            salt,
            "1" if i in contract_set or rng.random() < 0.7 else "0",
        ]
        if i in contract_set and is_incomplete():
            warned["unqualified working officers"] += 1
            row[20] = "0"  # the old system had no qualification review
        if is_incomplete():
            warned["officers"] += 1
            kind = rng.randrange(6)
            if kind == 0:
                row[11] = city  # a short address
            elif kind == 1:
                row[12] = ""  # no postal code
            elif kind == 2:
                row[5], row[7] = "", ""  # no father's name, no ID number
            elif kind == 3:
                row[15], row[16] = "", ""  # no field, no degree
            elif kind == 4:
                row[8] = f"021{rng.randint(0, 99999999):08d}"  # a landline as the mobile
            else:
                row[14] = city + "ن"  # a misspelt city: a warning with the closest names
        if i not in contract_set and is_bad():
            bad["officers"] += 1
            kind = rng.randrange(5)
            if kind == 0:
                row[1] = row[1][:9] + str((int(row[1][9]) + 1) % 10)  # checksum
            elif kind == 1:
                row[14] = "شهر ناموجود"
            elif kind == 2:
                row[2] = "1402/12/30"
            elif kind == 3:
                row[1] = national_code(100_000 + max(0, i - 1) * 3)  # duplicate of the previous row
            else:
                row[17] = "2"
        out.writerow(row)
    handle.close()

    handle, out = writer(legacy.DISTRIBUTORS)
    for i in range(distributors):
        fmt, password, salt = password_columns(rng, i)
        mobile = f"0935{rng.randint(0, 9999999):07d}"
        if is_incomplete():
            warned["distributors"] += 1
            mobile = rng.choice(("", "12345"))  # imported; asked for at the first login
        if is_bad():
            bad["distributors"] += 1
            password = ""  # no password: refused
        out.writerow(
            [
                f"D{i}",
                f"شرکت تجهیزات پزشکی {i}",
                rng.choice(("company", "guild", "شرکت", "صنف")),
                f"{rng.randint(10**10, 10**11 - 1)}",
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                mobile,
                f"dist{i}",
                fmt,
                password,
                salt,
            ]
        )
    handle.close()

    handle, out = writer(legacy.BRANCHES)
    for i in range(branches):
        province, city = rng.choice(cities)
        distributor = f"D{rng.randrange(distributors)}"
        if i >= contracts and is_bad():
            bad["branches"] += 1
            distributor = "D-missing"
        out.writerow(
            [
                f"B{i}",
                distributor,
                f"شعبه {i}",
                province,
                city,
                f"{city}، خیابان {rng.choice(LAST_NAMES)}، پلاک {rng.randint(1, 200)}",
            ]
        )
    handle.close()

    handle, out = writer(legacy.COOPERATIONS)
    for i, officer in enumerate(contract_officers):
        code = national_code(100_000 + officer * 3)
        if is_bad():
            bad["contracts"] += 1
            code = national_code(100_000 + contract_officers[i - 1] * 3)  # two contracts
        out.writerow([f"B{i}", code, f"{rng.randint(1395, 1402)}/{rng.randint(1, 12):02d}/{rng.randint(1, 29):02d}"])
    handle.close()
    return {"refused on purpose": bad, "incomplete on purpose": warned}


def fresh_database(url: str):
    database = models.connect_database(url)
    models.bind_database(database)
    database.connect(reuse_if_open=True)
    if not url.startswith("sqlite"):
        database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    models.create_tables()
    models.load_reference_data()
    return database


def peak_rss_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


class Progress:
    def __init__(self, total):
        self.total, self.done, self.next_mark, self.started = total, 0, 0.0, time.perf_counter()

    def __call__(self, n):
        self.done += n
        if self.done / max(1, self.total) >= self.next_mark:
            elapsed = time.perf_counter() - self.started
            print(f"  {self.done:>7}/{self.total} rows  {elapsed:7.1f} s", file=sys.stderr, flush=True)
            self.next_mark += 0.1


def cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run_once(label, directory, **kwargs):
    total = legacy.count_rows(directory)
    started, (own, children) = time.perf_counter(), cpu_seconds()
    load = os.getloadavg()[0]
    result = legacy.import_legacy(directory, progress=Progress(total), **kwargs)
    elapsed = time.perf_counter() - started
    own_after, children_after = cpu_seconds()
    print(f"\n{label}: {elapsed:.1f} s for {total} rows = {total / elapsed:,.0f} rows/s")
    print(
        f"  CPU: main process {own_after - own:.1f} s, hashing workers {children_after - children:.1f} s; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    for line in result.summary_lines():
        print("  " + line)
    print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    print(
        f"  peak RSS so far: main {peak_rss_mb(resource.RUSAGE_SELF):.0f} MB, "
        f"largest hashing worker {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
    )
    return result, elapsed


def bench(url, directory, args):
    print(f"\n=== {url.split('@')[-1]} ===")
    database = fresh_database(url)
    try:
        if not args.skip_dry_run:
            run_once("dry run", directory, dry_run=True, report_path=directory / "report-dry.csv")
        if args.only_dry_run:
            return None
        result, _ = run_once("import", directory, report_path=directory / "report.csv")
        if not args.skip_rerun:
            again, _ = run_once("second run", directory, report_path=directory / "report-again.csv")
            assert all(c.imported == 0 for c in again.counts.values()), "the second run imported rows"
        print(
            f"  tables: officers {models.Officer.select().count()}, distributors "
            f"{models.Distributor.select().count()}, branches {models.Branch.select().count()}, "
            f"cooperations {models.Cooperation.select().count()}"
        )
        return result
    finally:
        database.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=200_000)
    parser.add_argument("--distributors", type=int, default=5_000)
    parser.add_argument("--branches", type=int, default=20_000)
    parser.add_argument("--contracts", type=int, default=15_000)
    parser.add_argument("--bad-percent", type=float, default=3.0)
    parser.add_argument("--warn-percent", type=float, default=5.0, help="rows with a problem of real old data")
    parser.add_argument("--encoding", default="utf-8-sig", choices=("utf-8-sig", "utf-8", "cp1256", "utf-16"))
    parser.add_argument("--postgres", help="also import into this PostgreSQL database (its schema is dropped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-dry-run", action="store_true")
    parser.add_argument("--skip-rerun", action="store_true")
    parser.add_argument("--only-dry-run", action="store_true", help="validate everything, write nothing, hash nothing")
    parser.add_argument("--keep", help="generate the files into this directory and keep them")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="legacy-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    files = work / "files"
    files.mkdir(exist_ok=True)
    try:
        print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; files in {files}")
        started = time.perf_counter()
        bad = generate(
            files,
            args.officers,
            args.distributors,
            args.branches,
            args.contracts,
            args.bad_percent,
            encoding=args.encoding,
            warn_percent=args.warn_percent,
        )
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(files.glob("*.csv")))
        print(f"generated in {time.perf_counter() - started:.1f} s ({args.encoding}): {sizes}; {bad}")
        if not args.skip_sqlite:
            bench(f"sqlite:///{work / 'bench.db'}", files, args)
        if args.postgres:
            bench(args.postgres, files, args)
        print(
            f"\npeak RSS: main process {peak_rss_mb(resource.RUSAGE_SELF):.0f} MB, "
            f"largest child {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
