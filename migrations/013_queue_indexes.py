"""013 -- the cartable's lists read in queue order (issue 23).

Since issue 20 a cartable lists its requests in queue order (the nearest due date, then the
longest waiting), while migration 002's indexes follow the submission time: every tab and
filter sorted all the rows it matched, and the directorate's "overdue" filter walked the
whole submission-time index to find rows filed last (1.2 s a page at a million requests).
Each index below serves one tab, filter or sort from the first row of its range; the model
declares the same (``models.qualification.QUEUE_INDEXES``). ``IF NOT EXISTS``: a database
made by ``create_tables()`` of this release has them already.
"""

import peewee as pw
from peewee_migrate import Migrator

INDEXES = (
    ("qr_queue", ("due_on", "last_submitted_at", "status")),
    ("qr_queue_status", ("status", "due_on", "last_submitted_at")),
    ("qr_queue_university", ("university_id", "due_on", "last_submitted_at", "status")),
    ("qr_queue_university_status", ("university_id", "status", "due_on", "last_submitted_at")),
    ("qr_queue_city", ("city_id", "due_on", "last_submitted_at")),
    ("qr_queue_district", ("district", "due_on", "last_submitted_at")),
    ("qr_queue_field", ("field_of_study_id", "due_on", "last_submitted_at")),
    ("qr_queue_degree", ("degree_level_id", "due_on", "last_submitted_at")),
    ("qr_queue_reviewer", ("reviewer_id", "due_on", "last_submitted_at")),
    ("qr_waiting", ("last_submitted_at",)),
    ("qr_waiting_university", ("university_id", "last_submitted_at")),
)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the queue-order indexes of the qualification cartable."""
    for name, columns in INDEXES:
        listed = ", ".join(f'"{column}"' for column in columns)
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "qualification_request" ({listed})')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    for name, _columns in INDEXES:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
