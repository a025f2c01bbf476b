"""What a cell of the access matrix expects of each role: a status, a redirect to a login
page, or only "no server error"; and the cell itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from security_world import ROLES

# ---------------------------------------------------------------------- expectations

OK = 200
OFFICER_LOGIN = "login:/officer/login"
DISTRIBUTOR_LOGIN = "login:/distributor/login"
ADMIN_LOGIN = "login:/admin/login"
NOT_5XX = "not-5xx"


def redirect_to(prefix):
    return f"redirect:{prefix}"


@dataclass
class Cell:
    endpoint: str
    method: str
    url: str
    expect: dict  # role -> expectation
    body: dict = field(default_factory=dict)  # the hostile body sent when the role is refused
    # delete and bulk actions: even an allowed role's request must change nothing
    never_changes: bool = False
    # logout and language switch: run last, they change the client's own session
    last: bool = False
    # what an allowed role sends (default: an empty form, which must not crash)
    allowed_body: dict | None = None


def everyone(value):
    return {role: value for role in ROLES}


def officer_only(officer=OK, other_officer=OK):
    return {**everyone(OFFICER_LOGIN), "officer": officer, "other_officer": other_officer}


def distributor_only(distributor=OK, other_distributor=OK):
    return {**everyone(DISTRIBUTOR_LOGIN), "distributor": distributor, "other_distributor": other_distributor}
