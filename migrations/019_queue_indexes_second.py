"""019 -- two more of the qualification cartable's lists read in queue order (issue 23).

Measured at a million requests (``bench/RESULTS.md``): the directorate's "days waiting"
sort walked ``qr_waiting`` (``last_submitted_at`` alone) from its start, where the drafts
(never submitted, no date) sit, and read each draft's row to learn it was one: 31 ms a page.
With the state in the index the drafts are skipped in the index. A reviewer's district
filter read every request of that district of every university to keep their own (19 ms);
the university first makes it a range. The model declares the same
(``models.qualification.QUEUE_INDEXES``); ``IF NOT EXISTS``: a database made by
``create_tables()`` of this release has them already.

Then the planner's statistics of the three cartables' tables (``ANALYZE``): SQLite plans
with ``sqlite_stat1``, which knows nothing of an index created after the last ``ANALYZE``,
and took the new district index for a reviewer's whole list (37 ms a page instead of 3, at a
million requests, measured). The indexes of 016 get their statistics here too.
"""

import peewee as pw
from peewee_migrate import Migrator

INDEXES = (
    ("qr_waiting_status", ("last_submitted_at", "status")),
    ("qr_queue_university_district", ("university_id", "district", "due_on", "last_submitted_at")),
)
REPLACED = (("qr_waiting", ("last_submitted_at",)),)
ANALYZED = ("qualification_request", "cooperation", "edit_request")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the two indexes, drop the one the first replaces."""
    for name, columns in INDEXES:
        listed = ", ".join(f'"{column}"' for column in columns)
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "qualification_request" ({listed})')
    for name, _columns in REPLACED:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
    for table in ANALYZED:
        migrator.sql(f'ANALYZE "{table}"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Put the replaced index back, drop the two."""
    for name, columns in REPLACED:
        listed = ", ".join(f'"{column}"' for column in columns)
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "qualification_request" ({listed})')
    for name, _columns in INDEXES:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
