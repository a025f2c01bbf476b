"""Every list the screens offer reads an index, and a list page costs a fixed number of
SQL statements whatever its page size (issue 9).

The statements are the real ones: each page is requested through the test client while
a peewee query hook records what it runs; then each statement that touches a large table
is explained (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with enable_seqscan off, so
that a tiny table does not make a sequential scan the cheapest plan). No timing here:
the figures are in bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

import models
from helpers import PASSWORD, login
from models import db

BIG_TABLES = {
    "qualification_request",
    "cooperation",
    "edit_request",
    "officer",
    "notice",
    "notice_read",
    "request_event",
    "document",
    "branch",
    "distributor",
    "login_session",
    "staff_user",
}


class Recorder:
    def __init__(self):
        self.events = []

    def __enter__(self):
        db.obj.query_hooks.append(self.events.append)
        return self

    def __exit__(self, *exc):
        db.obj.query_hooks.remove(self.events.append)


def record(client, path):
    with Recorder() as recorder:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return unprepared([(event.sql, event.params) for event in recorder.events])


def unprepared(statements):
    """Statements with each server-side EXECUTE of a Prepared query replaced by its SQL."""
    prepared, plain = {}, []
    for sql, params in statements:
        found = re.match(r"PREPARE (\w+) AS (.*)", sql, re.S)
        if found:
            prepared[found.group(1)] = re.sub(r"\$\d+", "%s", found.group(2).replace("%", "%%"))
            continue
        found = re.match(r"EXECUTE (\w+)", sql)
        plain.append((prepared[found.group(1)], params) if found else (sql, params))
    return plain


def aliases(sql: str) -> dict:
    """{alias: table} of the big tables a statement reads."""
    found = {table: table for table in re.findall(r'FROM "(\w+)"(?! AS)', sql)}
    for table, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql):
        found[alias] = table
    return {alias: table for alias, table in found.items() if table in BIG_TABLES}


def full_scans(sql: str, params) -> list[str]:
    """The big tables this statement reads without an index (empty when all use one)."""
    tables = aliases(sql)
    if not tables:
        return []
    if models.is_sqlite():
        plan = [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        bad = []
        for detail in plan:
            match = re.match(r"SCAN (\w+)$", detail.strip())
            # A bare SCAN walks the table's own b-tree: fine when that is the order asked
            # (ORDER BY id ... LIMIT stops after the page), a full scan otherwise.
            in_id_order = (
                (f'ORDER BY "{match.group(1)}"."id"' in sql and "USE TEMP B-TREE FOR ORDER BY" not in plan)
                if match
                else False
            )
            if match and match.group(1) in tables and not in_id_order:
                bad.append(f"{tables[match.group(1)]}: {detail}")
        return bad
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())
    return [
        line.strip()
        for line in plan.splitlines()
        if re.search(r"Seq Scan on (\w+)", line) and re.search(r"Seq Scan on (\w+)", line).group(1) in BIG_TABLES
    ]


def index_names(sql: str, params) -> set[str]:
    if models.is_sqlite():
        plan = " ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        return set(re.findall(r"INDEX (\w+)", plan)) | ({"PRIMARY KEY"} if "PRIMARY KEY" in plan else set())
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())
    return set(re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)", plan))


def sqlite_list_reads(sql: str, params, walk: bool, table: str) -> tuple[set[str], list[str]]:
    """(the indexes the list part of a statement reads its big tables through, the problems).

    SQLite's plan says ``SEARCH t USING INDEX i (a=?)`` for a range of an index and ``SCAN t
    USING INDEX i`` for a walk of all of it in its order. A walk is refused unless the page
    is one (``walk``: nearly every row matches, so it stops after the page), or it is inside
    a capped count over an index alone (it stops at COUNT_CAP + 1 entries); ``USE TEMP
    B-TREE FOR ORDER BY`` beside a read that is not by primary key means the page sorts
    every row it matched."""
    tables = aliases(sql)
    rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    parent_of = {row[0]: row[1] for row in rows}
    detail_of = {row[0]: row[-1].strip() for row in rows}

    def counted(node):
        while node in detail_of:
            if re.match(r"(CO-ROUTINE|MATERIALIZE) _?capped", detail_of[node]):
                return True
            node = parent_of[node]
        return False

    used, problems = set(), []
    for node, detail in detail_of.items():
        read = re.match(r"(SCAN|SEARCH) (\w+)(?: USING (COVERING )?INDEX (\w+))?", detail)
        if not read or tables.get(read.group(2)) != table:
            continue
        in_count = counted(node)
        if not in_count:
            # (a bare SCAN or a rowid SEARCH reads the table's own b-tree: its primary key)
            used.add(read.group(4) or "PRIMARY KEY")
        # A walk is allowed on a walking page, and inside a capped count on the index alone.
        allowed = (walk and not in_count) or (in_count and read.group(3))
        if read.group(1) == "SCAN" and read.group(4) and not allowed:
            problems.append(f"{tables[read.group(2)]}: a full index walk: {detail}")
    for node, detail in detail_of.items():
        if re.match(r"USE TEMP B-TREE FOR (RIGHT PART OF )?ORDER BY", detail) and not counted(node):
            beside = [
                detail_of[other]
                for other in detail_of
                if parent_of[other] == parent_of[node] and re.match(r"(SCAN|SEARCH) (\w+)", detail_of[other])
            ]
            if any(
                tables.get(re.match(r"(SCAN|SEARCH) (\w+)", d).group(2)) == table and "(rowid=?)" not in d
                for d in beside
            ):
                problems.append(f"the page sorts every row it matched: {beside}")
    return used, problems


def postgres_plan(sql: str, params) -> list[dict]:
    """EXPLAIN's nodes (``text``, ``parent``, ``details``) with the planner told to avoid what
    a million rows would make dear (sequential scans, sorts, hash and merge joins), so that a
    tiny test table gets the plan a large one would: a page that still sorts has no index
    serving its order."""
    with db.atomic():
        for setting in ("enable_seqscan", "enable_sort", "enable_hashjoin", "enable_mergejoin"):
            db.execute_sql(f"SET LOCAL {setting} = off")
        lines = [row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall()]
    nodes, stack = [], []
    for line in lines:
        text, indent = line.strip(), len(line) - len(line.lstrip())
        if nodes and not (text.startswith("->") or re.match(r"(InitPlan|SubPlan)", text)):
            nodes[stack[-1][1]]["details"].append(text)
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        nodes.append(
            {"text": text.removeprefix("->").strip(), "parent": stack[-1][1] if stack else None, "details": []}
        )
        stack.append((indent, len(nodes) - 1))
    return nodes


def _ancestors(nodes, number):
    while nodes[number]["parent"] is not None:
        number = nodes[number]["parent"]
        yield nodes[number]["text"]


def _in_capped_count(nodes, number) -> bool:
    """Under the count of a capped subquery (``SELECT COUNT(*) FROM (SELECT 1 ... LIMIT n)``)."""
    limited = False
    for text in _ancestors(nodes, number):
        limited = limited or text.startswith("Limit")
        if text.startswith("Aggregate") and limited:
            return True
    return False


PG_READ = re.compile(r"(Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)(?: on (\w+))?")


def postgres_list_reads(sql: str, params, walk: bool, table: str) -> tuple[set[str], list[str]]:
    """The same on PostgreSQL: an index scan of the page's table without an ``Index Cond`` is a
    walk of the whole index, refused unless the page is one or it feeds a capped count on
    the index alone; a ``Sort`` over the rows of the page's table read without a ``Limit`` in
    between (more than a page of ids) is refused."""
    nodes = postgres_plan(sql, params)
    used, problems = set(), []
    for number, node in enumerate(nodes):
        read = PG_READ.match(node["text"])
        if read and read.group(3) == table:
            in_count = _in_capped_count(nodes, number)
            if not in_count:
                used.add(read.group(2))
            ranged = read.group(1) == "Bitmap Index Scan" or any(d.startswith("Index Cond") for d in node["details"])
            if not ranged and not walk and not (in_count and read.group(1) == "Index Only Scan"):
                problems.append(f"a full index walk: {node['text']}")
        if node["text"].startswith("Sort") and not _in_capped_count(nodes, number):
            for other, below in enumerate(nodes):
                inner = PG_READ.match(below["text"])
                if not inner or inner.group(3) != table or inner.group(2).endswith("_pkey"):
                    continue
                # the read is under this Sort, with no Limit between them
                step, limited = other, False
                while nodes[step]["parent"] is not None and step != number:
                    step = nodes[step]["parent"]
                    limited = limited or (step != number and nodes[step]["text"].startswith("Limit"))
                if step == number and not limited:
                    problems.append(f"the page sorts every row it matched: {below['text']}")
    return used, problems


def assert_indexed(client, path, table: str | None = None, expected: tuple[str, ...] = (), walk: bool | None = None):
    """Every statement of the page reads its big tables through an index; with ``expected``,
    the page's list statement reads one of those. With ``walk`` set (the cartable's pages),
    a full walk of an index is refused as well unless ``walk`` is True, and so is a list
    that sorts every row it matched (``sqlite_list_reads``, ``postgres_list_reads``)."""
    statements = record(client, path)
    checked = 0
    for sql, params in statements:
        if table and table not in aliases(sql).values():
            continue
        with db.connection_context():
            problems = full_scans(sql, params)
            assert not problems, f"{path}: full scan of {problems}\n{sql}"
            # The cartable's tab counts (issue 20: one capped COUNT per tab, each through the
            # index of its own condition) are held to "no full scan", not to the list's index.
            tab_count = sql.startswith("SELECT COUNT(*) FROM (SELECT 1 ")
            if walk is not None:
                reads = sqlite_list_reads if models.is_sqlite() else postgres_list_reads
                used, problems = reads(sql, params, walk, table)
                assert not problems, f"{path}: {problems}\n{sql}"
            else:
                used = index_names(sql, params)
            if expected and table and not tab_count and list(aliases(sql).values())[:1] == [table]:
                assert used & set(expected), f"{path}: expected one of {expected}, the plan uses {used}\n{sql}"
        checked += 1
    assert checked, f"{path}: no statement on {table}"


# ------------------------------------------------------------------ data


@pytest.fixture
def world(app, make_officer, make_staff):
    """A small registry: 30 officers with requests in every state, cooperations, edit requests."""
    with db.connection_context():
        tehran_uni = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
        director = make_staff(role="directorate", username="director")
        reviewer = make_staff(university="دانشگاه علوم پزشکی تهران", username="reviewer")
        distributor = models.create_distributor("dist", PASSWORD, "شرکت نمونه", "company", "09351234567")
    officers = [make_officer(qualified=(i % 2 == 0)) for i in range(30)]
    now = models.utcnow()
    statuses = ("submitted", "deficient", "approved", "rejected", "draft")
    with db.connection_context(), db.atomic():
        city = models.City.get_by_id(officers[0].city_id)
        requests_ = []
        for i, officer in enumerate(officers):
            status = statuses[i % len(statuses)]
            submitted = None if status == "draft" else now - dt.timedelta(days=i)
            requests_.append(
                models.QualificationRequest.create(
                    officer=officer,
                    status=status,
                    university=tehran_uni if status != "draft" else None,
                    reviewer=reviewer.id if status in ("deficient", "approved", "rejected") else None,
                    submitted_at=submitted,
                    last_submitted_at=submitted,
                    due_on=(now + dt.timedelta(days=5 - i)).date() if status == "submitted" else None,
                    city=city if submitted else None,
                    field_of_study=officer.field_of_study_id if submitted else None,
                    degree_level=officer.degree_level_id if submitted else None,
                )
            )
            models.RequestEvent.create(
                request_type="qualification",
                request_id=requests_[-1].id,
                action="submit",
                actor_kind="officer",
                actor_id=officer.id,
                university_id=tehran_uni.id,
            )
            models.Notice.create(subject="s", body="b", audience="officer", officer=officer, kind="decision")
        for i, officer in enumerate(officers):
            branch = models.Branch.create(
                distributor=distributor,
                name=f"شعبه {i}",
                province=city.province_id,
                city=city,
                address="تهران، خیابان انقلاب، پلاک ۱",
            )
            status = ("ended", "rejected", "pending_university")[i % 3]
            models.Cooperation.create(
                branch=branch,
                distributor=distributor,
                officer=officer,
                status=status,
                university=tehran_uni,
                submitted_at=now,
                last_submitted_at=now - dt.timedelta(hours=i),
                reviewer=reviewer.id if status != "pending_university" else None,
                due_on=now.date() if status == "pending_university" else None,
            )
            models.EditRequest.create(
                officer=officer,
                status=("approved", "rejected", "submitted")[i % 3],
                university=tehran_uni,
                submitted_at=now,
                last_submitted_at=now,
                reviewer=reviewer.id if i % 3 != 2 else None,
            )
    if not models.is_sqlite():
        # Plans follow statistics: gather them now, not whenever autovacuum happens to, or the
        # planner's choice between two indexes would change from run to run.
        with db.connection_context():
            db.execute_sql("ANALYZE")
    return {
        "director": director,
        "reviewer": reviewer,
        "officers": officers,
        "requests": requests_,
        "city": city,
        "university": tehran_uni,
    }


def staff_client(app, staff):
    client = app.test_client()
    assert login(client, "/admin/login", staff.username).status_code == 302
    return client


def view_of(app, endpoint):
    return next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == endpoint)


# ------------------------------------------------------------------ plans

# Each page of the qualification cartable (issue 23): its query string, the index its list
# statement must read for the directorate and for a reviewer, and whether that read may walk
# the index in the page's order from its first entry ("walk": the pages whose rows are nearly
# every row, where the walk stops after one page) rather than search a range of it.
QUALIFICATION_PAGES = {
    "all": ("?tab=all", ("qr_queue",), ("qr_queue_university",), True),
    "needs my decision": ("?tab=mine", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "waiting for the applicant": ("?tab=applicant", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "overdue tab": ("?tab=overdue", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "decided": ("?tab=decided", ("qr_queue",), ("qr_queue_university",), True),
    "state": ("?tab=all&flt0_0=submitted", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "city": ("?tab=all&flt0_1={city}", ("qr_queue_city",), ("qr_queue_city",), False),
    "field": ("?tab=all&flt0_2={field}", ("qr_queue_field",), ("qr_queue_field",), False),
    "degree": ("?tab=all&flt0_3={degree}", ("qr_queue_degree",), ("qr_queue_degree",), False),
    "submitted from": (
        "?tab=all&flt0_4=1390/01/01",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        False,
    ),
    "submitted until": (
        "?tab=all&flt0_5=1500/01/01",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        False,
    ),
    "assigned to me": ("?tab=all&flt0_6=1", ("qr_queue_reviewer",), ("qr_queue_reviewer",), False),
    "overdue": ("?tab=all&flt0_7=1", ("qr_queue_status",), ("qr_queue_university_status",), False),
    "district": ("?tab=all&flt0_8=7", ("qr_queue_district",), ("qr_queue_district",), False),
    "deep page": ("?tab=all&page=1", ("qr_queue",), ("qr_queue_university",), True),
    # (PostgreSQL walks the primary key, filtering by university: its indexes hold no id order)
    "sort by id": (
        "?tab=all&sort=0",
        ("PRIMARY KEY", "qualification_request_pkey"),
        ("qualification_request_university_id", "qualification_request_pkey"),
        True,
    ),
    "sort by state": (
        "?tab=all&sort=8",
        ("qr_queue_status", "qualification_request_status"),
        ("qr_queue_university_status",),
        True,
    ),
    "sort by submission, descending": (
        "?tab=all&sort=9&desc=1",
        ("qualification_request_submitted_at", "qualification_request_submitted_at_id"),
        ("qualification_request_university_id_submitted_at_status_id",),
        True,
    ),
    "sort by days waiting": ("?tab=all&sort=10", ("qr_waiting",), ("qr_waiting_university",), True),
    "sort by due date": (
        "?tab=all&sort=11&desc=1",
        ("qr_queue", "qualification_request_due_on"),
        ("qr_queue_university",),
        True,
    ),
}


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_qualification_cartable_reads_indexes(app, world, role):
    """Every tab, filter and sort: each statement reads an index, the list reads the one of
    its page, as a range unless the page is a walk, and no list sorts the rows it matched."""
    client = staff_client(app, world[role])
    officer = world["officers"][0]
    for label, (suffix, director, reviewer, walk) in QUALIFICATION_PAGES.items():
        suffix = suffix.format(city=world["city"].id, field=officer.field_of_study_id, degree=officer.degree_level_id)
        expected = director if role == "director" else reviewer
        assert_indexed(client, "/admin/qualification/" + suffix, "qualification_request", expected, walk=walk), label


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_search_by_national_code_reads_the_officer_index(app, world, role):
    client = staff_client(app, world[role])
    code = world["officers"][3].national_code
    for endpoint in ("qualification", "cooperation", "editrequest"):
        assert_indexed(
            client, f"/admin/{endpoint}/?search={code}", "officer", ("officer_national_code", "officer_user_code")
        )


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_cooperation_cartable_reads_indexes(app, world, role):
    client = staff_client(app, world[role])
    for suffix in (
        "",
        "?flt0_0=ended",
        "?flt0_1={university}",
        "?flt0_2=1",
        "?flt0_3=1",
        "?page=1",
        "?sort=0",
        "?sort=7",
    ):
        assert_indexed(client, "/admin/cooperation/" + suffix.format(university=world["university"].id), "cooperation")


@pytest.mark.parametrize("role", ["director", "reviewer"])
def test_edit_request_cartable_reads_indexes(app, world, role):
    client = staff_client(app, world[role])
    for suffix in ("", "?flt0_0=submitted", "?flt0_1=1", "?flt0_2=1", "?page=1", "?sort=0", "?sort=3"):
        assert_indexed(client, "/admin/editrequest/" + suffix, "edit_request")


def test_officer_pages_and_verification_read_indexes(app, world):
    officer = world["officers"][5]
    request_ = world["requests"][5]
    client = app.test_client()
    assert login(client, "/officer/login", officer.user_code).status_code == 302
    assert_indexed(client, "/officer/", "qualification_request")
    assert_indexed(client, "/officer/", "notice")
    assert_indexed(client, f"/officer/qualification/{request_.id}", "request_event")
    assert_indexed(client, f"/officer/qualification/{request_.id}", "document")
    public = app.test_client()
    assert_indexed(public, f"/verify?q={officer.national_code}", "officer", ("officer_national_code",))
    qualified = world["officers"][0]
    with db.connection_context():
        number = models.Officer.get_by_id(qualified.id).qualification_number
    assert_indexed(public, f"/verify?q={number}", "officer", ("officer_qualification_number",))


# ------------------------------------------------------------------ statements per page


@pytest.mark.parametrize("endpoint", ["qualification", "cooperation", "editrequest"])
def test_a_list_page_costs_three_statements_whatever_its_size(app, world, endpoint):
    """The session check (2), the page with its capped count (1) and one capped count per
    tab of the cartable (issue 20): no statement per row, no separate COUNT(*), no query per
    filter's options."""
    from backoffice.base import clear_options_cache

    view = view_of(app, endpoint)
    view.can_set_page_size, view.page_size_options = True, (25, 100)
    client = staff_client(app, world["director"])
    clear_options_cache()  # an entry left by an earlier test could expire in the middle of this one
    record(client, f"/admin/{endpoint}/")  # the filter options are read (once a minute), then cached
    counts = {size: len(record(client, f"/admin/{endpoint}/?page_size={size}")) for size in (25, 100)}
    budget = 3 + len(models.cartable.TABS)
    assert counts[25] == counts[100] <= budget, counts
    assert len(record(client, f"/admin/{endpoint}/?page=1&page_size=25")) <= budget


