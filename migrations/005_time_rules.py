"""005 -- the time-based rules (issue 15): ``tick_job`` (one row per job of ``flask tick``:
its lease and its last successful run), ``tick_mark`` (what a job did that must never be
done twice) and ``staff_notice`` (notices to a university's reviewers or the directorate)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the three tables."""

    @migrator.create_model
    class TickJob(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=60, unique=True)
        locked_until = pw.DateTimeField(null=True)
        locked_by = pw.CharField(default="", max_length=120)
        last_started_at = pw.DateTimeField(null=True)
        last_success_at = pw.DateTimeField(null=True)
        last_error = pw.TextField(default="")
        last_count = pw.IntegerField(default=0)
        failures = pw.IntegerField(default=0)

        class Meta:
            legacy_table_names = False
            table_name = "tick_job"

    @migrator.create_model
    class TickMark(pw.Model):
        id = pw.AutoField()
        job = pw.CharField(max_length=60)
        key = pw.CharField(max_length=120)
        at = pw.DateTimeField()

        class Meta:
            legacy_table_names = False
            table_name = "tick_mark"
            indexes = [(("job", "key"), True)]

    @migrator.create_model
    class StaffNotice(pw.Model):
        id = pw.AutoField()
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        subject = pw.CharField(max_length=200)
        body = pw.TextField()
        created_at = pw.DateTimeField(index=True)

        class Meta:
            legacy_table_names = False
            table_name = "staff_notice"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    for table in ("staff_notice", "tick_mark", "tick_job"):
        migrator.remove_model(table)
