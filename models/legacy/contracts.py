"""The last phase: ``cooperations.csv``, each row an active contract of an officer at a branch.

Contract: a contract is imported as an active cooperation (with a ``legacy_import``
history event) when its branch and its officer were imported (or are in the
database) and neither already has another active contract. The old system had no
qualification review, so a contract migrates active whatever the ``qualified`` column
says: an officer without a qualification here is flagged ``qualification_due`` (a
warning in the report) and must file a request by the deadline
(:mod:`models.legacy_followup`). An officer on several rows, or a branch on several rows, refuses all of
them: nothing is guessed. Already present: the same officer active at the same branch.
"""

from __future__ import annotations

from persian import is_valid_national_code, normalize_national_code, parse_jalali_date

from ..accounts import Officer
from ..base import N_, SYSTEM, DomainError
from ..cooperation import Branch, Cooperation
from ..officer_rules import CLEANERS
from ..review import RequestEvent
from .cleaning import WARNING, cleaner_problem
from .files import COOPERATIONS, plain_key
from .phase import Candidate, Checked, Context, Outcome, Phase, Refusal, insert_rows, select_in, tehran_midnight_utc
from .report import Problem


def _branch_not_imported(legacy_id: str) -> Problem:
    return Problem(
        "branch_legacy_id",
        "branch_not_imported",
        N_("The branch %(id)s was not imported (refused or missing in branches.csv)."),
        {"id": legacy_id},
    )


def _officer_not_imported() -> Problem:
    return Problem(
        "officer_national_code",
        "officer_not_imported",
        N_("The officer with this national code was not imported (refused or missing in officers.csv)."),
        {},
    )


def _unqualified_officer_working() -> Problem:
    return Problem(
        "officer_national_code",
        "officer_not_qualified",
        N_(
            "This officer has no qualification in the new system: the contract was imported active, and the"
            " officer must file a qualification request before the deadline."
        ),
        {},
        WARNING,
    )


# The first pass's duplicates of this file: (kind, report code, message).
_CONFLICTS = (
    (
        "officer",
        "conflict_two_active_contracts",
        N_("This officer has an active contract on several rows (lines %(lines)s); none of them was imported."),
    ),
    (
        "branch",
        "conflict_branch_two_officers",
        N_("This branch has several officers (lines %(lines)s); none of these contracts was imported."),
    ),
)


