"""The audit log: logins, failures, denials, decisions and data changes, read by the
directorate. Every operation writes its row inside its own transaction."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel, utcnow


class AuditLog(BaseModel):
    """One audited event."""

    at = DateTimeField(default=utcnow, index=True)
    actor_kind = CharField(max_length=12)
    actor_id = IntegerField(null=True)
    actor_name = CharField(max_length=120, default="")
    ip = CharField(max_length=45, default="")
    action = CharField(max_length=60, index=True)
    object_type = CharField(max_length=40, default="")
    object_id = IntegerField(null=True)
    detail = TextField(default="")

    class Meta:
        table_name = "audit_log"
        indexes = ((("object_type", "object_id"), False),)


def _one_line(text: str) -> str:
    # A log line must not be forged by a CR/LF inside a user-supplied value.
    return str(text).replace("\r", " ").replace("\n", " ")[:1000]


def audit(actor, action: str, obj=None, detail: str = "", object_type: str = "", object_id=None):
    """Write one audit row; inside the caller's transaction when there is one."""
    return AuditLog.create(
        actor_kind=getattr(actor, "kind", "system"),
        actor_id=getattr(actor, "id", None),
        actor_name=_one_line(getattr(actor, "name", ""))[:120],
        ip=getattr(actor, "ip", None) or "",
        action=action,
        object_type=object_type or (type(obj).__name__.lower() if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=_one_line(detail),
    )


def describe_changes(model, before: dict, after: dict) -> str:
    """``field: old → new; ...`` for every field of ``model`` whose value differs between
    two ``__data__`` dicts (a foreign key shown by the row's name when it has one)."""

    def shown(field, value):
        if value is None or value == "":
            return "—"
        if isinstance(field, ForeignKeyField):
            row = field.rel_model.get_or_none(field.rel_model._meta.primary_key == value)
            return str(getattr(row, "name", value)) if row is not None else str(value)
        return str(value)

    parts = []
    for name, field in model._meta.fields.items():
        old, new = before.get(name), after.get(name)
        if old != new:
            parts.append(f"{name}: {shown(field, old)} → {shown(field, new)}")
    return "; ".join(parts)
