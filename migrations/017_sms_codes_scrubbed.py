"""017 -- one-time codes that stayed in clear in the SMS outbox (issue 17, finding M2).

Migration 007 made an SMS a template and its parameters, with the code masked in ``text``
and wiped from ``params`` once the message has left. The rows queued before it kept their
whole text, code included, and so does any backup of them. Here each row whose text is one
of the code messages gets the code masked: its text, and its template and parameters as
007 writes a message whose code was wiped, so the back office shows it masked and cannot
send it again. A row still waiting is given up (its code expired long ago; a new one is a
click away). A row of 007's kind that left the outbox with its code still in ``params``
(a crash between the send and the wipe) is wiped too.

Data only, no schema: safe on a database made by create_tables() of this release and safe
to run again. The messages are the ones this project has sent with a code, in English and
in Persian, frozen here as they were (a later change of wording must not change what this
migration did). ``flask init-db`` masks the same codes in the old SMS log file.
"""

import json
import re

import peewee as pw
from peewee_migrate import Migrator

MASK = "••••••"
DIGITS = "[0-9۰-۹٠-٩]{4,8}"
# (the message id, the text just before the code in each language it was sent in)
CODE_MESSAGES = (
    (
        "Your password recovery code: %(code)s. It is valid for 10 minutes.",
        ("Your password recovery code: ", "کد بازیابی گذرواژه شما: "),
    ),
    (
        "Your registration code: %(code)s. It is valid for 10 minutes. Do not give it to anyone.",
        ("Your registration code: ", "کد ثبت‌نام شما: "),
    ),
    (
        "Your code to confirm this number as your mobile: %(code)s. It is valid for 10 minutes.",
        ("Your code to confirm this number as your mobile: ", "کد تأیید این شماره به عنوان شماره همراه شما: "),
    ),
    (
        "Your code to confirm this number as the distributor manager's mobile: %(code)s. It is valid for 10 minutes.",
        (
            "Your code to confirm this number as the distributor manager's mobile: ",
            "کد تأیید این شماره به‌عنوان همراه مدیر توزیع‌کننده: ",
        ),
    ),
)
PATTERNS = tuple(
    (msgid, re.compile("(" + "|".join(re.escape(p) for p in prefixes) + ")" + DIGITS))
    for msgid, prefixes in CODE_MESSAGES
)
GIVEN_UP = "its one-time code was masked by migration 017 before it was sent"


def masked(text: str):
    """(the text with its code masked, the message id) or (text, None) for other messages."""
    for msgid, pattern in PATTERNS:
        new, count = pattern.subn(lambda m: m.group(1) + MASK, text)
        if count:
            return new, msgid
    return text, None


def _scrub(database):
    p = database.param
    rows = database.execute_sql('SELECT "id", "text", "msgid", "params", "status" FROM "sms_outbox"').fetchall()
    for row_id, text, msgid, params, status in rows:
        if not msgid:
            new_text, code_msgid = masked(text or "")
            if code_msgid is None:
                continue
            update = {"text": new_text, "msgid": code_msgid, "params": json.dumps({"code": MASK}, ensure_ascii=False)}
            if status == "pending":
                update.update(status="failed", last_error=GIVEN_UP)
        else:
            values = json.loads(params) if params else {}
            if status == "pending" or values.get("code", MASK) == MASK:
                continue
            update = {"params": json.dumps({**values, "code": MASK}, ensure_ascii=False)}
        assignments = ", ".join(f'"{column}" = {p}' for column in update)
        database.execute_sql(
            f'UPDATE "sms_outbox" SET {assignments} WHERE "id" = {p}',  # noqa: S608 - fixed column names
            (*update.values(), row_id),
        )


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Mask the codes kept in clear."""
    migrator.run(_scrub, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Nothing to undo: a masked code is gone for good, as it should be."""
