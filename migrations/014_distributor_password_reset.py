"""014 -- distributors recover their password by SMS too (issue 16): a reset code names
either an officer or a distributor, so ``password_reset.officer_id`` may be empty and
``password_reset.distributor_id`` is added (indexed, like the officer's)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the distributor's column and let the officer's be empty."""
    # An adopted database (made by create_tables() of this release) has both already; a fake
    # run (the router replaying it to learn the models) queries nothing.
    columns = {} if fake else {c.name: c for c in database.get_columns("password_reset")}
    if fake or "distributor_id" not in columns:
        migrator.add_fields(
            "password_reset",
            distributor=pw.ForeignKeyField(
                column_name="distributor_id",
                field="id",
                model=migrator.orm["distributor"],
                null=True,
                on_delete="RESTRICT",
            ),
        )
    # On SQLite this copies the table (nothing refers to password_reset, so that is allowed).
    if fake or not columns["officer_id"].null:
        migrator.drop_not_null("password_reset", "officer")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Forget the distributors' codes and make the officer's column required again."""
    migrator.sql("DELETE FROM password_reset WHERE officer_id IS NULL")
    migrator.remove_fields("password_reset", "distributor")
    migrator.add_not_null("password_reset", "officer")
