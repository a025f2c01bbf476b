"""Claim and confirm (issue 18): at the first login a migrated officer sees the record, the
contracts and the documents that came over, and confirms them or disputes a contract; a
dispute goes to the reviewers of the branch's university (a notice, their dashboard)."""

from __future__ import annotations

import pytest

import models
import storage
from helpers import MINIMAL_PDF, login, staff_client_for
from legacy_real_set import LegacySet, officer_row, run, write_real_set
from models import legacy, legacy_claim
from models.profile_completion import CONFIRM, DISTRICT, PASSWORD, PROFILE, first_login_step
from persian import normalize_text

REASON = "این قرارداد سال ۱۴۰۰ تمام شد و دیگر در این شعبه کار نمی‌کنم."


@pytest.fixture
def migrated(app, dbc, tmp_path):
    """The real set imported, with a scanned degree for the complete officer."""
    directory = tmp_path / "legacy"
    directory.mkdir()
    files = LegacySet(directory, "utf-8-sig")
    write_real_set(files)
    (directory / "degree.pdf").write_bytes(MINIMAL_PDF)
    files.write(
        legacy.files.DOCUMENTS,
        [
            (
                "degree",
                {"national_code": files.officers["complete"]["national_code"], "kind": "degree", "path": "degree.pdf"},
            )
        ],
    )
    run(files, store=storage.DocumentStore(app.config["UPLOAD_DIR"]))
    return files


def logged_in(app, files, label="complete"):
    """A migrated Tehran officer past the district step: only the confirmation is left."""
    client = app.test_client()
    row = files.officers[label]
    assert login(client, "/officer/login", row["user_code"], row["password"]).status_code == 302
    assert client.post("/officer/district", data={"district": "17", "next": "/officer/"}).status_code == 302
    return client


def the_contract(files, label="complete"):
    return models.Cooperation.get(models.Cooperation.officer == officer_row(label, files).id)


@pytest.mark.parametrize(
    "flags, step",
    [
        ({"must_change_password": True, "profile_incomplete": True}, PASSWORD),
        ({"profile_incomplete": True}, PROFILE),
        ({"district": None}, DISTRICT),
        ({}, CONFIRM),
        ({"legacy_confirmed_at": models.utcnow()}, None),
        ({"legacy": False}, None),
    ],
)
def test_the_confirmation_is_the_last_first_login_step_and_only_for_migrated_officers(migrated, flags, step):
    officer = officer_row("complete", migrated)
    officer.district = 17
    for name, value in flags.items():
        setattr(officer, name, value)
    assert first_login_step(officer) == step


def test_a_migrated_officer_sees_what_came_over_before_anything_else(app, migrated):
    client = logged_in(app, migrated)
    for page in ("/officer/", "/officer/profile", "/officer/cooperation/", "/officer/qualification/"):
        response = client.get(page)
        assert response.status_code == 302 and response.location.endswith("/officer/migration"), page
    page = client.get("/officer/migration").get_data(as_text=True)
    row = migrated.officers["complete"]
    contract = the_contract(migrated)
    assert row["national_code"] in page and "کریمی" in page
    assert f'data-contract="{contract.id}"' in page and 'data-disputed="no"' in page
    assert "شعبه B1" in page
    degree = models.officer_documents(officer_row("complete", migrated))["degree"]
    assert f"/officer/documents/{degree.id}" in page
    # The documents the page links to open meanwhile; nothing else does.
    assert client.get(f"/officer/documents/{degree.id}").data == MINIMAL_PDF


def test_confirming_ends_the_step(app, migrated):
    client = logged_in(app, migrated)
    response = client.post("/officer/migration", data={"action": "confirm"})
    assert response.status_code == 303 and response.location.endswith("/officer/")
    assert officer_row("complete", migrated).legacy_confirmed_at is not None
    assert client.get("/officer/").status_code == 200
    assert client.get("/officer/migration").location.endswith("/officer/")
    assert models.AuditLog.select().where(models.AuditLog.action == "legacy_confirmed").count() == 1


