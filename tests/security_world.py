"""The world the access matrix runs in: two universities, four officers, two distributors,
requests in every cartable, documents and notices, with a logged-in client per role."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import models
import storage
from helpers import JPEG_BYTES, MINIMAL_PDF, PASSWORD, login
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals

TEHRAN_UNI = "دانشگاه علوم پزشکی تهران"
ISFAHAN_UNI = "دانشگاه علوم پزشکی اصفهان"
ROLES = (
    "anonymous",
    "officer",
    "other_officer",
    "distributor",
    "other_distributor",
    "reviewer_a",
    "reviewer_b",
    "directorate",
)
STAFF = ("reviewer_a", "reviewer_b", "directorate")
REVIEWERS = ("reviewer_a", "reviewer_b")
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# Back-office policy (what the directorate may do in each view). Written out here on
# purpose rather than read from the views: a view that starts allowing more fails the matrix.
SHARED_VIEWS = ("qualification", "cooperation", "editrequest")
CREATABLE = {
    "apiclient",
    "webhook",
    "message",
    "distributor",
    "staff",
    "province",
    "city",
    "citydistrict",
    "university",
    "field",
    "degree",
    "documentkind",
    "setting",
    "holiday",
}
EDITABLE = {
    "distributor",
    "staff",
    "province",
    "city",
    "citydistrict",
    "university",
    "field",
    "degree",
    "documentkind",
    "setting",
    "holiday",
}
INLINE_EDITABLE = {"field", "degree"}  # column_editable_list (ajax/update)
# Flask-Admin's generic sub-routes, and the custom ones of this project.
GENERIC_SUBROUTES = {
    "index_view",
    "details_view",
    "edit_view",
    "create_view",
    "delete_view",
    "action_view",
    "export",
    "ajax_lookup",
    "ajax_update",
}
CUSTOM_SUBROUTES = {
    ("qualification", "review_view"),
    ("qualification", "reassign_view"),
    ("qualification", "document_view"),
    ("cooperation", "review_view"),
    ("cooperation", "reassign_view"),
    ("cooperation", "document_view"),
    ("editrequest", "review_view"),
    ("editrequest", "reassign_view"),
    ("editrequest", "document_view"),
    ("editrequest", "officer_document_view"),
    ("officer", "history_view"),
    *((view, sub) for view in SHARED_VIEWS for sub in ("cancel_view", "bulk_reassign_view", "escalated_view")),
    ("city", "move_files_view"),
    ("branch", "change_view"),
    ("branch", "close_view"),
    ("distributor", "manager_mobile_view"),
    ("officer", "manage_view"),
    ("officer", "evidence_view"),
    ("officer", "claims_view"),
}


# ---------------------------------------------------------------------- the world


def _digits_variants(value: str) -> list[str]:
    return [value, value.translate(PERSIAN_DIGITS)]


@dataclass
class World:
    ids: dict
    objects: dict
    clients: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.ids[key]


def _store(app, content=MINIMAL_PDF, name="مدرک.pdf"):
    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    return store.save(io.BytesIO(content), name)


def _documents(app, kinds=("degree", "national_card", "id_booklet", "photo")):
    for kind in kinds:
        if kind == "photo":
            yield kind, _store(app, JPEG_BYTES, "عکس.jpg")
        else:
            yield kind, _store(app, MINIMAL_PDF, f"مدرک {kind}.pdf")


def _submitted_request(app, officer):
    actor = officer.as_actor()
    request = quals.start_request(officer, actor)
    for kind, stored in _documents(app):
        quals.attach_document(request, actor, kind, stored)
    request.apply("submit", actor)
    return models.QualificationRequest.get_by_id(request.id)


def build_world(app, make_officer, make_staff, login_clients=True) -> World:
    """Everything the matrix needs; returns ids, objects and one logged-in client per role."""
    uni_a = models.University.get(models.University.name == TEHRAN_UNI)
    uni_b = models.University.get(models.University.name == ISFAHAN_UNI)
    reviewer_a = make_staff("university", TEHRAN_UNI, username="rev_tehran")
    reviewer_b = make_staff("university", ISFAHAN_UNI, username="rev_isfahan")
    director = make_staff("directorate", username="director")

    # officer_a: Tehran, a submitted qualification request with four documents.
    officer_a = make_officer(first_name="کیمیا", last_name="رازقی")
    qa = _submitted_request(app, officer_a)
    # officer_isf: Isfahan, a submitted request in university B's cartable.
    officer_isf = make_officer(city="اصفهان", first_name="سپیده", last_name="اصفهانی")
    qisf = _submitted_request(app, officer_isf)
    # officer_q: Tehran, qualified through the real flow (documents in force).
    officer_q = make_officer(first_name="بهراد", last_name="نوبخت")
    qq = _submitted_request(app, officer_q)
    qq.apply("approve", reviewer_a.as_actor())
    officer_q = models.Officer.get_by_id(officer_q.id)
    # officer_p: Isfahan, qualified, nominated by distributor 2 (pending university B).
    officer_p = make_officer(city="اصفهان", qualified=True, first_name="پرستو", last_name="پارسا")

    d1 = models.create_distributor(
        "pakhsh_one",
        PASSWORD,
        "شرکت پخش البرز",
        "company",
        "09121110001",
        manager_name="مدیر البرز",
        national_id="10101010101",
    )
    d2 = models.create_distributor(
        "pakhsh_two",
        PASSWORD,
        "شرکت پخش زاگرس",
        "company",
        "09121110002",
        manager_name="مدیر زاگرس",
        national_id="20202020202",
    )
    tehran = models.City.get(models.City.name == "تهران")
    isfahan = models.City.get(models.City.name == "اصفهان")
    b1 = coops.create_branch(
        d1.as_actor(), "شعبه ونک", tehran.province, tehran, "تهران، میدان ونک، پلاک ۵", district="17"
    )
    b2 = coops.create_branch(
        d2.as_actor(), "شعبه نقش جهان", isfahan.province, isfahan, "اصفهان، میدان نقش جهان، پلاک ۹"
    )
    coop_q = coops.nominate(b1, d1.as_actor(), officer_q.national_code)
    coop_q.apply("officer_approve", officer_q.as_actor())
    models.Cooperation.get_by_id(coop_q.id).apply("approve", reviewer_a.as_actor())
    coop_p = coops.nominate(b2, d2.as_actor(), officer_p.national_code)
    coop_p.apply("officer_approve", officer_p.as_actor())
    termination = models.termination.save_termination(officer_q, officer_q.as_actor(), "پایان همکاری به دلیل جابجایی")

    edit_q = edits.file_edit_request(
        officer_q,
        officer_q.as_actor(),
        {"last_name": "نوبخت‌پور"},
        [("degree", _store(app, MINIMAL_PDF, "مدرک جدید.pdf"))],
    )
    edit_p = edits.file_edit_request(
        officer_p,
        officer_p.as_actor(),
        {"last_name": "پارسانژاد"},
        [("degree", _store(app, MINIMAL_PDF, "مدرک پارسا.pdf"))],
    )

    director_actor = director.as_actor()
    notice_a = models.send_notice(
        director_actor, "اطلاعیه شخصی", "فقط برای شما", "officer", officer_national_code=officer_a.national_code
    )
    notice_all = models.send_notice(director_actor, "اطلاعیه همگانی", "برای همه", "all")
    notice_isf = models.send_notice(
        director_actor, "اطلاعیه اصفهان", "فقط اصفهان", "province", province=isfahan.province
    )
    setting = models.Setting.create(key="sla_working_days", value="10")
    holiday = models.Holiday.create(date=models.utcnow().date().replace(month=3, day=20), name="نوروز")

    def doc_of(request):
        return (
            models.Document.select()
            .where((models.Document.request_type == request.REQUEST_TYPE) & (models.Document.request_id == request.id))
            .order_by(models.Document.id)
            .first()
            .id
        )

    hook = models.webhooks.subscribe(director.as_actor(), "x", "https://receiver.example/hook", ["officer"])
    ids = {
        "uni_a": uni_a.id,
        "uni_b": uni_b.id,
        "officer_a": officer_a.id,
        "officer_q": officer_q.id,
        "officer_isf": officer_isf.id,
        "officer_p": officer_p.id,
        "qa": qa.id,
        "qisf": qisf.id,
        "qq": qq.id,
        "doc_qa": doc_of(qa),
        "doc_qisf": doc_of(qisf),
        "doc_qq": doc_of(qq),
        "doc_edit_q": doc_of(edit_q),
        "doc_edit_p": doc_of(edit_p),
        "d1": d1.id,
        "d2": d2.id,
        "b1": b1.id,
        "b2": b2.id,
        "b1_token": b1.public_token,
        "b2_token": b2.public_token,
        "coop_q": coop_q.id,
        "coop_p": coop_p.id,
        "termination": termination.id,
        "edit_q": edit_q.id,
        "edit_p": edit_p.id,
        "notice_a": notice_a.id,
        "notice_all": notice_all.id,
        "notice_isf": notice_isf.id,
        "reviewer_a": reviewer_a.id,
        "reviewer_b": reviewer_b.id,
        "director": director.id,
        "sms": models.SmsOutbox.select().order_by(models.SmsOutbox.id).first().id,
        "audit": models.AuditLog.select().order_by(models.AuditLog.id).first().id,
        "province": tehran.province_id,
        "city": tehran.id,
        "citydistrict": models.CityDistrict.select().order_by(models.CityDistrict.id).first().id,
        "field": models.FieldOfStudy.select().order_by(models.FieldOfStudy.id).first().id,
        "degree": models.DegreeLevel.select().order_by(models.DegreeLevel.id).first().id,
        "documentkind": models.DocumentKind.select().order_by(models.DocumentKind.id).first().id,
        "setting": setting.id,
        "holiday": holiday.id,
        "apiclient": models.api_clients.issue_client(director.as_actor(), "x", "directorate", "")[0].id,
        "webhook": hook.id,
        "webhookdelivery": models.WebhookDelivery.create(subscription=hook, event_id=1, event_type="x", body="{}").id,
    }
    objects = {
        "officer_a": officer_a,
        "officer_q": officer_q,
        "officer_isf": officer_isf,
        "officer_p": officer_p,
        "d1": d1,
        "d2": d2,
        "reviewer_a": reviewer_a,
        "reviewer_b": reviewer_b,
        "director": director,
    }
    world = World(ids=ids, objects=objects)

    def personal(officer):
        return _digits_variants(officer.national_code) + _digits_variants(officer.mobile)

    everyone_private = {
        name: personal(objects[name]) for name in ("officer_a", "officer_q", "officer_isf", "officer_p")
    }
    manager = {"d1": _digits_variants(d1.manager_mobile), "d2": _digits_variants(d2.manager_mobile)}

    def hidden(*names):
        out = []
        for name in names:
            out += everyone_private.get(name, []) + manager.get(name, [])
        return out

    world.secrets = {
        "anonymous": hidden("officer_a", "officer_q", "officer_isf", "officer_p", "d1", "d2"),
        "officer": hidden("officer_q", "officer_isf", "officer_p", "d1", "d2"),
        "other_officer": hidden("officer_a", "officer_isf", "officer_p", "d2"),
        "distributor": hidden("officer_a", "officer_isf", "officer_p", "d2"),
        "other_distributor": hidden("officer_a", "officer_q", "officer_isf", "d1"),
        "reviewer_a": hidden("officer_isf", "officer_p", "d2"),
        "reviewer_b": hidden("officer_a", "officer_q", "d1"),
        "directorate": [],
    }
    if login_clients:
        world.clients = {role: login_as(app, world, role) for role in ROLES}
    return world


def login_as(app, world, role):
    client = app.test_client()
    o = world.objects
    target = {
        "anonymous": None,
        "officer": ("/officer/login", o["officer_a"].user_code),
        "other_officer": ("/officer/login", o["officer_q"].user_code),
        "distributor": ("/distributor/login", "pakhsh_one"),
        "other_distributor": ("/distributor/login", "pakhsh_two"),
        "reviewer_a": ("/admin/login", "rev_tehran"),
        "reviewer_b": ("/admin/login", "rev_isfahan"),
        "directorate": ("/admin/login", "director"),
    }[role]
    if target:
        response = login(client, *target)
        assert response.status_code == 302, (role, response.status_code, response.get_data(as_text=True)[:300])
    return client


def fingerprint() -> str:
    """A hash of every row the app must not change on a refused request.

    Sessions, login failures, rate-limit counters and the audit log are left out: a refusal
    may write to them (a look-up at /verify counts against its limits, found or not)."""
    skip = {"login_session", "login_failure", "rate_counter", "audit_log"}
    digest = hashlib.sha256()
    for model in models.ALL_MODELS:
        if model._meta.table_name in skip:
            continue
        for row in model.select().order_by(model._meta.primary_key).tuples():
            digest.update(repr(row).encode())
    return digest.hexdigest()
