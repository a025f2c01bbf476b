"""The query-plan checks of the back office's lists (issue 9, issue 23), shared by
tests/test_query_plans.py and tests/test_query_plans_queues.py: a page's statements are
recorded through the test client and each one that reads a big table is explained
(SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with the planner told to avoid what a
million rows would make dear). ``build_world`` makes the small registry they run on."""

from __future__ import annotations

import datetime as dt
import re

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


def build_world(make_officer, make_staff):
    """A small registry: 30 officers with requests in every state, cooperations, edit requests."""
    with db.connection_context():
        tehran_uni = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
        other_uni = models.University.get(models.University.name == "دانشگاه علوم پزشکی ایران")
        director = make_staff(role="directorate", username="director")
        reviewer = make_staff(university="دانشگاه علوم پزشکی تهران", username="reviewer")
        colleague = make_staff(university="دانشگاه علوم پزشکی تهران", username="colleague")
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
        branches = [
            models.Branch.create(
                distributor=distributor,
                name=f"شعبه {i}",
                province=city.province_id,
                city=city,
                address="تهران، خیابان انقلاب، پلاک ۱",
            )
            for i in range(len(officers))
        ]
        for i, officer in enumerate(officers):
            # (branches in no particular order: a branch's cooperations are not filed in the order
            # of its id, and an index on the branch must not look like a sequential read)
            branch = branches[(i * 7) % len(branches)]
            # (every state a list reads, and another university's rows: with one university
            # and three states the planner's statistics would make any index look as good)
            status = ("ended", "rejected", "pending_university", "pending_officer", "active")[i % 5]
            models.Cooperation.create(
                branch=branch,
                distributor=distributor,
                officer=officer,
                status=status,
                university=other_uni if i % 4 == 3 else tehran_uni,
                submitted_at=now,
                last_submitted_at=now - dt.timedelta(hours=i),
                # (decided by two colleagues: "assigned to me" is a part of the university's rows)
                reviewer=(reviewer if i % 2 else colleague).id
                if status not in ("pending_university", "pending_officer")
                else None,
                due_on=(now + dt.timedelta(days=5 - i)).date() if status == "pending_university" else None,
            )
            edit_status = ("approved", "rejected", "submitted", "deficient")[i % 4]
            models.EditRequest.create(
                officer=officer,
                status=edit_status,
                university=other_uni if i % 5 == 4 else tehran_uni,
                submitted_at=now - dt.timedelta(hours=i),
                last_submitted_at=now - dt.timedelta(hours=i),
                reviewer=reviewer.id if edit_status != "submitted" else None,
                due_on=(now + dt.timedelta(days=5 - i)).date() if edit_status == "submitted" else None,
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