def test_the_count_is_capped_and_shown(app, world, monkeypatch):
    from backoffice import base

    monkeypatch.setattr(base, "COUNT_CAP", 10)
    client = staff_client(app, world["director"])
    html = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    assert "(10+)" in html
    monkeypatch.setattr(base, "COUNT_CAP", 10_000)
    html = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    with db.connection_context():  # the directorate's cartable leaves drafts out (issue 20)
        shown = models.QualificationRequest.select().where(models.QualificationRequest.status != "draft").count()
    assert 10 < shown < 30 and f"({shown})" in html


def test_deep_pages_and_searches_show_the_same_rows_as_a_plain_offset(app, world):
    """The deep-page rewrite (ids first, then the join) changes no row."""
    client = staff_client(app, world["director"])
    ids = []
    for page in range(3):
        html = client.get(f"/admin/qualification/?tab=all&page={page}&sort=0").get_data(as_text=True)
        ids += re.findall(r"review/\?id=(\d+)", html)
    with db.connection_context():
        # The directorate's cartable leaves drafts out (issue 20).
        expected = [
            str(r.id)
            for r in models.QualificationRequest.select()
            .where(models.QualificationRequest.status != "draft")
            .order_by(models.QualificationRequest.id)
        ]
    assert sorted(set(ids), key=int) == expected
