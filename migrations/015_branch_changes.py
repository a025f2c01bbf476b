"""015 -- branches change (issue 15): a closed branch keeps when and why it was closed; a
pending mobile verification may be a distributor manager's (no officer, no national code); a
holiday says whether it was entered by hand or loaded from the ``holidays`` package."""

import peewee as pw
from peewee_migrate import Migrator


def _missing(database, table, fields, fake):
    # An adopted database (made by create_tables() of this release) has them already; a fake
    # run (the router replaying it to learn the models) queries nothing.
    present = set() if fake else {c.name for c in database.get_columns(table)}
    column = {name: f"{name}_id" if isinstance(field, pw.ForeignKeyField) else name for name, field in fields.items()}
    return {name: field for name, field in fields.items() if column[name] not in present}


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the branch's closing time and reason, the verification's distributor, the holiday's source."""
    branch = _missing(
        database, "branch", {"closed_at": pw.DateTimeField(null=True), "close_reason": pw.TextField(default="")}, fake
    )
    if branch:
        migrator.add_fields("branch", **branch)
    distributor = pw.ForeignKeyField(
        column_name="distributor_id",
        field="id",
        model=migrator.orm["distributor"],
        null=True,
        on_delete="CASCADE",
        index=True,
        backref="+",
    )
    verification = _missing(database, "mobile_verification", {"distributor": distributor}, fake)
    if verification:
        migrator.add_fields("mobile_verification", **verification)
    holiday = _missing(database, "holiday", {"source": pw.CharField(max_length=20, default="")}, fake)
    if holiday:
        migrator.add_fields("holiday", **holiday)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_fields("holiday", "source")
    migrator.remove_fields("mobile_verification", "distributor")
    migrator.remove_fields("branch", "closed_at", "close_reason")
