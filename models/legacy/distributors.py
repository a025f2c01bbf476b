"""The first two phases: ``distributors.csv``, then ``branches.csv``, whose rows name a distributor.

Contract: a distributor is known by its legacy id and is already present when a
distributor with that legacy id *and* user name exists; a branch is known by its
legacy id and is refused when its distributor was refused or is missing. A distributor
without a manager mobile, or a branch with a short address, is imported with a warning. Both
phases publish their legacy ids (accepted and refused) in their ``outcome``.
"""

from __future__ import annotations

from persian import digits_only, normalize_mobile, normalize_text

from ..accounts import Distributor
from ..base import N_
from ..cooperation import Branch
from .cleaning import WARNING, clean_row, resolve_places
from .files import BRANCHES, DISTRIBUTORS, plain_key
from .passwords import password_job
from .phase import Candidate, Checked, Context, Outcome, Phase, Refusal, insert_rows, select_in
from .report import Problem

_KINDS = {"company": "company", "guild": "guild", "شرکت": "company", "صنف": "guild"}


def legacy_id_problems(phase: Phase, legacy_id: str) -> list:
    """A distributor's or branch's legacy id: present, at most 40 characters, unique in its file."""
    if not legacy_id or len(legacy_id) > 40:
        return [
            Problem("legacy_id", "invalid_legacy_id", N_("The legacy id is missing or longer than 40 characters."), {})
        ]
    dup = phase.duplicate_problem(
        "legacy_id", legacy_id, N_("Several rows have this legacy id (lines %(lines)s); none of them was imported.")
    )
    return [dup] if dup else []


class DistributorPhase(Phase):
    file = DISTRIBUTORS
    hashes = True

    def validate(self, line, row):
        legacy_id = plain_key(row["legacy_id"])
        problems = legacy_id_problems(self, legacy_id)
        username = row["username"].strip()
        if not username or len(username) > 60:
            problems.append(
                Problem(
                    "username", "invalid_username", N_("The user name is missing or longer than 60 characters."), {}
                )
            )
        else:
            dup = self.duplicate_problem(
                "username",
                username,
                N_("Several rows have this user name (lines %(lines)s); none of them was imported."),
            )
            if dup:
                problems.append(dup)
        name = normalize_text(row["name"])
        if not 2 <= len(name) <= 200:
            problems.append(
                Problem("name", "invalid_name", N_("Write the distributor's name (2 to 200 characters)."), {})
            )
        kind = _KINDS.get(normalize_text(row["kind"]).lower())
        if kind is None:
            problems.append(Problem("kind", "invalid_kind", N_("The kind must be company or guild (شرکت or صنف)."), {}))
        national_id = digits_only(row["national_id"])
        if len(national_id) > 20 or (national_id and not national_id.isdigit()):
            problems.append(
                Problem("national_id", "invalid_national_id", N_("The national id has at most 20 digits."), {})
            )
        manager_name = normalize_text(row["manager_name"])[:120]
        mobile = normalize_mobile(row["manager_mobile"])
        warnings = []
        if not mobile:
            # Imported without it: the distributor is asked for it at the first login.
            warnings.append(
                Problem(
                    "manager_mobile",
                    "missing_manager_mobile" if not normalize_text(row["manager_mobile"]) else "invalid_manager_mobile",
                    N_("The manager's mobile is missing or not a mobile; the distributor is asked for it at login."),
                    {},
                    WARNING,
                )
            )
        password = password_job(row, problems)
        if problems:
            return Refusal(line, legacy_id or username, problems, legacy_id or None)
        return Candidate(
            line,
            legacy_id,
            {
                "username": username,
                "password_hash": "",
                "name": name,
                "kind": kind,
                "national_id": national_id,
                "manager_name": manager_name,
                "manager_mobile": mobile or "",
                "legacy_id": legacy_id,
                "is_active": True,
                "created_at": self.context.now,
            },
            password,
            warnings=warnings,
        )

    def precheck(self, batch):
        ids = [c.key for c in batch]
        usernames = [c.values["username"] for c in batch]
        # Two queries rather than one with OR, which would not use the indexes.
        existing = select_in(
            Distributor,
            (Distributor.legacy_id, Distributor.username),
            [(Distributor.legacy_id, ids), (Distributor.username, usernames)],
        )
        by_id = {d.legacy_id: d for d in existing if d.legacy_id}
        by_username = {d.username: d for d in existing}
        checked = Checked()
        for c in batch:
            found = by_id.get(c.key)
            if found is not None and found.username == c.values["username"]:
                checked.present.append(c)
            elif found is not None:
                checked.refused.append(
                    self.refusal(
                        c,
                        Problem(
                            None,
                            "legacy_id_conflict",
                            N_("A distributor with this legacy id already exists with another user name."),
                            {},
                        ),
                    )
                )
            elif c.values["username"] in by_username:
                checked.refused.append(
                    self.refusal(
                        c, Problem(None, "username_taken", N_("This user name already belongs to another account."), {})
                    )
                )
            else:
                checked.new.append(c)
        return checked

    def insert(self, batch):
        insert_rows(Distributor, [c.values for c in batch])
        wanted = {c.key: c.values["username"] for c in batch}
        return {
            d.legacy_id
            for d in select_in(
                Distributor, (Distributor.legacy_id, Distributor.username), [(Distributor.legacy_id, list(wanted))]
            )
            if wanted.get(d.legacy_id) == d.username
        }


