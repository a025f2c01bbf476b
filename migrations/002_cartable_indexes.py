"""002 -- indexes for every filter and sort of the review cartables (issue 9).

Each list the screens offer (a university's cartable ordered by submission, filtered by
state, city, field, degree or assigned reviewer; cooperations and edit requests ordered
by their last submission) reads an index in its order instead of sorting the table.
``IF NOT EXISTS``: a database whose tables ``models.create_tables()`` made with this
release's models already has them.
"""

import peewee as pw
from peewee_migrate import Migrator

INDEXES = (
    # A reviewer's cartable: their university in submission order. The state and the id are in
    # the index so that skipping to a deep page (and the "not a draft" test) reads no table row.
    (
        "qualification_request",
        "qualification_request_university_id_submitted_at_status_id",
        ("university_id", "submitted_at", "status", "id"),
    ),
    # The directorate's: the same, for every request (PostgreSQL's indexes do not hold the id).
    ("qualification_request", "qualification_request_submitted_at_id", ("submitted_at", "id")),
    ("qualification_request", "qualification_request_status_submitted_at", ("status", "submitted_at")),
    ("qualification_request", "qualification_request_city_id_submitted_at", ("city_id", "submitted_at")),
    (
        "qualification_request",
        "qualification_request_field_of_study_id_submitted_at",
        ("field_of_study_id", "submitted_at"),
    ),
    (
        "qualification_request",
        "qualification_request_degree_level_id_submitted_at",
        ("degree_level_id", "submitted_at"),
    ),
    ("qualification_request", "qualification_request_reviewer_id_submitted_at", ("reviewer_id", "submitted_at")),
    ("qualification_request", "qualification_request_status_last_submitted_at", ("status", "last_submitted_at")),
    (
        "cooperation",
        "cooperation_university_id_last_submitted_at_status",
        ("university_id", "last_submitted_at", "status"),
    ),
    ("cooperation", "cooperation_status_last_submitted_at", ("status", "last_submitted_at")),
    ("cooperation", "cooperation_reviewer_id_last_submitted_at", ("reviewer_id", "last_submitted_at")),
    ("cooperation", "cooperation_last_submitted_at", ("last_submitted_at",)),
    ("cooperation", "cooperation_started_at", ("started_at",)),
    ("cooperation", "cooperation_ended_at", ("ended_at",)),
    ("edit_request", "edit_request_university_id_last_submitted_at", ("university_id", "last_submitted_at")),
    ("edit_request", "edit_request_status_last_submitted_at", ("status", "last_submitted_at")),
    ("edit_request", "edit_request_reviewer_id_last_submitted_at", ("reviewer_id", "last_submitted_at")),
    ("edit_request", "edit_request_last_submitted_at", ("last_submitted_at",)),
)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the cartable indexes."""
    for table, name, columns in INDEXES:
        migrator.sql(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({", ".join(f"{c!r}".replace(chr(39), chr(34)) for c in columns)})'
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    for _table, name, _columns in INDEXES:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
