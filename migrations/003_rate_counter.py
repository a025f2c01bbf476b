"""003 -- the rate limiter's counters in the database (``RATELIMIT_STORAGE_URI=database://``),
so that a limit holds across every worker and app host (issue 9)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create the rate_counter table."""

    @migrator.create_model
    class RateCounter(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=255, unique=True)
        count = pw.BigIntegerField(default=0)
        expires_at = pw.DoubleField(index=True)

        class Meta:
            legacy_table_names = False
            table_name = "rate_counter"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop it again."""
    migrator.remove_model("rate_counter")
