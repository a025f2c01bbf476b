"""016 -- the cooperation and edit-request cartables read in queue order (issue 23).

Migration 013 gave the qualification cartable its queue-order indexes; the cooperation and
edit-request cartables list in the same order (``models.cartable.queue_order``: the nearest
due date, then the longest waiting) but kept migration 002's indexes, which follow the last
submission: every tab and filter sorted all the rows it matched, and a university's sorts
by start, end or submission read the whole university and sorted it. Each index below
serves one tab, filter or sort from the first row of its range; the models declare the same
(``models.cooperation.QUEUE_INDEXES``, ``models.edit_requests.QUEUE_INDEXES``).
``IF NOT EXISTS``: a database made by ``create_tables()`` of this release has them already.
"""

import peewee as pw
from peewee_migrate import Migrator

INDEXES = (
    ("cooperation", "co_queue", ("due_on", "last_submitted_at", "status")),
    ("cooperation", "co_queue_status", ("status", "due_on", "last_submitted_at")),
    ("cooperation", "co_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("cooperation", "co_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    ("cooperation", "co_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    ("cooperation", "co_started_university", ("university_id", "started_at")),
    ("cooperation", "co_ended_university", ("university_id", "ended_at")),
    ("edit_request", "er_queue", ("due_on", "last_submitted_at", "status")),
    ("edit_request", "er_queue_status", ("status", "due_on", "last_submitted_at")),
    ("edit_request", "er_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("edit_request", "er_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    ("edit_request", "er_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    ("edit_request", "er_submitted_university", ("university_id", "submitted_at")),
)


# A university's cooperations waiting on it (the model says why it is partial).
WAITING = ("cooperation", "co_waiting_university", ("university_id", "due_on", "last_submitted_at"))
WAITING_WHERE = "\"status\" IN ('pending_university')"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the queue-order indexes of the cooperation and edit-request cartables."""
    for table, name, columns in INDEXES:
        listed = ", ".join(f'"{column}"' for column in columns)
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({listed})')
    table, name, columns = WAITING
    listed = ", ".join(f'"{column}"' for column in columns)
    migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({listed}) WHERE {WAITING_WHERE}')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    for _table, name, _columns in (*INDEXES, WAITING):
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
