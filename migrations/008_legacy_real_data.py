"""008 -- legacy migration of real data (issue 18): a migrated officer may lack a place, a
field or a degree (filled in at the first login), and carries the flags of what is still
to do (complete the profile, change a weak password, file a qualification request)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Allow the missing references and add the flags."""
    # On SQLite this rebuilds the table: models.migrations switches the foreign keys off around it.
    migrator.drop_not_null("officer", "province", "city", "field_of_study", "degree_level")
    # A database made by create_tables() of this release and adopted (models.migrations)
    # has the columns already: add only the missing ones.
    # (A fake run, the router replaying it to learn the models, queries nothing.)
    present = set() if fake else {c.name for c in database.get_columns("officer")}
    fields = {
        "profile_incomplete": pw.BooleanField(default=False),
        "must_change_password": pw.BooleanField(default=False),
        "qualification_due": pw.BooleanField(default=False, index=True),
        "qualification_reminders": pw.IntegerField(default=0),
    }
    missing = {name: field for name, field in fields.items() if name not in present}
    if missing:
        migrator.add_fields("officer", **missing)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop the flags; the references become required again (fails if a null is left)."""
    migrator.remove_fields(
        "officer", "profile_incomplete", "must_change_password", "qualification_due", "qualification_reminders"
    )
    migrator.add_not_null("officer", "province", "city", "field_of_study", "degree_level")
