"""Numbers for the back-office home page, each from one aggregate query, in scope."""
from __future__ import annotations

from peewee import fn

import models
from models import QualificationRequest


def dashboard_numbers(staff) -> dict:
    query = QualificationRequest.select(QualificationRequest.status, fn.COUNT(QualificationRequest.id).alias("n"))
    if staff.role == "university":
        query = query.where(QualificationRequest.university == staff.university_id)
    by_status = {row.status: row.n for row in query.group_by(QualificationRequest.status)}
    return {"by_status": by_status,
            "officers": models.Officer.select().count() if staff.role == "directorate" else None}
