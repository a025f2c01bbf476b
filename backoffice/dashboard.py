"""The back-office home: the numbers a director needs to see which university is late
and why. A reviewer sees the same for their own university only."""

from __future__ import annotations

import datetime
import json

import models
import persian
from models import dashboards, legacy_claim, legacy_followup, sla, staff_notices, time_rules


def dashboard_numbers(staff) -> dict:
    university_id = staff.university_id if staff.role == "university" else None
    numbers = {
        "university_id": university_id,
        "target_days": sla.target_working_days(),
        "request_types": models.REVIEWED_TYPES,
    }
    in_scope = (lambda model: model.university == university_id) if university_id else (lambda model: True)
    for model in models.REVIEWED_TYPES:
        numbers[model.REQUEST_TYPE] = {
            "by_state": dashboards.counts_by_state_and_university(model, university_id),
            "overdue": sla.overdue(model).where(in_scope(model)).count(),
            "escalated": time_rules.escalated(model).where(in_scope(model)).count(),
        }
    numbers["vacancies"] = time_rules.vacancies(models.utcnow(), university_id=university_id)
    numbers["staff_notices"] = staff_notices.notices_for(staff.as_actor(), limit=10)
    # Contracts migrated officers say are wrong (issue 18): a university sees its own.
    numbers["legacy_disputes"] = legacy_claim.open_disputes(university_id)
    q = models.QualificationRequest
    # Week starts in the Jalali calendar, like every date of the back office.
    numbers["per_week"] = [
        (persian.format_jalali_date(datetime.date.fromisoformat(week)), n)
        for week, n in dashboards.decided_per_week(q, university_id)
    ]
    numbers["percentiles"] = dashboards.decision_time_percentiles(q, university_id)
    numbers["longest"] = dashboards.longest_waiting(q, university_id)
    numbers["reasons"] = dashboards.reasons_used(university_id)
    numbers["cooperations_per_province"] = dashboards.active_cooperations_per_province(university_id)
    numbers["officer_elsewhere"] = dashboards.branches_with_officer_elsewhere(university_id)
    if university_id is None:
        # Migrated working officers still to file a qualification request (issue 18).
        numbers["legacy_left_per_province"] = legacy_followup.left_per_province()
        numbers["legacy_deadline"] = legacy_followup.qualification_deadline()
    numbers["chart"] = json.dumps(
        {"labels": [w for w, _ in numbers["per_week"]], "values": [n for _, n in numbers["per_week"]]}
    )
    return numbers
