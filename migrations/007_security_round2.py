"""007 -- security, second round (issue 17).

* ``sms_outbox.msgid`` and ``params``: an SMS is kept as a message template and its
  parameters, rendered when it is sent; ``text`` holds the masked copy people may read
  (finding M2).
* ``branch.public_token`` and ``officer.verification_token``: the public branch page and
  the certificate's QR code are addressed by unguessable tokens, not sequential ids (L1).
  Existing rows get theirs here.
"""

import secrets

import peewee as pw
from peewee_migrate import Migrator


def _fill_tokens(database, table, where=""):
    rows = database.execute_sql(f"SELECT id FROM {table} {where}").fetchall()  # noqa: S608 - fixed names
    column = "public_token" if table == "branch" else "verification_token"
    for (row_id,) in rows:
        database.execute_sql(
            f"UPDATE {table} SET {column} = %s WHERE id = %s".replace("%s", database.param),  # noqa: S608
            (secrets.token_urlsafe(16), row_id),
        )


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the columns and give existing branches and qualified officers their tokens."""
    # An adopted database (made by create_tables() of this release) has the columns already; a
    # fake run (the router replaying it to learn the models) queries nothing.
    columns = {
        "sms_outbox": {"msgid": pw.TextField(default=""), "params": pw.TextField(default="")},
        "branch": {"public_token": pw.CharField(max_length=32, null=True, unique=True)},
        "officer": {"verification_token": pw.CharField(max_length=32, null=True, unique=True)},
    }
    for table, fields in columns.items():
        present = set() if fake else {c.name for c in database.get_columns(table)}
        missing = {name: field for name, field in fields.items() if name not in present}
        if missing:
            migrator.add_fields(table, **missing)
    migrator.run(_fill_tokens, database, "branch")
    migrator.run(_fill_tokens, database, "officer", "WHERE qualified_at IS NOT NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop the columns again."""
    migrator.remove_fields("officer", "verification_token")
    migrator.remove_fields("branch", "public_token")
    migrator.remove_fields("sms_outbox", "msgid", "params")
