"""010 -- a decision notice names the request it is about (issue 20), so the officer's
inbox links to it. Notices written before stay without a link."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the request's type and id to the notice."""
    migrator.add_fields(
        "notice",
        request_type=pw.CharField(max_length=20, default=""),
        request_id=pw.IntegerField(null=True),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_fields("notice", "request_type", "request_id")
