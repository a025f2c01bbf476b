"""018 -- claim and confirm (issue 18): when a migrated officer confirmed what came over
from the old system, and the contracts such an officer disputed (told to the university
of the contract's branch)."""

import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create legacy_dispute and add officer.legacy_confirmed_at."""

    # create_table is safe: an adopted database (made by create_tables() of this release)
    # has the table already.
    @migrator.create_model
    class LegacyDispute(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT", backref="+"
        )
        cooperation = pw.ForeignKeyField(
            column_name="cooperation_id",
            field="id",
            model=migrator.orm["cooperation"],
            on_delete="RESTRICT",
            backref="+",
        )
        university = pw.ForeignKeyField(
            column_name="university_id",
            field="id",
            model=migrator.orm["university"],
            null=True,
            on_delete="RESTRICT",
            backref="+",
        )
        reason = pw.TextField()
        created_at = pw.DateTimeField(default=dt.datetime.now, index=True)

        class Meta:
            legacy_table_names = False
            table_name = "legacy_dispute"
            indexes = [(("cooperation",), True)]

    # A nullable column: one ALTER TABLE, no table rebuild on SQLite. An adopted database
    # has the column already; a fake run queries nothing.
    present = set() if fake else {c.name for c in database.get_columns("officer")}
    if "legacy_confirmed_at" not in present:
        migrator.add_fields("officer", legacy_confirmed_at=pw.DateTimeField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_fields("officer", "legacy_confirmed_at")
    migrator.remove_model("legacy_dispute")
