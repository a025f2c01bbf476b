"""021 -- PostgreSQL learns that a reviewer's requests are their university's (issue 23).

Every request a reviewer is assigned is one of their university's, but the planner takes
``reviewer_id`` and ``university_id`` for independent columns: for a reviewer's "assigned to
me" filter at a million requests it expected 84 rows where there were 6,384, read them all
through a bitmap AND and sorted them (18 ms of a 31 ms page, ``bench/RESULTS.md``) rather than
walk ``qr_queue_reviewer`` for one page (1 ms, measured with these statistics). Extended
statistics of the functional dependency between the two columns, then ``ANALYZE`` to fill
them. PostgreSQL only (SQLite has no such statistics and plans this page well). The models
create the same (``models.qualification.POSTGRES_STATISTICS``); ``IF NOT EXISTS``: a database
made by ``create_tables()`` of this release has them already.
"""

import peewee as pw
from peewee_migrate import Migrator

NAME = "qr_reviewer_university"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the statistics and fill them (PostgreSQL)."""
    if isinstance(database, pw.SqliteDatabase):
        return
    migrator.sql(
        f'CREATE STATISTICS IF NOT EXISTS "{NAME}" (dependencies) '
        'ON "reviewer_id", "university_id" FROM "qualification_request"'
    )
    migrator.sql('ANALYZE "qualification_request"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them."""
    if isinstance(database, pw.SqliteDatabase):
        return
    migrator.sql(f'DROP STATISTICS IF EXISTS "{NAME}"')
