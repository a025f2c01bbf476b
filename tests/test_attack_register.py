"""The red-team report's findings on the register, nominations, uploads and inputs
(issue 17), each as the attack its script performed (``../shared/findings/attack-scripts/``):
the /verify and /branch scrape (L1), t_spam.py and t_oracle.py (L2), t_storage.py (M4),
t_bigint.py (L7), t_pg_len.py (L8), file modes (L12), t_idor.py's polyglots (L13), and the
scanners' findings (the `lang` cookie, the document-kind form)."""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib

import pytest

import models
import storage
from helpers import MINIMAL_PDF, PASSWORD, documents_payload, login
from models import cooperation as coops
from models import verification

HUGE = "9223372036854775808"  # 2**63: past any database integer
UNICODE_DIGITS = ("²", "①", "١")


@pytest.fixture
def world(app, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش", "company", "09121110000")
    city = models.City.get(models.City.name == "تهران")
    branches = [
        coops.create_branch(
            distributor.as_actor(), f"شعبه {i}", city.province, city, "تهران، خیابان یکم، پلاک ۱", district="17"
        )
        for i in range(3)
    ]
    return {"officer": officer, "distributor": distributor, "branches": branches, "city": city}


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# ---------------------------------------------------------------- L1: scraping the register


def test_l1_qualification_numbers_are_random_with_a_check_digit(world, make_officer, dbc):
    requests_ = [models.QualificationRequest.create(officer=make_officer(), status="draft") for _ in range(2)]
    issued = [models.qualification.qualification_number_for(r) for r in requests_]
    assert all(models.numbers.is_well_formed_qualification_number(n) for n in issued), issued
    assert not any(n.endswith(f"{r.id:06d}") for n, r in zip(issued, requests_, strict=True))
    # One wrong digit is caught by the check digit.
    number = issued[0]
    typo = number[:-3] + str((int(number[-3]) + 1) % 10) + number[-2:]
    assert not models.numbers.is_well_formed_qualification_number(typo)


def test_l1_a_branch_page_opens_by_token_not_by_id(client, world):
    branch = world["branches"][0]
    assert client.get(f"/branch/{branch.id}").status_code == 404
    page = client.get(f"/branch/{branch.public_token}")
    assert page.status_code == 200 and branch.name in page.get_data(as_text=True)
    assert len(branch.public_token) >= 20


def test_l1_the_certificate_qr_code_carries_the_token(app, world, dbc):
    officer = world["officer"]
    models.Officer.update(verification_token=models.numbers.new_public_token()).where(
        models.Officer.id == officer.id
    ).execute()
    officer = models.Officer.get_by_id(officer.id)
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    html = client.get("/officer/certificate").get_data(as_text=True)
    assert f"t={officer.verification_token}" in html


def test_l1_verify_limits_hold_against_rotating_addresses(app, world, dbc):
    officer = world["officer"]
    token = models.numbers.new_public_token()
    models.Officer.update(verification_token=token).where(models.Officer.id == officer.id).execute()
    limit = verification.LOOKUPS_PER_QUERY_PER_HOUR
    for query in (officer.qualification_number, officer.national_code):
        statuses = [
            client_at(app, f"10.0.{i // 200}.{i % 200 + 1}").get("/verify", query_string={"q": query}).status_code
            for i in range(limit + 1)
        ]
        assert statuses[:limit] == [200] * limit and statuses[-1] == 429, (query, statuses[-3:])
        assert 'role="alert"' in client_at(app, "10.9.9.9").get("/verify", query_string={"q": query}).get_data(
            as_text=True
        )
    # A scan of the real certificate still answers.
    scan = client_at(app, "10.9.9.10").get("/verify", query_string={"q": officer.qualification_number, "t": token})
    assert scan.status_code == 200 and officer.full_name in scan.get_data(as_text=True)


def test_l1_trying_numbers_from_many_addresses_hits_a_shared_limit(app, world, dbc, monkeypatch):
    monkeypatch.setattr(verification, "MISSES_PER_HOUR", 5)
    statuses = [
        client_at(app, f"10.1.0.{i + 1}").get("/verify", query_string={"q": f"1405-{i:06d}"}).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429


def test_l10_the_verify_form_posts(client, world):
    page = client.get("/verify").get_data(as_text=True)
    assert 'method="post"' in page
    answer = client.post("/verify", data={"q": world["officer"].national_code})
    assert answer.status_code == 200 and 'id="verify-result"' in answer.get_data(as_text=True)


# ---------------------------------------------------------------- L2: nomination spam and oracle


def test_l2_one_answer_whatever_the_reason(app, world, make_officer, dbc):
    actor = world["distributor"].as_actor()
    unqualified = make_officer()
    busy = make_officer(qualified=True)
    other = coops.create_branch(
        actor, "شعبه دیگر", world["city"].province, world["city"], "تهران، خیابان دوم، پلاک ۲", district="17"
    )
    busy_coop = coops.nominate(other, actor, busy.national_code)
    models.Cooperation.update(status="active", started_at=models.utcnow()).where(
        models.Cooperation.id == busy_coop.id
    ).execute()
    answers = set()
    for code in ("0084575948", unqualified.national_code, busy.national_code):
        with pytest.raises(models.DomainError) as refusal:
            coops.nominate(world["branches"][0], actor, code)
        answers.add((refusal.value.msgid, refusal.value.code))
    assert len(answers) == 1


def test_l2_the_same_officer_is_nominated_once_at_a_time_and_not_again_after_a_refusal(world, dbc):
    actor, officer = world["distributor"].as_actor(), world["officer"]
    first = coops.nominate(world["branches"][0], actor, officer.national_code)
    with pytest.raises(models.DomainError):
        coops.nominate(world["branches"][1], actor, officer.national_code)  # t_spam.py: 5 branches
    first.apply("officer_reject", officer.as_actor())
    with pytest.raises(models.DomainError):
        coops.nominate(world["branches"][1], actor, officer.national_code)  # right after a refusal


def test_l2_a_distributor_has_a_daily_cap(world, make_officer, dbc, monkeypatch):
    monkeypatch.setattr(coops, "NOMINATIONS_PER_DAY", 2)
    actor = world["distributor"].as_actor()
    for branch in world["branches"][:2]:
        coops.nominate(branch, actor, make_officer(qualified=True).national_code)
    with pytest.raises(models.DomainError) as refusal:
        coops.nominate(world["branches"][2], actor, make_officer(qualified=True).national_code)
    assert refusal.value.code == "daily_cap"


def test_l2_no_distributor_text_in_an_sms_and_a_masked_name_before_acceptance(app, world, dbc):
    actor, officer = world["distributor"].as_actor(), world["officer"]
    branch = world["branches"][0]
    models.Branch.update(name="بیا به سایت evil.example زنگ بزن").where(models.Branch.id == branch.id).execute()
    branch = models.Branch.get_by_id(branch.id)
    before = models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).count()
    coops.nominate(branch, actor, officer.national_code)
    texts = [s.render() for s in models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile)]
    assert len(texts) == before + 1
    assert not any("evil.example" in text for text in texts)
    client = app.test_client()
    login(client, "/distributor/login", "pakhsh")
    dashboard = client.get("/distributor/").get_data(as_text=True)
    assert officer.full_name not in dashboard and officer.last_name not in dashboard


