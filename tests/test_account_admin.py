"""The directorate's account tools (/admin/officer/manage/?id=N; domain findings D4, D11):
every action needs a reason and is audited; deactivation, suspension and revocation end
the active cooperation, the sessions and /verify's "valid"; corrections need a second
directorate account; reviewers have none of it. Table-driven where it is a state machine."""

from __future__ import annotations

import io
import re

import pytest

import models
import storage
from helpers import MINIMAL_PDF, PASSWORD, login, staff_client_for
from models import account_admin
from models import cooperation as coops
from models.identity import NoIdentityCheck

TEHRAN = "دانشگاه علوم پزشکی تهران"
REASON = "درخواست خانواده؛ گواهی فوت شماره ۱۲۳"


@pytest.fixture
def world(app, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("dist1", PASSWORD, "شرکت الف", "company", "09120000001")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    reviewer = make_staff("university", TEHRAN)
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", reviewer.as_actor())
    return {
        "officer": models.Officer.get_by_id(officer.id),
        "cooperation": cooperation,
        "distributor": distributor,
        "director": make_staff("directorate"),
        "second_director": make_staff("directorate"),
        "reviewer": reviewer,
    }


def manage(client, officer, **data):
    return client.post(f"/admin/officer/manage/?id={officer.id}", data=data)


def fresh(officer):
    return models.Officer.get_by_id(officer.id)


def verify_says_valid(client, officer) -> bool:
    html = client.get(f"/verify?q={officer.qualification_number}").get_data(as_text=True)
    return officer.full_name in html


WITHDRAWING = ["deactivate", "suspend_qualification", "revoke_qualification"]


@pytest.mark.parametrize("action", WITHDRAWING)
def test_withdrawing_ends_the_cooperation_the_sessions_and_verify(app, world, action):
    officer, director = world["officer"], world["director"]
    officer_client = app.test_client()
    assert login(officer_client, "/officer/login", officer.user_code).status_code == 302
    assert verify_says_valid(app.test_client(), officer)
    staff = staff_client_for(app, director)
    response = manage(staff, officer, action=action, reason=REASON)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    cooperation = models.Cooperation.get_by_id(world["cooperation"].id)
    assert cooperation.status == "ended" and cooperation.end_reason == "directorate"
    assert (
        models.SmsOutbox.select()
        .where(models.SmsOutbox.to == "09120000001")
        .order_by(models.SmsOutbox.id.desc())
        .get()
        .text.count(officer.full_name)
    )
    assert models.Notice.select().where(models.Notice.officer == officer.id, models.Notice.kind == "decision").count()
    assert officer_client.get("/officer/").status_code == 302  # the session ended
    assert not verify_says_valid(app.test_client(), officer)
    row = models.AuditLog.select().where(models.AuditLog.object_id == officer.id).order_by(models.AuditLog.id.desc())
    assert REASON in row.get().detail
    # The branch is free for another officer, and this one cannot be nominated.
    with pytest.raises(models.DomainError):
        coops.nominate(cooperation.branch, world["distributor"].as_actor(), officer.national_code)


def test_a_deactivated_officer_cannot_log_in_until_reactivated(app, world):
    officer, staff = world["officer"], staff_client_for(app, world["director"])
    manage(staff, officer, action="deactivate", reason=REASON)
    assert login(app.test_client(), "/officer/login", officer.user_code).status_code != 302
    assert manage(staff, officer, action="reactivate", reason="اشتباه در شناسایی").status_code == 303
    assert login(app.test_client(), "/officer/login", officer.user_code).status_code == 302


# (hold before, action) -> hold after, or None when refused; the directorate acting.
HOLDS = ("", "suspended", "revoked")
HOLD_ACTIONS = ("suspend_qualification", "revoke_qualification", "reinstate_qualification")
HOLD_TABLE = {
    ("", "suspend_qualification"): "suspended",
    ("", "revoke_qualification"): "revoked",
    ("suspended", "revoke_qualification"): "revoked",
    ("suspended", "reinstate_qualification"): "",
    ("revoked", "reinstate_qualification"): "",
}


@pytest.mark.parametrize("hold", HOLDS)
@pytest.mark.parametrize("action", HOLD_ACTIONS)
@pytest.mark.parametrize("actor", ["director", "reviewer"])
def test_qualification_hold_table(world, hold, action, actor):
    officer = world["officer"]
    models.Officer.update(qualification_hold=hold).where(models.Officer.id == officer.id).execute()
    officer = fresh(officer)
    operation = getattr(account_admin, action)
    expected = HOLD_TABLE.get((hold, action)) if actor == "director" else None
    if expected is None:
        with pytest.raises(models.DomainError):
            operation(officer, world[actor].as_actor(), REASON)
        assert fresh(officer).qualification_hold == hold
    else:
        operation(officer, world[actor].as_actor(), REASON)
        assert fresh(officer).qualification_hold == expected


def test_reinstated_qualification_verifies_again(app, world):
    officer, staff = world["officer"], staff_client_for(app, world["director"])
    manage(staff, officer, action="suspend_qualification", reason=REASON)
    assert not verify_says_valid(app.test_client(), officer)
    manage(staff, officer, action="reinstate_qualification", reason="مدارک تکمیل شد")
    assert verify_says_valid(app.test_client(), officer)


@pytest.mark.parametrize(
    "action, extra",
    [
        ("deactivate", {}),
        ("suspend_qualification", {}),
        ("change_mobile", {"mobile": "09351112233"}),
        ("correct_identity", {"first_name": "زهرا"}),
    ],
)
def test_every_action_needs_a_reason(app, world, action, extra):
    officer, staff = world["officer"], staff_client_for(app, world["director"])
    response = manage(staff, officer, action=action, reason=" ", **extra)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and "دلیل" in html
    after = fresh(officer)
    assert (after.is_active, after.qualification_hold, after.mobile, after.first_name) == (
        True,
        "",
        officer.mobile,
        officer.first_name,
    )


def test_reviewers_have_no_account_tools(app, world):
    officer = world["officer"]
    reviewer = staff_client_for(app, world["reviewer"])
    assert reviewer.get(f"/admin/officer/manage/?id={officer.id}").status_code == 403
    assert manage(reviewer, officer, action="deactivate", reason=REASON).status_code == 403
    assert reviewer.get("/admin/officer/claims/").status_code == 403
    assert fresh(officer).is_active


def test_the_directorate_changes_the_mobile_the_old_number_is_told(app, world):
    officer, staff = world["officer"], staff_client_for(app, world["director"])
    old = officer.mobile
    response = manage(staff, officer, action="change_mobile", mobile="۰۹۳۵۱۱۱۲۲۳۳", reason=REASON)
    assert response.status_code == 303
    assert fresh(officer).mobile == "09351112233"
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == old).order_by(models.SmsOutbox.id.desc()).get()
    # The next password reset goes to the new number.
    app.test_client().post("/officer/password/reset", data={"username": officer.national_code})
    assert models.SmsOutbox.select().order_by(models.SmsOutbox.id.desc()).get().to == "09351112233"