def test_a_disputed_contract_goes_to_the_branch_university(app, migrated, make_staff):
    tehran = make_staff()
    isfahan = make_staff(university="دانشگاه علوم پزشکی اصفهان")
    client = logged_in(app, migrated)
    contract = the_contract(migrated)
    short = client.post(
        "/officer/migration", data={"action": "dispute", "cooperation_id": contract.id, "reason": "غلط"}
    )
    assert short.status_code == 422 and 'role="alert"' in short.get_data(as_text=True)
    assert legacy_claim.LegacyDispute.select().count() == 0
    sent = client.post(
        "/officer/migration", data={"action": "dispute", "cooperation_id": contract.id, "reason": REASON}
    )
    assert sent.status_code == 303 and sent.location.endswith("/officer/migration")
    dispute = legacy_claim.LegacyDispute.get()
    assert dispute.cooperation_id == contract.id and dispute.university_id == contract.university_id
    assert dispute.university_id == tehran.university_id
    # The contract stays as it came over until a reviewer acts; the page shows the dispute.
    assert models.Cooperation.get_by_id(contract.id).status == "active"
    assert 'data-disputed="yes"' in client.get("/officer/migration").get_data(as_text=True)
    again = client.post(
        "/officer/migration", data={"action": "dispute", "cooperation_id": contract.id, "reason": REASON}
    )
    assert again.status_code == 422 and legacy_claim.LegacyDispute.select().count() == 1
    notice = models.StaffNotice.get(models.StaffNotice.university == tehran.university_id)
    assert migrated.officers["complete"]["national_code"] in notice.body and normalize_text(REASON) in notice.body
    board = staff_client_for(app, tehran).get("/admin/").get_data(as_text=True)
    assert 'data-table="legacy-disputes"' in board and f'data-cooperation="{contract.id}"' in board
    other = staff_client_for(app, isfahan).get("/admin/").get_data(as_text=True)
    assert 'data-table="legacy-disputes"' not in other and normalize_text(REASON) not in other
    # Disputing is not confirming: the officer still confirms the rest.
    assert client.get("/officer/").location.endswith("/officer/migration")
    assert client.post("/officer/migration", data={"action": "confirm"}).status_code == 303


def test_an_officer_cannot_dispute_a_contract_not_theirs(app, migrated):
    client = logged_in(app, migrated)
    others = the_contract(migrated, "short_address")
    response = client.post(
        "/officer/migration", data={"action": "dispute", "cooperation_id": others.id, "reason": REASON}
    )
    assert response.status_code == 422
    for crafted in ("999999", "x", ""):
        response = client.post(
            "/officer/migration", data={"action": "dispute", "cooperation_id": crafted, "reason": REASON}
        )
        assert response.status_code == 422, crafted
    assert legacy_claim.LegacyDispute.select().count() == 0
    assert client.post("/officer/migration", data={"action": "nonsense"}).status_code == 422
    assert officer_row("complete", migrated).legacy_confirmed_at is None


def test_a_migrated_officer_without_contract_or_document_confirms_too(app, migrated):
    client = app.test_client()
    row = migrated.officers["no_father"]  # imported with a warning, missing father's name
    assert login(client, "/officer/login", row["user_code"], row["password"]).status_code == 302
    client.post("/officer/profile/complete", data={"father_name": "محمد"})
    client.post("/officer/district", data={"district": "17", "next": "/officer/"})
    models.Cooperation.update(legacy=False).where(
        models.Cooperation.officer == officer_row("no_father", migrated).id
    ).execute()
    page = client.get("/officer/migration").get_data(as_text=True)
    assert page.count("data-contract=") == 0 and 'data-kind="' not in page
    assert client.post("/officer/migration", data={"action": "confirm"}).status_code == 303
