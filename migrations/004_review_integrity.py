"""004 -- review integrity (issue 14): every reviewed request carries a version (a
decision made on an out-of-date page changes nothing), and a qualification request keeps
the name it was filed with, next to the place, field and degree it already kept."""

import peewee as pw
from peewee_migrate import Migrator

REVIEWED_TABLES = ("qualification_request", "edit_request", "cooperation")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the version columns and the name snapshot; fill the snapshot of the requests
    already filed from their officer (their names could not change since: the profile
    page is the only route, and it is frozen from this release on)."""

    # A database the previous release made with create_tables() and adopted at 001 may
    # already have them: add only what is missing.
    def missing(table, **fields):
        # (a fake run only replays the schema's history, on a stand-in database)
        present = set() if fake else {column.name for column in database.get_columns(table)}
        return {name: field for name, field in fields.items() if name not in present}

    for table in REVIEWED_TABLES:
        fields = missing(table, version=pw.IntegerField(default=0))
        if fields:
            migrator.add_fields(table, **fields)
    fields = missing(
        "qualification_request",
        first_name=pw.CharField(max_length=60, null=True),
        last_name=pw.CharField(max_length=80, null=True),
    )
    if fields:
        migrator.add_fields("qualification_request", **fields)
    migrator.sql(
        "UPDATE qualification_request SET"
        " first_name = (SELECT o.first_name FROM officer o WHERE o.id = qualification_request.officer_id),"
        " last_name = (SELECT o.last_name FROM officer o WHERE o.id = qualification_request.officer_id)"
        " WHERE status IN ('submitted', 'deficient', 'approved')"
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_fields("qualification_request", "first_name", "last_name")
    for table in REVIEWED_TABLES:
        migrator.remove_fields(table, "version")