def test_the_directorates_mobile_change_waits_for_shahkar(app, world, httpserver):
    """Shahkar silent: "try again later", marked for machines, and the mobile stays."""
    from models.identity import SHAHKAR_PATH, HttpIdentity

    httpserver.expect_request(SHAHKAR_PATH, method="POST").respond_with_json({"error": "down"}, status=502)
    app.extensions["identity"] = HttpIdentity(httpserver.url_for(""), timeout=1)
    officer, staff = world["officer"], staff_client_for(app, world["director"])
    response = manage(staff, officer, action="change_mobile", mobile="09351112233", reason=REASON)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and 'data-code="identity_unavailable"' in html
    assert fresh(officer).mobile == officer.mobile


def evidence():
    return (io.BytesIO(MINIMAL_PDF), "evidence.pdf")


def propose(staff, officer, **fields):
    return staff.post(
        f"/admin/officer/manage/?id={officer.id}",
        data={"action": "correct_identity", "reason": REASON, "doc_evidence": evidence(), **fields},
        content_type="multipart/form-data",
    )


def test_a_correction_takes_effect_only_when_a_second_directorate_account_confirms(app, world):
    officer = world["officer"]
    first = staff_client_for(app, world["director"])
    second = staff_client_for(app, world["second_director"])
    response = propose(first, officer, birth_date="1369/02/10", last_name="احمدی‌نژاد")
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    correction = models.IdentityCorrection.get()
    assert fresh(officer).birth_date == officer.birth_date and correction.status == "pending"
    assert correction.evidence().count() == 1
    page = first.get(f"/admin/officer/manage/?id={officer.id}").get_data(as_text=True)
    assert f'data-id="{correction.id}" data-status="pending"' in page
    # The proposer cannot confirm it.
    refused = manage(first, officer, action="confirm_correction", correction=str(correction.id), reason="تأیید")
    assert refused.status_code == 403 and 'role="alert"' in refused.get_data(as_text=True)
    assert fresh(officer).birth_date == officer.birth_date
    # The second account sees the evidence and confirms.
    document = correction.evidence().get()
    assert second.get(f"/admin/officer/evidence/?id={officer.id}&doc={document.id}").status_code == 200
    done = manage(second, officer, action="confirm_correction", correction=str(correction.id), reason="مدارک دیده شد")
    assert done.status_code == 303
    after = fresh(officer)
    assert after.birth_date.isoformat() == "1990-04-30" and after.last_name == "احمدی‌نژاد"
    assert models.IdentityCorrection.get().status == "confirmed"
    # Confirming twice changes nothing more.
    again = manage(second, officer, action="confirm_correction", correction=str(correction.id), reason="دوباره")
    assert again.status_code == 409


