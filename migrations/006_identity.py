"""006 -- identity you can trust (issue 16): registrations and mobile changes waiting for
their SMS code, the directorate's corrections of locked fields (four eyes), the claims of
people whose national code someone else registered, and the qualification's hold
(suspended or revoked) on the officer."""

import datetime as dt

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the three tables and add officer.qualification_hold."""

    @migrator.create_model
    class MobileVerification(pw.Model):
        id = pw.AutoField()
        token = pw.CharField(max_length=64, unique=True)
        purpose = pw.CharField(max_length=20)
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], null=True, on_delete="CASCADE"
        )
        national_code = pw.CharField(index=True, max_length=10)
        mobile = pw.CharField(max_length=11)
        payload = pw.TextField(default="{}")
        password_hash = pw.CharField(default="", max_length=255)
        code_hash = pw.CharField(max_length=64)
        attempts = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=dt.datetime.now)
        expires_at = pw.DateTimeField(index=True)
        confirmed_at = pw.DateTimeField(null=True)
        ip = pw.CharField(default="", max_length=45)

        class Meta:
            legacy_table_names = False
            table_name = "mobile_verification"

    @migrator.create_model
    class IdentityClaim(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        national_code = pw.CharField(max_length=10)
        mobile = pw.CharField(max_length=11)
        first_name = pw.CharField(max_length=60)
        last_name = pw.CharField(max_length=80)
        status = pw.CharField(default="pending", index=True, max_length=10)
        created_at = pw.DateTimeField(default=dt.datetime.now)
        resolved_by = pw.ForeignKeyField(
            column_name="resolved_by_id",
            field="id",
            model=migrator.orm["staff_user"],
            null=True,
            on_delete="RESTRICT",
            backref="+",
        )
        resolved_at = pw.DateTimeField(null=True)
        note = pw.TextField(default="")

        class Meta:
            legacy_table_names = False
            table_name = "identity_claim"

    @migrator.create_model
    class IdentityCorrection(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        proposed_by = pw.ForeignKeyField(
            column_name="proposed_by_id",
            field="id",
            model=migrator.orm["staff_user"],
            on_delete="RESTRICT",
            backref="+",
        )
        changes = pw.TextField()
        previous = pw.TextField()
        reason = pw.TextField()
        status = pw.CharField(default="pending", index=True, max_length=10)
        decided_by = pw.ForeignKeyField(
            column_name="decided_by_id",
            field="id",
            model=migrator.orm["staff_user"],
            null=True,
            on_delete="RESTRICT",
            backref="+",
        )
        decided_at = pw.DateTimeField(null=True)
        decision_reason = pw.TextField(default="")
        created_at = pw.DateTimeField(default=dt.datetime.now)

        class Meta:
            legacy_table_names = False
            table_name = "identity_correction"

    # One ALTER TABLE on both databases: peewee-migrate's add_fields would rebuild the table
    # on SQLite to make the column NOT NULL, which the foreign keys to officer refuse.
    # An adopted database (made by create_tables() of a later release) has the column already.
    # (A fake run, the router replaying it to learn the models, queries nothing.)
    if fake or "qualification_hold" not in {c.name for c in database.get_columns("officer")}:
        migrator.sql("ALTER TABLE officer ADD COLUMN qualification_hold VARCHAR(10) NOT NULL DEFAULT ''")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.sql("ALTER TABLE officer DROP COLUMN qualification_hold")
    migrator.remove_model("identity_correction")
    migrator.remove_model("identity_claim")
    migrator.remove_model("mobile_verification")