def _distributor_not_imported(legacy_id: str) -> Problem:
    return Problem(
        "distributor_legacy_id",
        "distributor_not_imported",
        N_("The distributor %(id)s was not imported (refused or missing in distributors.csv)."),
        {"id": legacy_id},
    )


class BranchPhase(Phase):
    file = BRANCHES

    def __init__(self, context: Context, distributors: Outcome):
        super().__init__(context)
        self.distributors = distributors

    def validate(self, line, row):
        legacy_id = plain_key(row["legacy_id"])
        problems = legacy_id_problems(self, legacy_id)
        distributor = plain_key(row["distributor_legacy_id"])
        if not distributor or distributor in self.distributors.refused:
            problems.append(_distributor_not_imported(distributor or "-"))
        name = normalize_text(row["name"])
        if not 2 <= len(name) <= 200:
            problems.append(Problem("name", "invalid_name", N_("Write the branch's name."), {}))
        data, fields = {"address": row["address"]}, ["address", "province", "city"]
        resolve_places(row, self.context.ref, data, fields, problems, with_study=False)
        cleaned = clean_row(self.context.ref, data, fields, problems)
        # A short or missing address is kept as it is: the branch is known by its place.
        warnings = [p._replace(severity=WARNING) for p in problems if p.field == "address"]
        problems = [p for p in problems if p.field != "address"]
        province = cleaned["province"].name if cleaned.get("province") else normalize_text(row["province"])
        if problems:
            return Refusal(line, legacy_id, problems, legacy_id or None, province)
        return Candidate(
            line,
            legacy_id,
            {
                "distributor": None,
                "name": name,
                "province": cleaned["province"].id,
                "city": cleaned["city"].id,
                "address": cleaned.get("address", normalize_text(row["address"])),
                "legacy_id": legacy_id,
                "is_active": True,
                "created_at": self.context.now,
            },
            extra={"distributor": distributor},
            warnings=warnings,
            province=province,
        )

    def precheck(self, batch):
        present = {
            b.legacy_id for b in select_in(Branch, (Branch.legacy_id,), [(Branch.legacy_id, [c.key for c in batch])])
        }
        distributor_ids = {
            d.legacy_id: d.id
            for d in select_in(
                Distributor,
                (Distributor.legacy_id,),
                [(Distributor.legacy_id, {c.extra["distributor"] for c in batch})],
            )
        }
        checked = Checked()
        for c in batch:
            if c.key in present:
                checked.present.append(c)
                continue
            reference = c.extra["distributor"]
            known = reference in self.distributors.accepted or reference in distributor_ids
            # A dry run wrote nothing: a distributor accepted earlier in this run counts as there.
            if not known or (not self.context.dry_run and reference not in distributor_ids):
                checked.refused.append(self.refusal(c, _distributor_not_imported(reference)))
                continue
            c.values["distributor"] = distributor_ids.get(reference)
            checked.new.append(c)
        return checked

    def insert(self, batch):
        insert_rows(Branch, [c.values for c in batch])
        return {
            b.legacy_id for b in select_in(Branch, (Branch.legacy_id,), [(Branch.legacy_id, [c.key for c in batch])])
        }