def test_a_correction_needs_evidence_and_a_free_national_code(app, world, make_officer):
    officer = world["officer"]
    staff = staff_client_for(app, world["director"])
    no_file = manage(staff, officer, action="correct_identity", reason=REASON, first_name="زهرا")
    assert no_file.status_code == 422 and "سند" in no_file.get_data(as_text=True)
    taken = make_officer().national_code
    response = propose(staff, officer, national_code=taken)
    assert response.status_code == 422 and "قبلاً" in response.get_data(as_text=True)
    assert models.IdentityCorrection.select().count() == 0


def test_a_rejected_correction_changes_nothing(app, world):
    officer = world["officer"]
    propose(staff_client_for(app, world["director"]), officer, first_name="زهرا")
    correction = models.IdentityCorrection.get()
    second = staff_client_for(app, world["second_director"])
    assert manage(second, officer, action="reject_correction", correction=str(correction.id), reason="سند نامعتبر")
    assert fresh(officer).first_name == officer.first_name
    assert models.IdentityCorrection.get().status == "rejected"


def test_a_correction_of_the_national_code_keeps_one_registration_per_code(app, world, make_officer):
    officer, other = world["officer"], make_officer()
    from helpers import national_code

    new_code = national_code(31337)
    director, second = world["director"].as_actor(), world["second_director"].as_actor()
    stored = storage.DocumentStore(app.config["UPLOAD_DIR"]).save(io.BytesIO(MINIMAL_PDF), "evidence.pdf")
    correction = account_admin.propose_correction(officer, director, {"national_code": new_code}, REASON, stored)
    # Meanwhile another correction gives the code to someone else: the confirmation is refused.
    models.Officer.update(national_code=new_code).where(models.Officer.id == other.id).execute()
    with pytest.raises(models.DomainError):
        account_admin.confirm_correction(officer, second, correction.id, "تأیید")
    assert fresh(officer).national_code == officer.national_code


# ------------------------------------------------------------------ claims (H3's way back)


