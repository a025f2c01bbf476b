"""The generator's distributors, branches and one cooperation per branch (most of them
active), with the nomination event of each."""

from __future__ import annotations

import datetime as dt

from columns import COOP_FIELDS, EVENT_FIELDS
from loading import stored_time

import models
from models import db


def insert_branches(
    loader, rng, *, start, span, n_branches, qualified, password_hash, cities, city_weights, reviewers, moment
):
    """Insert ``n_branches`` branches of ``n_branches / 2.5`` distributors; the officers of
    their cooperations are drawn from ``qualified`` (shuffled in place)."""
    n_distributors = max(10, int(n_branches / 2.5))
    rng.shuffle(qualified)
    pool = iter(qualified)
    coop_fields, event_fields = COOP_FIELDS, EVENT_FIELDS
    for chunk_start in range(0, n_branches, 10_000):
        distributors, branches, cooperations, events = [], [], [], []
        for branch_id in range(chunk_start + 1, min(n_branches, chunk_start + 10_000) + 1):
            distributor_id = 1 + (branch_id - 1) % n_distributors
            if branch_id <= n_distributors:
                distributors.append(
                    (
                        distributor_id,
                        f"dist{distributor_id}",
                        password_hash,
                        f"شرکت تجهیزات پزشکی {distributor_id}",
                        "company" if distributor_id % 4 else "guild",
                        "",
                        "مدیر",
                        f"0935{distributor_id:07d}",
                        True,
                        stored_time(start),
                    )
                )
            city = rng.choices(cities, city_weights)[0]
            branches.append(
                (
                    branch_id,
                    distributor_id,
                    f"شعبه {branch_id}",
                    city.province_id,
                    city.id,
                    "خیابان انقلاب، پلاک ۵",
                    True,
                    stored_time(start),
                )
            )
            officer = next(pool, None)
            if officer is None:
                continue
            roll = rng.random()
            status = (
                "active"
                if roll < 0.70
                else "ended"
                if roll < 0.85
                else "pending_university"
                if roll < 0.90
                else "pending_officer"
                if roll < 0.93
                else "rejected"
            )
            nominated = moment(start, 30, span / 86400 - 10)
            accepted = moment(nominated, 0, 5)
            decided = moment(accepted, 1, 20) if status in ("active", "ended", "rejected") else None
            university = city.university_id
            reviewer = rng.choice(reviewers[university]) if decided else None
            ended = moment(decided, 30, 400) if status == "ended" else None
            cooperations.append(
                (
                    branch_id,
                    branch_id,
                    distributor_id,
                    officer,
                    status,
                    university,
                    reviewer,
                    stored_time(nominated),
                    stored_time(nominated),
                    stored_time(accepted if status != "pending_officer" else nominated),
                    stored_time(decided),
                    stored_time(decided) if status in ("active", "ended") else None,
                    stored_time(ended),
                    "released" if ended else "",
                    "university" if status == "rejected" else "",
                    stored_time((accepted + dt.timedelta(days=14)).date()) if status == "pending_university" else None,
                )
            )
            events.append(
                (
                    "cooperation",
                    branch_id,
                    "nominate",
                    "",
                    "pending_officer",
                    "distributor",
                    distributor_id,
                    "",
                    "",
                    "",
                    university,
                    stored_time(nominated),
                )
            )
        with db.atomic():
            loader.insert(
                models.Distributor,
                [
                    "id",
                    "username",
                    "password_hash",
                    "name",
                    "kind",
                    "national_id",
                    "manager_name",
                    "manager_mobile",
                    "is_active",
                    "created_at",
                ],
                distributors,
            )
            loader.insert(
                models.Branch,
                ["id", "distributor", "name", "province", "city", "address", "is_active", "created_at"],
                branches,
            )
            loader.insert(models.Cooperation, coop_fields, cooperations)
            loader.insert(models.RequestEvent, event_fields, events)
