"""The back-office home: the numbers a director needs to see which university is late
and why. A reviewer sees the same for their own university only."""

from __future__ import annotations

import json

import models
from models import oversight


def dashboard_numbers(staff) -> dict:
    university_id = staff.university_id if staff.role == "university" else None
    request_types = (
        ("qualification", models.QualificationRequest),
        ("editrequest", models.EditRequest),
        ("cooperation", models.Cooperation),
    )
    numbers = {"university_id": university_id, "target_days": oversight.target_working_days()}
    for name, model in request_types:
        numbers[name] = {
            "by_state": oversight.counts_by_state_and_university(model, university_id),
            "overdue": oversight.overdue(model)
            .where((model.university == university_id) if university_id else True)
            .count(),
        }
    q = models.QualificationRequest
    numbers["per_week"] = oversight.decided_per_week(q, university_id)
    numbers["percentiles"] = oversight.decision_time_percentiles(q, university_id)
    numbers["longest"] = oversight.longest_waiting(q, university_id)
    numbers["reasons"] = oversight.reasons_used(university_id)
    numbers["cooperations_per_province"] = oversight.active_cooperations_per_province(university_id)
    numbers["chart"] = json.dumps(
        {"labels": [w for w, _ in numbers["per_week"]], "values": [n for _, n in numbers["per_week"]]}
    )
    return numbers