def test_a_person_whose_checks_pass_files_a_claim_on_a_squatted_code(app, world, httpserver):
    """The squatter registered before identity checks existed; the real holder passes the
    civil registry and Shahkar, Shahkar says the account's mobile is not theirs."""
    from models.identity import CIVIL_REGISTRY_PATH, SHAHKAR_PATH, HttpIdentity

    officer = world["officer"]
    httpserver.expect_request(CIVIL_REGISTRY_PATH, method="POST").respond_with_json(
        {"found": True, "first_name": officer.first_name, "last_name": officer.last_name, "alive": True}
    )
    httpserver.expect_request(
        SHAHKAR_PATH, method="POST", json={"national_code": officer.national_code, "mobile": "09121111111"}
    ).respond_with_json({"match": True})
    httpserver.expect_request(
        SHAHKAR_PATH, method="POST", json={"national_code": officer.national_code, "mobile": officer.mobile}
    ).respond_with_json({"match": False})
    app.extensions["identity"] = HttpIdentity(httpserver.url_for(""), timeout=1)
    from helpers import registration_data

    data = registration_data(
        national_code=officer.national_code,
        first_name=officer.first_name,
        last_name=officer.last_name,
        birth_date=__import__("persian").format_jalali_date(officer.birth_date),
        mobile="09121111111",
    )
    response = app.test_client().post("/officer/register", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and "اداره کل" in html
    claim = models.IdentityClaim.get()
    assert (claim.officer_id, claim.mobile, claim.status) == (officer.id, "09121111111", "pending")
    # Twice: still one claim.
    app.test_client().post("/officer/register", data=data)
    assert models.IdentityClaim.select().count() == 1
    # The directorate sees it and gives the account to the claimant's line.
    staff = staff_client_for(app, world["director"])
    claims_page = staff.get("/admin/officer/claims/").get_data(as_text=True)
    # Both records side by side: the registered account and the claimant.
    row = claims_page[claims_page.index(f'data-id="{claim.id}"') :]
    row = row[: row.index("</tr>")]
    assert officer.national_code in row and "09121111111" in row
    assert officer.full_name in row and officer.mobile in row
    assert f'data-id="{claim.id}"' in staff.get(f"/admin/officer/manage/?id={officer.id}").get_data(as_text=True)
    response = manage(staff, officer, action="change_mobile", mobile="09121111111", reason="ادعای تأییدشده")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert fresh(officer).mobile == "09121111111"
    assert models.IdentityClaim.get().status == "confirmed"


def test_without_identity_checks_a_taken_code_is_only_already_registered(app, world, client):
    officer = world["officer"]
    assert isinstance(app.extensions["identity"], NoIdentityCheck)
    from helpers import registration_data

    response = client.post(
        "/officer/register", data=registration_data(national_code=officer.national_code, mobile="09121111111")
    )
    assert response.status_code == 422 and "قبلاً" in response.get_data(as_text=True)
    assert models.IdentityClaim.select().count() == 0


def test_the_claims_queue_is_in_the_directorates_menu_with_its_count(app, world):
    from backoffice.base import clear_options_cache

    officer = world["officer"]
    director = staff_client_for(app, world["director"])

    def menu_entry(client):
        """The menu's link to the claims (its text and badge), or None."""
        found = re.search(
            r'<a[^>]*href="/admin/officer/claims/"[^>]*>(.*?)</a>', client.get("/admin/").get_data(as_text=True), re.S
        )
        return found.group(1) if found else None

    assert "data-count" not in menu_entry(director)  # no badge while nothing waits
    models.IdentityClaim.create(
        officer=officer, national_code=officer.national_code, mobile="09121111111", first_name="مریم", last_name="احمدی"
    )
    clear_options_cache()  # the count is read at most once a minute
    entry = menu_entry(director)
    assert 'data-count="1"' in entry and ">۱<" in entry
    # Dismissing it clears the badge at once.
    response = manage(
        director, officer, action="dismiss_claim", claim=models.IdentityClaim.get().id, reason="ادعای نادرست"
    )
    assert response.status_code == 303
    assert "data-count" not in menu_entry(director)
    # University reviewers have no such queue, nor its entry.
    assert menu_entry(staff_client_for(app, world["reviewer"])) is None
