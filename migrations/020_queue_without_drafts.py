"""020 -- the directorate's "all" tab read without walking past the drafts (issue 23).

The tab lists every request but drafts in queue order (``due_on``, then
``last_submitted_at``). SQLite sorts the undated first, and a draft has neither date: the
walk of ``qr_queue`` began by reading past every draft's index entry, 2.2 of the page's
2.4 ms at a million requests (measured, ``bench/RESULTS.md``). The same index without the
drafts (a partial index on the tab's own condition, ``status != 'draft'``, which SQLite
matches to the query) starts at the first request the tab shows. On SQLite only:
PostgreSQL sorts the undated last and its walk already starts where the tab does, and on
small tables its planner would take the partial index for lists that have a range of
their own. The models create the same (``models.qualification.SQLITE_INDEXES``); ``IF NOT
EXISTS``: a database made by ``create_tables()`` of this release has it already. Then
``ANALYZE`` (see 019).
"""

import peewee as pw
from peewee_migrate import Migrator

NAME = "qr_queue_submitted"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the partial index (SQLite) and give the planner its statistics."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    migrator.sql(
        f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "qualification_request" ("due_on", "last_submitted_at", "status") '
        "WHERE (\"status\" != 'draft')"
    )
    migrator.sql('ANALYZE "qualification_request"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop it."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    migrator.sql(f'DROP INDEX IF EXISTS "{NAME}"')
