"""020 -- the directorate's "all" and "decided" tabs and its "days waiting" sort read
without walking past the drafts (issue 23).

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

INDEXES = (
    ("qr_queue_submitted", '("due_on", "last_submitted_at", "status")'),
    # the directorate's "days waiting" sort walked qr_waiting_status past the drafts too
    ("qr_waiting_submitted", '("last_submitted_at", "status")'),
)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the partial indexes (SQLite) and give the planner their statistics."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    for name, columns in INDEXES:
        migrator.sql(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "qualification_request" {columns} WHERE ("status" != \'draft\')'
        )
    migrator.sql('ANALYZE "qualification_request"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    for name, _columns in INDEXES:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
