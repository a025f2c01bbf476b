"""Fill a database with a realistic national data set for the benchmark (issue 9).

At ``--scale 1``: 300,000 officers, 1,000,000 qualification requests with their
events (submit, deficiency/resubmit, decision) and decision notices, the documents
of each officer's latest request, 50,000 branches with one cooperation each,
20,000 edit requests, spread over the real provinces, cities and universities
(reference data loaded with ``models.load_reference_data()``). ``--scale 0.1`` and
``--scale 0.01`` make the 100k and 10k variants.

Memory stays bounded: officers are generated in chunks of 5,000 (with their
requests, events, notices and documents), each chunk inserted in one transaction
with multi-row inserts. Every account shares ONE precomputed argon2id hash of
``BENCH_PASSWORD`` (it is a benchmark). Secondary indexes are dropped during the
load and rebuilt at the end (faster than maintaining them row by row), then the
planner statistics are refreshed (ANALYZE).

    .venv/bin/python bench/generate.py --scale 0.01                     # SQLite, instance/bench/
    .venv/bin/python bench/generate.py --scale 1 --url postgresql://registry:registry@127.0.0.1:5432/registry_bench

The target database is emptied first (SQLite: the file is replaced; PostgreSQL: the
public schema is dropped and created again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from branches import insert_branches  # noqa: E402
from columns import (  # noqa: E402
    DOCUMENT_FIELDS,
    EVENT_FIELDS,
    FIRST_NAMES,
    LAST_NAMES,
    NOTICE_FIELDS,
    OFFICER_FIELDS,
    REQUEST_FIELDS,
)
from loading import (  # noqa: E402
    Loader,
    drop_foreign_keys,
    drop_secondary_indexes,
    rebuild_indexes,
    reset_database,
    restore_foreign_keys,
    stored_time,
)

import models  # noqa: E402
from models import db  # noqa: E402
from tests.helpers import national_code  # noqa: E402

BENCH_PASSWORD = "Bench-Pass-2024!"
DIRECTOR = "bench-director"
CHUNK_OFFICERS = 5_000
BASE_OFFICERS, BASE_REQUESTS, BASE_BRANCHES, BASE_EDITS = 300_000, 1_000_000, 50_000, 20_000
START = dt.datetime(2017, 3, 21, 8, 0, 0)
NOW = models.utcnow().replace(microsecond=0)  # waiting requests are recent whenever it runs


def unique_branch_tokens() -> None:
    """Every branch its own public token: the column's default is drawn once per multi-row
    insert, and its unique index would refuse the copies."""
    token = "lower(hex(randomblob(16)))" if models.is_sqlite() else "md5(random()::text || id::text)"
    db.execute_sql(f"UPDATE branch SET public_token = {token}")


def default_sqlite_url(scale: float) -> str:
    return f"sqlite:///{ROOT / 'instance' / 'bench' / f'registry-{scale:g}.db'}"


def reviewer_name(university_code: str, n: int) -> str:
    return f"bench-rev-{university_code}-{n}"


def weighted_cities(rng):
    """Cities with a skewed weight: provincial capitals (first city of each province in the
    reference file) and Tehran get most of the officers, as in reality."""
    cities = list(models.City.select().order_by(models.City.id))
    seen, weights = set(), []
    for city in cities:
        weight = rng.lognormvariate(0, 0.8)
        if city.province_id not in seen:
            seen.add(city.province_id)
            weight *= 12
        if city.name == "تهران":
            weight *= 8
        weights.append(weight)
    return cities, weights


def generate(url: str, scale: float, seed: int = 20251201, quiet: bool = False) -> dict:
    from argon2 import PasswordHasher

    started = time.monotonic()
    rng = random.Random(seed)
    reset_database(url)
    models.create_tables()
    models.load_reference_data()
    drop_secondary_indexes()
    drop_foreign_keys()
    loader = Loader()

    def log(message):
        if not quiet:
            print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)

    password_hash = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(BENCH_PASSWORD)
    n_officers = max(100, int(BASE_OFFICERS * scale))
    n_requests = max(n_officers, int(BASE_REQUESTS * scale))
    n_branches = max(20, int(BASE_BRANCHES * scale))
    n_edits = max(20, int(BASE_EDITS * scale))

    cities, city_weights = weighted_cities(rng)
    fields = [f.id for f in models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == True)]  # noqa: E712
    degrees = [d.id for d in models.DegreeLevel.select()]
    kinds = [k.id for k in models.DocumentKind.select().order_by(models.DocumentKind.sort_order)]
    universities = list(models.University.select().order_by(models.University.id))

    # Staff: the directorate and two reviewers per university.
    staff_rows, reviewers = [], {}
    staff_rows.append((1, DIRECTOR, "مدیر بنچمارک", password_hash, "directorate", None, "", True, stored_time(START)))
    next_staff = 2
    for university in universities:
        reviewers[university.id] = []
        for n in (1, 2):
            staff_rows.append(
                (
                    next_staff,
                    reviewer_name(university.code, n),
                    f"کارشناس {university.name}",
                    password_hash,
                    "university",
                    university.id,
                    "",
                    True,
                    stored_time(START),
                )
            )
            reviewers[university.id].append(next_staff)
            next_staff += 1
    with db.atomic():
        loader.insert(
            models.StaffUser,
            ["id", "username", "full_name", "password_hash", "role", "university", "mobile", "is_active", "created_at"],
            staff_rows,
        )

    # How many requests each officer filed: 1 + a skewed extra, adjusted to the exact total.
    ks = [1 + min(11, int(rng.expovariate(1 / max(0.01, n_requests / n_officers - 1)))) for _ in range(n_officers)]
    difference = n_requests - sum(ks)
    while difference != 0:
        i = rng.randrange(n_officers)
        if difference > 0 and ks[i] < 12:
            ks[i] += 1
            difference -= 1
        elif difference < 0 and ks[i] > 1:
            ks[i] -= 1
            difference += 1

    officer_fields = OFFICER_FIELDS
    request_fields = REQUEST_FIELDS
    event_fields = EVENT_FIELDS
    notice_fields = NOTICE_FIELDS
    document_fields = DOCUMENT_FIELDS
    first_names = FIRST_NAMES
    last_names = LAST_NAMES
    span = (NOW - START).total_seconds()
    qualified, request_id, officer_id = [], 0, 0
    officer_university = {}
    deficiency_note = "تصویر مدرک تحصیلی خوانا نیست."

    def moment(base, low_days, high_days):
        return (base + dt.timedelta(seconds=rng.randint(int(low_days * 86400), int(high_days * 86400)))).replace(
            microsecond=0
        )

    for chunk_start in range(0, n_officers, CHUNK_OFFICERS):
        officers, requests_, events, notices, documents = [], [], [], [], []
        for _ in range(min(CHUNK_OFFICERS, n_officers - chunk_start)):
            officer_id += 1
            k = ks[officer_id - 1]
            city = rng.choices(cities, city_weights)[0]
            field, degree = rng.choice(fields), rng.choice(degrees)
            # Older officers filed more requests; everyone's history ends before NOW.
            created = (START + dt.timedelta(seconds=rng.random() * span * 0.9 / max(1, k / 3))).replace(microsecond=0)
            university = city.university_id
            roll = rng.random()
            last_status = (
                "approved"
                if roll < 0.65
                else "rejected"
                if roll < 0.73
                else "submitted"
                if roll < 0.85
                else "deficient"
                if roll < 0.91
                else "draft"
            )
            t = moment(created, 0, 3)
            qualified_at = qualification_number = None
            for j in range(k):
                request_id += 1
                status = last_status if j == k - 1 else "rejected"
                reviewer = rng.choice(reviewers[university])
                submitted = last = decided = due = None
                created_r = t
                row_reviewer = None
                note = reason = number = ""
                if status == "draft":
                    pass
                else:
                    submitted = moment(created_r, 0, 2)
                    if status == "submitted" and j == k - 1:
                        # Waiting now: filed in the last two months; some are overdue.
                        submitted = (NOW - dt.timedelta(seconds=rng.randint(3600, 60 * 86400))).replace(microsecond=0)
                        created_r = submitted - dt.timedelta(hours=2)
                    last = submitted
                    events.append(
                        (
                            "qualification",
                            request_id,
                            "submit",
                            "draft",
                            "submitted",
                            "officer",
                            officer_id,
                            "",
                            "",
                            "",
                            university,
                            stored_time(submitted),
                        )
                    )
                    if status in ("approved", "rejected") and rng.random() < 0.2:
                        deficient_at = moment(submitted, 1, 10)
                        last = moment(deficient_at, 1, 10)
                        events.append(
                            (
                                "qualification",
                                request_id,
                                "deficiency",
                                "submitted",
                                "deficient",
                                "staff",
                                reviewer,
                                "",
                                deficiency_note,
                                "illegible_document",
                                university,
                                stored_time(deficient_at),
                            )
                        )
                        events.append(
                            (
                                "qualification",
                                request_id,
                                "resubmit",
                                "deficient",
                                "submitted",
                                "officer",
                                officer_id,
                                "",
                                "",
                                "",
                                university,
                                stored_time(last),
                            )
                        )
                        notices.append(
                            (
                                "درخواست احراز صلاحیت شما نیاز به اصلاح دارد",
                                deficiency_note,
                                "officer",
                                officer_id,
                                "decision",
                                stored_time(deficient_at),
                            )
                        )
                    if status == "submitted":
                        due = (last + dt.timedelta(days=14)).date()
                    elif status == "deficient":
                        row_reviewer, note = reviewer, deficiency_note
                        at = moment(submitted, 1, 10)
                        events.append(
                            (
                                "qualification",
                                request_id,
                                "deficiency",
                                "submitted",
                                "deficient",
                                "staff",
                                reviewer,
                                "",
                                note,
                                "missing_document",
                                university,
                                stored_time(at),
                            )
                        )
                        notices.append(
                            (
                                "درخواست احراز صلاحیت شما نیاز به اصلاح دارد",
                                note,
                                "officer",
                                officer_id,
                                "decision",
                                stored_time(at),
                            )
                        )
                    else:
                        decided = moment(last, 1, 30)
                        row_reviewer = reviewer
                        action = "approve" if status == "approved" else "reject"
                        if status == "approved":
                            number = f"{1396 + (decided.year - 2017)}-{request_id:06d}"
                            qualified_at, qualification_number = decided, number
                        else:
                            note, reason = "رشته تحصیلی با شرایط همخوانی ندارد.", "ineligible"
                        events.append(
                            (
                                "qualification",
                                request_id,
                                action,
                                "submitted",
                                status,
                                "staff",
                                reviewer,
                                "",
                                note,
                                reason,
                                university,
                                stored_time(decided),
                            )
                        )
                        notices.append(
                            (
                                "نتیجه درخواست احراز صلاحیت",
                                f"درخواست شماره {request_id} بررسی شد.",
                                "officer",
                                officer_id,
                                "decision",
                                stored_time(decided),
                            )
                        )
                        t = moment(decided, 5, 120)
                requests_.append(
                    (
                        request_id,
                        officer_id,
                        status,
                        university if status != "draft" else None,
                        row_reviewer,
                        stored_time(created_r),
                        stored_time(submitted),
                        stored_time(last),
                        stored_time(decided),
                        note,
                        reason,
                        rng.randint(1, 9) if decided else 0,
                        stored_time(due) if due else None,
                        city.id if submitted else None,
                        field if submitted else None,
                        degree if submitted else None,
                        number or None,
                    )
                )
                if j == k - 1:
                    for kind in kinds[:4]:
                        documents.append(
                            (
                                officer_id,
                                "qualification",
                                request_id,
                                kind,
                                f"{request_id:08x}{kind:04x}" + "0" * 20,
                                "مدرک.pdf",
                                "application/pdf",
                                48_213,
                                "0" * 64,
                                stored_time(created_r),
                            )
                        )
            national = national_code(officer_id * 3 + 100_000_000 % 7)
            officers.append(
                (
                    officer_id,
                    str(10_000_000 + officer_id * 263),
                    national,
                    stored_time(dt.date(1960 + officer_id % 40, 1 + officer_id % 12, 1 + officer_id % 28)),
                    rng.choice(first_names),
                    rng.choice(last_names),
                    "علی",
                    rng.choice(("male", "female")),
                    f"0912{officer_id:07d}",
                    "",
                    "خیابان آزادی، پلاک ۱۰",
                    "1314567890",
                    city.province_id,
                    city.id,
                    field,
                    degree,
                    password_hash,
                    True,
                    university if qualified_at else None,
                    stored_time(qualified_at),
                    qualification_number,
                    stored_time(created),
                    False,
                )
            )
            if qualified_at:
                qualified.append(officer_id)
                officer_university[officer_id] = university
        with db.atomic():
            loader.insert(models.Officer, officer_fields, officers)
            loader.insert(models.QualificationRequest, request_fields, requests_)
            loader.insert(models.RequestEvent, event_fields, events)
            loader.insert(models.Notice, notice_fields, notices)
            loader.insert(models.Document, document_fields, documents)
        if officer_id % 50_000 == 0 or officer_id == n_officers:
            log(f"officers {officer_id:,}/{n_officers:,}, requests {request_id:,}, rows {loader.rows:,}")

    # Directorate notices to everyone and to provinces.
    provinces = [p.id for p in models.Province.select()]
    with db.atomic():
        loader.insert(
            models.Notice,
            ["subject", "body", "audience", "province", "kind", "created_at"],
            [
                (
                    "اطلاعیه",
                    "متن اطلاعیه اداره کل",
                    "all" if i % 3 == 0 else "province",
                    None if i % 3 == 0 else rng.choice(provinces),
                    "directorate",
                    stored_time(moment(START, 0, span / 86400)),
                )
                for i in range(60)
            ],
        )

    # Distributors, branches and one cooperation per branch.
    insert_branches(
        loader,
        rng,
        start=START,
        span=span,
        n_branches=n_branches,
        qualified=qualified,
        password_hash=password_hash,
        cities=cities,
        city_weights=city_weights,
        reviewers=reviewers,
        moment=moment,
    )
    log(f"branches {n_branches:,}, rows {loader.rows:,}")

    # Edit requests of qualified officers (one each, so at most one open per officer).
    edits = []
    for edit_id, officer in enumerate(qualified[-n_edits:], start=1):
        roll = rng.random()
        status = "approved" if roll < 0.6 else "rejected" if roll < 0.7 else "submitted" if roll < 0.9 else "deficient"
        submitted = moment(START, 60, span / 86400 - 1)
        decided = moment(submitted, 1, 20) if status in ("approved", "rejected") else None
        university = officer_university[officer]
        edits.append(
            (
                edit_id,
                officer,
                status,
                university,
                rng.choice(reviewers[university]) if status != "submitted" else None,
                stored_time(submitted),
                stored_time(submitted),
                stored_time(submitted),
                stored_time(decided),
                '{"mobile": "09120000000"}',
                "{}",
                stored_time((submitted + dt.timedelta(days=14)).date()) if status == "submitted" else None,
            )
        )
    with db.atomic():
        for i in range(0, len(edits), 10_000):
            loader.insert(
                models.EditRequest,
                [
                    "id",
                    "officer",
                    "status",
                    "university",
                    "reviewer",
                    "created_at",
                    "submitted_at",
                    "last_submitted_at",
                    "decided_at",
                    "changes",
                    "previous",
                    "due_on",
                ],
                edits[i : i + 10_000],
            )
    del edits
    log(f"edit requests {min(n_edits, len(qualified)):,}; rebuilding indexes")

    unique_branch_tokens()
    rebuild_indexes()
    restore_foreign_keys()
    log("indexes rebuilt; analysing")
    if models.is_sqlite():
        db.execute_sql("ANALYZE")
    else:
        for model in models.ALL_MODELS:
            table = model._meta.table_name
            db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        # VACUUM sets the visibility map, so index-only scans need no table reads (autovacuum
        # does the same on a live database).
        db.execute_sql("VACUUM ANALYZE")
    db.close()
    summary = {
        "url": url,
        "scale": scale,
        "officers": n_officers,
        "requests": request_id,
        "branches": n_branches,
        "rows": loader.rows,
        "seconds": round(time.monotonic() - started, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    log(json.dumps(summary))
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1,000,000 requests; 0.1; 0.01")
    parser.add_argument("--url", default=None, help="database URL (default: a SQLite file under instance/bench/)")
    parser.add_argument("--seed", type=int, default=20251201)
    args = parser.parse_args(argv)
    url = args.url or default_sqlite_url(args.scale)
    summary = generate(url, args.scale, seed=args.seed)
    manifest = ROOT / "instance" / "bench" / "generated.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(manifest.read_text()) if manifest.exists() else {}
    data[url] = summary
    manifest.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
