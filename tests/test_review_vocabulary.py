"""The review vocabulary: every state and action of every flow has a label with a Persian
translation, and every label names something the system really produces."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from babel.support import Translations

import models
from helpers import attach_all
from models import Action, ReadState, State, legacy
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals
from models.base import TRANSLATIONS_DIR
from models.termination import TerminationRequest

TEHRAN = "دانشگاه علوم پزشکی تهران"

# The password the make_staff factory gives every account.
PASSWORD = "Kh0sh-Amad-2024"


def signed_in(app, staff):
    """A test client signed in to the back office as ``staff``."""
    client = app.test_client()
    response = client.post("/admin/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


FA = Translations.load(str(TRANSLATIONS_DIR), ["fa"], domain="messages")


def flow_states() -> set:
    return {state for model in models.REVIEWED_TYPES for state in model.FLOW.states} | set(TerminationRequest.STATES)


def flow_actions() -> set:
    return {action for model in models.REVIEWED_TYPES for action in model.FLOW.actions}


def test_every_state_of_every_flow_has_a_label_and_every_state_label_is_used():
    labelled = set(models.STATUS_LABELS)
    assert flow_states() | set(ReadState) == labelled
    # The request states are exactly the flows' states (plus the termination's).
    assert flow_states() == set(State)


def test_every_action_of_every_flow_has_a_label():
    assert flow_actions() <= set(models.ACTION_LABELS)
    # What no transition table names is written by an operation of its own; the
    # scenario below proves each of them is really produced.
    assert set(Action) - flow_actions() == {
        Action.REASSIGN,
        Action.REPLACE,
        Action.LEGACY_IMPORT,
        Action.RETURN_TO_POOL,
        Action.ESCALATE,
    }


@pytest.mark.parametrize("code", sorted(models.ACTION_LABELS))
def test_every_action_label_has_a_persian_translation(code):
    label = models.ACTION_LABELS[code]
    assert FA.gettext(label) != label, f"no Persian for the history action {code!r}"


@pytest.mark.parametrize("code", sorted(models.STATUS_LABELS))
def test_every_state_label_has_a_persian_translation(code):
    label = models.STATUS_LABELS[code]
    assert FA.pgettext("status", label) != label, f"no Persian for the state {code!r}"


def test_an_unknown_action_cannot_be_recorded(make_officer, dbc):
    officer = make_officer()
    request = quals.start_request(officer, officer.as_actor())
    with pytest.raises(ValueError):
        models.review.record_event(request, "teleport", "draft", "draft", officer.as_actor())
    assert models.RequestEvent.select().count() == 0


# ------------------------------------------------------------------ every label is produced


def submitted_request(officer):
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    attach_all(request, owner, folder="cd")
    return request.apply(Action.SUBMIT, owner)


def write_legacy_contract(directory):
    """The four legacy files with one qualified officer under contract at one branch."""
    code = "0009993312"  # a valid national code (checksum), of nobody the factories make
    rows = {
        legacy.OFFICERS: {
            "user_code": "7123456",
            "national_code": code,
            "birth_date": "1365/04/12",
            "first_name": "رضا",
            "last_name": "کریمی",
            "father_name": "حسن",
            "gender": "male",
            "id_card_number": "1001",
            "mobile": "09127654321",
            "phone": "",
            "email": "",
            "address": "تهران، خیابان آزادی، کوچه دوم، پلاک ۱۲",
            "postal_code": "1314567890",
            "province": "تهران",
            "city": "تهران",
            "field_of_study": "مهندسی پزشکی",
            "degree_level": "کارشناسی",
            "password_format": "0",
            "password": "old-pass-1",
            "password_salt": "",
            "qualified": "1",
        },
        legacy.DISTRIBUTORS: {
            "legacy_id": "D9",
            "name": "شرکت تجهیزات قدیم",
            "kind": "company",
            "national_id": "10101234567",
            "manager_name": "احمد رضایی",
            "manager_mobile": "09351234567",
            "username": "old-dist",
            "password_format": "0",
            "password": "dist-pass-1",
            "password_salt": "",
        },
        legacy.BRANCHES: {
            "legacy_id": "B9",
            "distributor_legacy_id": "D9",
            "name": "شعبه قدیم",
            "province": "تهران",
            "city": "تهران",
            "address": "خیابان ولیعصر، نبش کوچه سوم، پلاک ۸",
        },
        legacy.COOPERATIONS: {"branch_legacy_id": "B9", "officer_national_code": code, "started_at": "1400/01/15"},
    }
    for name, row in rows.items():
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(legacy.COLUMNS[name])
        writer.writerow([row.get(column, "") for column in legacy.COLUMNS[name]])
        (directory / name).write_text(buffer.getvalue(), encoding="utf-8")


def test_every_action_and_every_state_is_produced_by_the_real_operations(make_officer, make_staff, dbc, tmp_path):
    reviewer = make_staff("university", TEHRAN).as_actor()
    director = make_staff("directorate").as_actor()

    # Qualification: deficiency, resubmit, approve; another one reassigned, then rejected.
    first = make_officer()
    request = submitted_request(first)
    request.apply(Action.DEFICIENCY, reviewer, note="عکس واضح نیست")
    request.apply(Action.RESUBMIT, first.as_actor(), note="اصلاح شد")
    request.apply(Action.APPROVE, reviewer)
    second = submitted_request(make_officer())
    models.reassign(second, director, note="بار کاری")
    second.apply(Action.REJECT, reviewer, note="استان اشتباه", reason="wrong_province")

    # An edit request, filed submitted; another officer withdraws their qualification request.
    first = models.Officer.get_by_id(first.id)
    edits.file_edit_request(first, first.as_actor(), {"last_name": "کریمیان"}, [])
    third = make_officer()
    submitted_request(third).apply(Action.WITHDRAW, third.as_actor())

    # Cooperation: nominated, refused; nominated, accepted, approved; replaced by another
    # officer; released; a third nomination accepted, rejected by the university; a fourth
    # approved and ended by the officer.
    distributor = models.create_distributor("pakhsh", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    # A refusal holds the same distributor back from that officer for a while (issue 17):
    # each refused officer is a new one.
    a, b, refuses, rejected = (make_officer(qualified=True) for _ in range(4))

    def accepted(officer):
        cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
        return cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor())

    coops.nominate(branch, distributor.as_actor(), refuses.national_code).apply(
        Action.OFFICER_REJECT, refuses.as_actor()
    )
    accepted(a).apply(Action.APPROVE, reviewer)
    accepted(b).apply(Action.APPROVE, reviewer)  # replaces a
    coops.release(branch, distributor.as_actor())
    accepted(rejected).apply(Action.REJECT, reviewer, note="مدارک ناقص")
    accepted(a).apply(Action.APPROVE, reviewer)
    a = models.Officer.get_by_id(a.id)
    termination = models.termination.save_termination(a, a.as_actor(), "پایان قرارداد کاری")
    models.termination.finalize_termination(termination, a.as_actor())

    # A contract of the old system.
    write_legacy_contract(tmp_path)
    result = models.import_legacy(tmp_path, report_path=tmp_path / "report.csv")
    assert models.Cooperation.select().where(models.Cooperation.legacy == True).count() == 1, result  # noqa: E712

    # Nothing stays stuck (issue 15): a nomination withdrawn, one expired, one cancelled;
    # a bound request returned to the pool when its reviewer leaves; an overdue one escalated.
    branch2 = coops.create_branch(
        distributor.as_actor(), "شعبه دوم", tehran.province, tehran, "تهران، خیابان انقلاب، پلاک ۲", district="17"
    )
    c = make_officer(qualified=True)
    coops.withdraw(coops.nominate(branch2, distributor.as_actor(), c.national_code), distributor.as_actor())
    stale = coops.nominate(branch2, distributor.as_actor(), c.national_code)
    coops.expire_nominations(models.utcnow() + dt.timedelta(days=30))
    assert models.Cooperation.get_by_id(stale.id).status == State.EXPIRED
    coops.nominate(branch2, distributor.as_actor(), c.national_code).apply(Action.CANCEL, director, note="تکراری")
    # The directorate ends an active cooperation (what deactivating or revoking the officer does).
    ending = coops.nominate(branch2, distributor.as_actor(), c.national_code).apply(
        Action.OFFICER_APPROVE, c.as_actor()
    )
    ending.apply(Action.APPROVE, reviewer).apply(Action.DIRECTORATE_END, director, note="ابطال صلاحیت")
    leaving = make_staff("university", TEHRAN)
    third = submitted_request(make_officer())
    third.apply(Action.DEFICIENCY, leaving.as_actor(), note="نقص")
    third.apply(Action.RESUBMIT, third.officer.as_actor())
    models.deactivate_staff(leaving, director, "بازنشستگی")
    models.time_rules.escalate_overdue(models.utcnow() + dt.timedelta(days=60))

    events = list(models.RequestEvent.select())
    assert {e.action for e in events} == set(Action)
    reached = (
        {e.to_status for e in events}
        | {e.from_status for e in events} - {""}
        | {t.status for t in TerminationRequest.select()}
    )
    assert reached == set(State)


def test_read_and_unread_badges_show_their_labels(app, make_staff, officer_client, dbc):
    director = signed_in(app, make_staff("directorate"))
    for subject in ("یکم", "دوم"):
        director.post("/admin/message/new/", data={"subject": subject, "body": "متن", "audience": "all"})
    first = models.Notice.get(models.Notice.subject == "یکم")
    officer_client.get(f"/officer/messages/{first.id}")
    page = officer_client.get("/officer/messages/").get_data(as_text=True)
    for state in ReadState:
        assert f'data-status="{state}">{FA.pgettext("status", state.label)}<' in page