class CooperationPhase(Phase):
    file = COOPERATIONS

    def __init__(self, context: Context, branches: Outcome, officers: Outcome):
        super().__init__(context)
        self.branches, self.officers = branches, officers

    def validate(self, line, row):
        branch = plain_key(row["branch_legacy_id"])
        code = normalize_national_code(row["officer_national_code"])
        key = f"{branch}/{code}"
        started = parse_jalali_date(row["started_at"])
        problems = self._row_problems(row, branch, code, started)
        for kind, report_code, msgid in _CONFLICTS:
            dup = self.duplicate_problem(kind, code if kind == "officer" else branch, msgid, report_code)
            if dup:
                problems.append(dup)
        if not problems:
            if branch in self.branches.refused:
                problems.append(_branch_not_imported(branch))
            if code in self.officers.refused:
                problems.append(_officer_not_imported())
        if problems:
            return Refusal(line, key, problems)
        started_at = tehran_midnight_utc(started)
        return Candidate(
            line,
            key,
            {
                "branch": None,
                "distributor": None,
                "officer": None,
                "status": "active",
                "university": None,
                "started_at": started_at,
                "decided_at": started_at,
                "legacy": True,
                "created_at": self.context.now,
            },
            extra={"branch": branch, "national_code": code},
        )

    def _row_problems(self, row: dict, branch: str, code: str, started) -> list:
        """What is wrong with the row's own cells."""
        problems = []
        if not branch:
            problems.append(_branch_not_imported("-"))
        if not is_valid_national_code(code):
            try:
                CLEANERS["national_code"](row["officer_national_code"])
            except DomainError as error:
                problems.append(cleaner_problem("national_code", error)._replace(field="officer_national_code"))
        if started is None:
            problems.append(
                Problem("started_at", "invalid_started_at", N_("Enter a real Jalali date like 1370/05/21."), {})
            )
        elif started > self.context.today:
            problems.append(
                Problem("started_at", "invalid_started_at", N_("The start date cannot be in the future."), {})
            )
        return problems

    def precheck(self, batch):
        codes = list({c.extra["national_code"] for c in batch})
        legacy_ids = list({c.extra["branch"] for c in batch})
        officers = {
            o.national_code: o
            for o in select_in(Officer, (Officer.national_code, Officer.qualified_at), [(Officer.national_code, codes)])
        }
        branches = {
            b.legacy_id: b
            for b in select_in(
                Branch, (Branch.legacy_id, Branch.distributor, Branch.city), [(Branch.legacy_id, legacy_ids)]
            )
        }
        active = select_in(
            Cooperation,
            (Cooperation.officer, Cooperation.branch),
            [
                (Cooperation.officer, [o.id for o in officers.values()]),
                (Cooperation.branch, [b.id for b in branches.values()]),
            ],
            Cooperation.status == "active",
        )
        active_by_officer = {a.officer_id: a.branch_id for a in active}
        active_by_branch = {a.branch_id: a.officer_id for a in active}
        checked = Checked()
        for c in batch:
            officer, branch = officers.get(c.extra["national_code"]), branches.get(c.extra["branch"])
            problems = self._missing_or_unqualified(c, officer, branch)
            if not problems and c.extra.get("due"):
                # The old system had no qualification review: the contract is migrated
                # active and the officer must file a request by the directorate's deadline.
                c.warnings.append(_unqualified_officer_working())
            if not problems and officer is not None and branch is not None:
                if active_by_officer.get(officer.id) == branch.id:
                    checked.present.append(c)
                    continue
                if officer.id in active_by_officer:
                    problems.append(
                        Problem(
                            "officer_national_code",
                            "officer_already_active",
                            N_("This officer is already the technical officer of a branch."),
                            {},
                        )
                    )
                if branch.id in active_by_branch:
                    problems.append(
                        Problem(
                            "branch_legacy_id",
                            "branch_already_taken",
                            N_("This branch already has another technical officer."),
                            {},
                        )
                    )
            if problems:
                checked.refused.append(Refusal(c.line, c.key, problems))
                continue
            if officer is not None and branch is not None:
                c.values.update(
                    officer=officer.id,
                    branch=branch.id,
                    distributor=branch.distributor_id,
                    university=self.context.ref.city_university[branch.city_id],
                )
            checked.new.append(c)
        return checked

    def _missing_or_unqualified(self, c: Candidate, officer, branch) -> list:
        """The contract's branch and officer: imported by this run (a dry run wrote nothing,
        so its earlier phases' outcome counts as there) or in the database; the officer qualified."""
        code, legacy_id, dry_run = c.extra["national_code"], c.extra["branch"], self.context.dry_run
        problems = []
        branch_known = legacy_id in self.branches.accepted or branch is not None
        if not branch_known or (not dry_run and branch is None):
            problems.append(_branch_not_imported(legacy_id))
        if code in self.officers.accepted:
            qualified = self.officers.accepted[code]
            if not dry_run and officer is None:
                problems.append(_officer_not_imported())
        elif officer is not None:
            qualified = officer.qualified_at is not None
        else:
            qualified = True
            problems.append(_officer_not_imported())
        c.extra["due"] = not qualified
        return problems

    def insert(self, batch):
        insert_rows(Cooperation, [c.values for c in batch])
        wanted = {c.values["officer"]: c for c in batch}
        written = {}
        for row in select_in(
            Cooperation,
            (Cooperation.officer, Cooperation.branch),
            [(Cooperation.officer, list(wanted))],
            Cooperation.status == "active",
        ):
            c = wanted[row.officer_id]
            if row.branch_id == c.values["branch"]:
                written[c.key] = row.id
        due = [c.values["officer"] for c in batch if c.extra.get("due") and c.key in written]
        if due:
            Officer.update(qualification_due=True).where(Officer.id.in_(due) & Officer.qualified_at.is_null()).execute()
        insert_rows(
            RequestEvent,
            [
                {
                    "request_type": "cooperation",
                    "request_id": cooperation_id,
                    "action": "legacy_import",
                    "from_status": "",
                    "to_status": "active",
                    "actor_kind": SYSTEM.kind,
                    "actor_id": None,
                    "actor_name": "legacy import",
                    "note": "",
                    "at": self.context.now,
                }
                for cooperation_id in written.values()
            ],
        )
        return set(written)
