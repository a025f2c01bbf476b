"""Demo accounts for a fresh development database (never in production)."""

from __future__ import annotations

import secrets
from pathlib import Path

import models

DEMO_STAFF = (
    ("directorate", "directorate", None, "کارشناس اداره کل"),
    ("tehran-reviewer", "university", "دانشگاه علوم پزشکی تهران", "کارشناس دانشگاه تهران"),
    ("isfahan-reviewer", "university", "دانشگاه علوم پزشکی اصفهان", "کارشناس دانشگاه اصفهان"),
)


def create_demo_accounts(instance: Path) -> list[str]:
    """Create the demo accounts with random passwords; return the lines to print."""
    lines = ["Demo accounts (shown once; also saved in instance/demo-accounts.txt):"]
    for username, role, university_name, full_name in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        university = models.find_university(university_name) if university_name else None
        models.create_staff(username, password, role, university=university, full_name=full_name)
        lines.append(
            f"  staff ({role}{' ' + university_name if university_name else ''}): "
            f"/admin/login  user={username}  password={password}"
        )
    password = secrets.token_urlsafe(9)
    models.create_distributor(
        "demo-distributor", password, "شرکت تجهیزات پزشکی نمونه", "company", "09120000000", manager_name="مدیر نمونه"
    )
    lines.append(f"  distributor: /distributor/login  user=demo-distributor  password={password}")
    lines.append("  officers register themselves at /officer/register")
    path = instance / "demo-accounts.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return lines
