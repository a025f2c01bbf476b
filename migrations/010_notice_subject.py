"""010 -- a decision notice names the request it is about (issue 20), so the officer's
inbox links to it. Notices written before stay without a link."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the request's type and id to the notice."""
    # An adopted database (made by create_tables() of this release) has them already; a fake
    # run (the router replaying it to learn the models) queries nothing.
    present = set() if fake else {c.name for c in database.get_columns("notice")}
    fields = {"request_type": pw.CharField(max_length=20, default=""), "request_id": pw.IntegerField(null=True)}
    missing = {name: field for name, field in fields.items() if name not in present}
    if missing:
        migrator.add_fields("notice", **missing)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_fields("notice", "request_type", "request_id")