# ---------------------------------------------------------------- M4: unbounded storage


def stored_files(app):
    root = app.config["UPLOAD_DIR"]
    return [
        os.path.join(d, f)
        for d, _, files in os.walk(root)
        for f in files
        if os.path.relpath(d, root).split(os.sep)[0] != "tmp"
    ]


def test_m4_saving_a_draft_again_keeps_one_file_per_kind(app, officer_client, dbc):
    for _ in range(4):  # t_storage.py: 4 saves x 5 documents
        response = officer_client.post(
            "/officer/qualification/new",
            data={"action": "save", **documents_payload()},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
    assert models.Document.select().count() == 4
    assert len(stored_files(app)) == 4


def test_m4_bytes_per_request_are_capped(app, officer_client, dbc, monkeypatch):
    monkeypatch.setattr(models.uploads, "MAX_REQUEST_BYTES", len(MINIMAL_PDF) * 2)
    response = officer_client.post(
        "/officer/qualification/new",
        data={"action": "save", **documents_payload(("degree", "national_card", "id_booklet"))},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    assert models.Document.select().count() == 0 and stored_files(app) == []


def test_m4_uploads_per_day_are_counted(app, officer_client, dbc, monkeypatch):
    monkeypatch.setattr(models.uploads, "UPLOADS_PER_DAY", 3)
    statuses = [
        officer_client.post(
            "/officer/qualification/new",
            data={"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF), "d.pdf")},
            content_type="multipart/form-data",
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 422]


# ---------------------------------------------------------------- L7: ids that overflow


def test_l7_huge_and_unicode_ids_are_404_not_500(app, officer_client, world, make_staff, dbc):
    anonymous = app.test_client()
    assert anonymous.get(f"/branch/{HUGE}").status_code == 404
    for path in ("qualification", "messages", "documents", "cooperation", "termination", "edit-requests"):
        assert officer_client.get(f"/officer/{path}/{HUGE}").status_code == 404, path
    distributor = app.test_client()
    login(distributor, "/distributor/login", "pakhsh")
    assert distributor.get(f"/distributor/branches/{HUGE}/nominate").status_code == 404
    director = app.test_client()
    make_staff("directorate", username="boss")
    login(director, "/admin/login", "boss")
    urls = [
        f"/admin/qualification/details/?id={HUGE}",
        f"/admin/qualification/review/?id={HUGE}",
        f"/admin/officer/details/?id={HUGE}",
        f"/admin/staff/edit/?id={HUGE}",
        f"/admin/officer/?flt0_0={HUGE}",
        f"/admin/city/?flt0_0={HUGE}",
        f"/admin/editrequest/officer-document/?id=1&doc={HUGE}",
    ] + [f"/admin/city/?flt1_0={digit}" for digit in UNICODE_DIGITS]
    for url in urls:
        assert director.get(url).status_code < 500, url
    resend = director.post("/admin/sms/action/", data={"action": "resend", "rowid": "²"})
    assert resend.status_code < 500


# ---------------------------------------------------------------- L8: over-long values


def test_l8_over_long_text_is_a_form_error_not_a_500(app, world, make_staff, dbc):
    distributor = app.test_client()
    login(distributor, "/distributor/login", "pakhsh")
    city = world["city"]
    response = distributor.post(
        "/distributor/branches/new",
        data={"name": "ش" * 300, "province": city.province_id, "city": city.id, "address": "تهران، خیابان یکم، پلاک ۱"},
    )
    assert response.status_code == 422
    assert models.Branch.select().where(models.Branch.name == "ش" * 300).count() == 0
    director = app.test_client()
    make_staff("directorate", username="boss")
    login(director, "/admin/login", "boss")
    response = director.post("/admin/message/new/", data={"subject": "م" * 300, "body": "متن", "audience": "all"})
    assert response.status_code == 200 and models.Notice.select().count() == 0


# ---------------------------------------------------------------- L12: private files


@pytest.mark.sqlite_only
def test_l12_the_database_and_backups_are_private(app, world, tmp_path):
    import backup

    database = models.db.obj.database
    assert stat.S_IMODE(os.stat(database).st_mode) & 0o077 == 0
    models.connect_database(f"sqlite:///{tmp_path / 'fresh.db'}").connect()
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.db").st_mode) == 0o600
    target = tmp_path / "backup"
    backup.backup(app.config["DATABASE_URL"], app.config["UPLOAD_DIR"], str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    for path in target.rglob("*"):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path


# ---------------------------------------------------------------- L13: polyglots and bombs


def png_declaring(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0<body onload=alert(document.domain)><iframe srcdoc=x>",
        b"%PDF-1.4 <img src=x onerror=alert(1)>",
        b"%PDF-1.4\n" + b"0" * 2000 + b"<html><script>alert(1)</script>",
        png_declaring(1, 1) + b"<html><script>alert(1)</script>",
        png_declaring(65535, 65535),
    ],
    ids=["jpeg-body-onload", "pdf-img-onerror", "pdf-html-after-1kb", "png-html", "png-bomb"],
)
def test_l13_polyglots_and_image_bombs_are_refused(tmp_path, content):
    store = storage.DocumentStore(tmp_path / "documents")
    with pytest.raises(storage.UploadRejected):
        store.save(io.BytesIO(content), "file")


# ---------------------------------------------------------------- scanners


def test_scanner_the_lang_cookie_is_secure_in_production(app, monkeypatch):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")  # this test is about another setting
    monkeypatch.setenv("SECRET_KEY", "0c8f2d6a4b1e9f7035d2c8a61b4e7f90d3a5c2b8e1f4a7d0c9b6e3f2a1d8c5b4")
    monkeypatch.setenv("SMS_BACKEND_LOG_ACKNOWLEDGED", "1")
    production = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "WTF_CSRF_ENABLED": False,
            "SMS_DELIVER_IN_BACKGROUND": False,
        }
    )
    response = production.test_client().post("https://localhost/lang/en", data={"next": "/"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("lang="))
    assert "Secure" in cookie


REFERENCE_FORMS = {
    "province": lambda: {"code": "99", "name": "استان آزمون", "name_en": "Test"},
    "university": lambda: {
        "code": "test-uni",
        "name": "دانشگاه علوم پزشکی آزمون",
        "name_en": "Test",
        "province": models.Province.select().first().id,
    },
    "city": lambda: {
        "name": "شهر آزمون",
        "name_en": "Test",
        "province": models.Province.select().first().id,
        "university": models.University.select().first().id,
    },
    "field": lambda: {"code": "test-field", "name": "رشته آزمون", "name_en": "Test", "eligible": "y"},
    "degree": lambda: {"code": "test-degree", "name": "مدرک آزمون", "name_en": "Test", "rank": "9", "eligible": "y"},
    "documentkind": lambda: {"code": "test_kind", "name": "مدرک آزمون", "name_en": "Test", "sort_order": "9"},
}


@pytest.mark.parametrize("endpoint", sorted(REFERENCE_FORMS))
def test_scanner_every_reference_kind_is_created_through_its_form(app, make_staff, dbc, endpoint):
    director = app.test_client()
    make_staff("directorate", username="boss")
    login(director, "/admin/login", "boss")
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == endpoint)
    before = view.model.select().count()
    response = director.post(f"/admin/{endpoint}/new/", data=REFERENCE_FORMS[endpoint]())
    page = response.get_data(as_text=True)
    assert "constraint" not in page.lower() and "NOT NULL" not in page
    assert response.status_code == 302, page[:2000]
    assert view.model.select().count() == before + 1


def test_scanner_a_database_error_never_reaches_the_screen(app, make_staff, dbc):
    director = app.test_client()
    make_staff("directorate", username="boss")
    login(director, "/admin/login", "boss")
    existing = models.DocumentKind.select().first()
    response = director.post(
        "/admin/documentkind/new/", data={"code": existing.code, "name": "تکراری", "sort_order": "1"}
    )
    page = response.get_data(as_text=True)
    assert "UNIQUE" not in page and "constraint" not in page.lower() and "duplicate key" not in page


# ---------------------------------------------------------------- I6: the old moment.js


def test_i6_the_back_office_loads_a_current_moment_js(app, make_staff, dbc):
    director = app.test_client()
    make_staff("directorate", username="boss")
    login(director, "/admin/login", "boss")
    page = director.get("/admin/").get_data(as_text=True)
    assert "moment.min.js?v=2.9.4" not in page and "/static/vendor/moment/moment.min.js" in page
    script = director.get("/static/vendor/moment/moment.min.js")
    assert script.status_code == 200
    assert '.version="2.30.1"' in script.get_data(as_text=True)
