"""Persian column and form labels for every model field the back office shows. An
officer's fields are labelled as everywhere else (``web.labels.FIELD_LABELS``, from the
domain's field table); the columns of other tables are listed here."""
from flask_babel import lazy_gettext as _l

from web.labels import FIELD_LABELS

COLUMN_LABELS = dict(FIELD_LABELS, **{
    "id": _l("Number"), "status": _l("Status"), "officer": _l("Officer"), "university": _l("University"),
    "reviewer": _l("Reviewer"),
    "created_at": _l("Created"), "submitted_at": _l("Submitted"), "last_submitted_at": _l("Last submitted"),
    "decided_at": _l("Decided"), "decision_note": _l("Note"), "reject_reason": _l("Reason for rejection"),
    "applicant_comment": _l("Applicant's comment"), "qualification_number": _l("Qualification number"),
    "qualified_at": _l("Qualified on"), "due_on": _l("Decision due"), "clock_used_days": _l("Working days used"),
    "user_code": _l("User code"), "is_active": _l("Active"), "legacy": _l("Migrated"),
    "username": _l("User name"), "full_name": _l("Full name"), "role": _l("Role"),
    "name": _l("Name"), "name_en": _l("English name"), "code": _l("Code"), "eligible": _l("Eligible"),
    "rank": _l("Rank"), "required": _l("Required"), "sort_order": _l("Order"),
    "kind": _l("Kind"), "national_id": _l("National ID"), "manager_name": _l("Manager"),
    "manager_mobile": _l("Manager's mobile"), "distributor": _l("Distributor"), "branch": _l("Branch"),
    "started_at": _l("Started"), "ended_at": _l("Ended"), "end_reason": _l("End reason"),
    "officer_note": _l("Officer's note"), "rejected_by": _l("Rejected by"),
    "subject": _l("Subject"), "body": _l("Text"), "audience": _l("Recipients"), "sender": _l("Sender"),
    "to": _l("Recipient"), "text": _l("Text"), "attempts": _l("Attempts"), "last_error": _l("Last error"),
    "sent_at": _l("Sent"), "next_attempt_at": _l("Next attempt"), "at": _l("Time"),
    "actor_kind": _l("Actor kind"), "actor_name": _l("Actor"), "ip": _l("Address"), "action": _l("Action"),
    "object_type": _l("Object"), "object_id": _l("Object number"), "detail": _l("Details"),
    "key": _l("Setting"), "value": _l("Value"), "date": _l("Date"), "new_password": _l("New password"),
    "waiting": _l("Days waiting"), "read": _l("Read by"),
})
