"""Access control, table-driven: every route of ``app.url_map`` x every role.

A realistic world is built once per test (two universities, four officers, two
distributors, requests in every cartable, documents, notices) and the rules' arguments
are replaced by real ids. Each cell has an expected outcome; every response body is
searched for the personal data the role must never see (national codes and mobiles in
ASCII and Persian digits).

Roles: anonymous, officer (``officer_a``, Tehran, a submitted qualification request),
other_officer (``officer_q``, Tehran, qualified, active at distributor 1's branch, an
edit request and a termination draft), distributor (1, Tehran branch), other_distributor
(2, Isfahan branch), reviewer_a (Tehran university), reviewer_b (Isfahan university),
directorate.

Checklist items: 11, 12, 13, 14, 15, 17 (see SECURITY.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

import models
import storage
from helpers import JPEG_BYTES, MINIMAL_PDF, PASSWORD, login, staff_client_for
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
    "message",
    "distributor",
    "staff",
    "province",
    "city",
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
    b1 = coops.create_branch(d1.as_actor(), "شعبه ونک", tehran.province, tehran, "تهران، میدان ونک، پلاک ۵")
    b2 = coops.create_branch(
        d2.as_actor(), "شعبه نقش جهان", isfahan.province, isfahan, "اصفهان، میدان نقش جهان، پلاک ۹"
    )
    coop_q = coops.nominate(b1, d1.as_actor(), officer_q.national_code)
    coop_q.apply("officer_approve", officer_q.as_actor())
    models.Cooperation.get_by_id(coop_q.id).apply("approve", reviewer_a.as_actor())
    coop_p = coops.nominate(b2, d2.as_actor(), officer_p.national_code)
    coop_p.apply("officer_approve", officer_p.as_actor())
    termination = coops.save_termination(officer_q, officer_q.as_actor(), "پایان همکاری به دلیل جابجایی")

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
        "field": models.FieldOfStudy.select().order_by(models.FieldOfStudy.id).first().id,
        "degree": models.DegreeLevel.select().order_by(models.DegreeLevel.id).first().id,
        "documentkind": models.DocumentKind.select().order_by(models.DocumentKind.id).first().id,
        "setting": setting.id,
        "holiday": holiday.id,
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

    Sessions, login failures and the audit log are left out: a refusal may write to them."""
    skip = {"login_session", "login_failure", "audit_log"}
    digest = hashlib.sha256()
    for model in models.ALL_MODELS:
        if model._meta.table_name in skip:
            continue
        for row in model.select().order_by(model._meta.primary_key).tuples():
            digest.update(repr(row).encode())
    return digest.hexdigest()


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


def admin_cell(view, reviewer_a, reviewer_b, directorate):
    expect = everyone(ADMIN_LOGIN)
    if view in SHARED_VIEWS:
        expect.update(reviewer_a=reviewer_a, reviewer_b=reviewer_b)
    else:
        expect.update(reviewer_a=403, reviewer_b=403)
    expect["directorate"] = directorate
    return expect


def visible_to(world):
    """Which staff role may see each record of the shared cartables."""
    both = ("directorate",)
    return {
        ("qualification", world["qa"]): both + ("reviewer_a",),
        ("qualification", world["qq"]): both + ("reviewer_a",),
        ("qualification", world["qisf"]): both + ("reviewer_b",),
        ("cooperation", world["coop_q"]): both + ("reviewer_a",),
        ("cooperation", world["coop_p"]): both + ("reviewer_b",),
        ("editrequest", world["edit_q"]): both + ("reviewer_a",),
        ("editrequest", world["edit_p"]): both + ("reviewer_b",),
    }


def record_ids(world, view):
    """The ids used for a view's details/edit/... (several for the shared cartables)."""
    return {
        "qualification": [world["qa"], world["qisf"]],
        "cooperation": [world["coop_q"], world["coop_p"]],
        "editrequest": [world["edit_q"], world["edit_p"]],
        "officer": [world["officer_a"]],
        "distributor": [world["d1"]],
        "branch": [world["b1"]],
        "staff": [world["reviewer_a"]],
        "message": [world["notice_a"]],
        "sms": [world["sms"]],
        "audit": [world["audit"]],
        "province": [world["province"]],
        "city": [world["city"]],
        "university": [world["uni_a"]],
        "field": [world["field"]],
        "degree": [world["degree"]],
        "documentkind": [world["documentkind"]],
        "setting": [world["setting"]],
        "holiday": [world["holiday"]],
    }[view]


def admin_cells(world, view, sub, rule):
    """Cells for one Flask-Admin rule."""
    listing = f"/admin/{view}/"
    vis = visible_to(world)

    def scoped(record_id, ok, refused):
        roles = vis.get((view, record_id), ("directorate",))
        return {r: (ok if r in roles else refused) for r in STAFF}

    cells = []
    if sub == "index_view":
        cells.append(Cell(f"{view}.{sub}", "GET", listing, admin_cell(view, OK, OK, OK)))
    elif sub == "export":
        cells.append(Cell(f"{view}.{sub}", "GET", listing + "export/csv/", admin_cell(view, OK, OK, OK)))
    elif sub == "create_view":
        outcome = OK if view in CREATABLE else redirect_to(listing)
        cells.append(Cell(f"{view}.{sub}", "GET", listing + "new/", admin_cell(view, outcome, outcome, outcome)))
        cells.append(
            Cell(
                f"{view}.{sub}",
                "POST",
                listing + "new/",
                admin_cell(
                    view,
                    NOT_5XX if view in CREATABLE else redirect_to(listing),
                    NOT_5XX if view in CREATABLE else redirect_to(listing),
                    NOT_5XX if view in CREATABLE else redirect_to(listing),
                ),
                body={"name": "x", "subject": "x", "body": "x", "audience": "all", "status": "approved"},
                never_changes=view not in CREATABLE,
            )
        )
    elif sub in ("details_view", "edit_view"):
        path = "details/" if sub == "details_view" else "edit/"
        for record_id in record_ids(world, view):
            url = f"{listing}{path}?id={record_id}"
            if sub == "edit_view" and view not in EDITABLE:
                outcome = {r: redirect_to(listing) for r in STAFF}
            else:
                outcome = scoped(record_id, OK, redirect_to(listing))
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "GET",
                    url,
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                )
            )
            if sub == "edit_view":
                post = outcome if view not in EDITABLE else {r: (NOT_5XX if v == OK else v) for r, v in outcome.items()}
                cells.append(
                    Cell(
                        f"{view}.{sub}",
                        "POST",
                        url,
                        admin_cell(view, post["reviewer_a"], post["reviewer_b"], post["directorate"]),
                        body={
                            "status": "approved",
                            "university": str(world["uni_b"]),
                            "role": "directorate",
                            "national_code": "0499370899",
                            "qualified_at": "2020-01-01",
                        },
                        never_changes=view not in EDITABLE,
                    )
                )
    elif sub == "delete_view":
        for record_id in record_ids(world, view):
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    f"{listing}delete/?id={record_id}",
                    admin_cell(view, redirect_to(listing), redirect_to(listing), redirect_to(listing)),
                    body={"id": str(record_id)},
                    never_changes=True,
                )
            )
    elif sub == "action_view":
        for record_id in record_ids(world, view):
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    f"{listing}action/",
                    admin_cell(view, redirect_to(listing), redirect_to(listing), redirect_to(listing)),
                    body={"action": "delete", "rowid": str(record_id)},
                    never_changes=True,
                )
            )
    elif sub == "ajax_lookup":
        cells.append(
            Cell(f"{view}.{sub}", "GET", f"{listing}ajax/lookup/?name=officer&query=1", admin_cell(view, 404, 404, 404))
        )
    elif sub == "ajax_update":
        for record_id in record_ids(world, view):
            outcome = NOT_5XX if view in INLINE_EDITABLE else 404
            body = {"list_form_pk": str(record_id), "eligible": ""}
            # (an empty body is Flask-Admin's AttributeError: see test_empty_ajax_update_is_not_a_server_error)
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    f"{listing}ajax/update/",
                    admin_cell(view, outcome, outcome, outcome),
                    body=body,
                    never_changes=view not in INLINE_EDITABLE,
                    allowed_body={"list_form_pk": str(record_id)},
                )
            )
    elif sub == "review_view":
        for record_id in record_ids(world, view):
            url = f"{listing}review/?id={record_id}"
            outcome = scoped(record_id, OK, 404)
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "GET",
                    url,
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                )
            )
            post = {r: (NOT_5XX if v == OK else v) for r, v in outcome.items()}
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    url,
                    admin_cell(view, post["reviewer_a"], post["reviewer_b"], post["directorate"]),
                    body={"decision": "approve", "note": "x", "university": str(world["uni_a"])},
                )
            )
    elif sub == "reassign_view":
        for record_id in record_ids(world, view):
            url = f"{listing}reassign/?id={record_id}"
            # A reviewer may not reassign: refused in the domain (the page redirects back).
            outcome = scoped(record_id, redirect_to(f"{listing}review/"), 404)
            outcome["directorate"] = NOT_5XX
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    url,
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                    body={"university": str(world["uni_b"]), "note": "x"},
                    never_changes=False,
                )
            )
    elif sub == "document_view":
        docs = {
            "qualification": [("qa", "doc_qa"), ("qisf", "doc_qisf")],
            "cooperation": [("coop_q", "doc_qa")],
            "editrequest": [("edit_q", "doc_edit_q"), ("edit_p", "doc_edit_p")],
        }[view]
        for record_key, doc_key in docs:
            url = f"{listing}document/?doc={world[doc_key]}"
            # cooperations have no documents: a foreign kind is 404
            outcome = {r: 404 for r in STAFF} if view == "cooperation" else scoped(world[record_key], OK, 404)
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "GET",
                    url,
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                )
            )
    elif sub == "officer_document_view":
        for record_key, doc_key, mine in (
            ("edit_q", "doc_qq", True),
            ("edit_p", "doc_qq", False),
            ("edit_q", "doc_qa", False),
        ):
            url = f"{listing}officer-document/?id={world[record_key]}&doc={world[doc_key]}"
            outcome = scoped(world[record_key], OK if mine else 404, 404)
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "GET",
                    url,
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                )
            )
    elif sub == "history_view":
        for officer_key in ("officer_a", "officer_isf"):
            cells.append(
                Cell(
                    f"{view}.{sub}", "GET", f"{listing}history/?id={world[officer_key]}", admin_cell(view, 403, 403, OK)
                )
            )
    else:
        raise AssertionError(f"unclassified admin rule {rule}")
    return cells


def public_and_site_cells(world, rule, endpoint, methods):
    """Cells for the non-admin rules; raises for a rule nobody classified."""
    w = world
    cells = []

    def add(method, url, expect, **kw):
        cells.append(Cell(endpoint, method, url, expect, **kw))

    public_get = {
        "public.home": "/",
        "public.verify": "/verify",
        "officer_site.register": "/officer/register",
        "officer_site.login": "/officer/login",
        "officer_site.password_reset": "/officer/password/reset",
        "officer_site.password_reset_confirm": "/officer/password/reset/confirm",
        "distributor_site.login": "/distributor/login",
        "admin.login_view": "/admin/login",
        "static": "/static/css/app.css",
    }
    if endpoint in public_get:
        add("GET", public_get[endpoint], everyone(OK))
        if "POST" in methods:
            add("POST", public_get[endpoint], everyone(NOT_5XX), body={})
        return cells
    if endpoint == "admin.static":
        add("GET", "/admin/static/" + _admin_static_file(rule), everyone(OK))
        return cells
    if endpoint == "public.branch":
        add("GET", f"/branch/{w['b1']}", everyone(OK))
        add("GET", f"/branch/{w['b2']}", everyone(OK))
        add("GET", "/branch/999999", everyone(404))
        return cells
    if endpoint == "public.set_language":
        add("POST", "/lang/en", everyone(redirect_to("/")), body={"next": "/"}, last=True)
        return cells
    if endpoint in ("officer_site.logout", "distributor_site.logout"):
        add("POST", rule.rule, everyone(redirect_to("/")), last=True)
        return cells
    if endpoint == "admin.logout_view":
        add("POST", "/admin/logout", everyone(redirect_to("/admin/login")), last=True)
        return cells
    if endpoint == "admin.index":
        add("GET", "/admin/", {**everyone(ADMIN_LOGIN), "reviewer_a": OK, "reviewer_b": OK, "directorate": OK})
        return cells

    # ---- officer pages (officer = officer_a, other_officer = officer_q)
    officer_pages = {
        "officer_site.dashboard": ("/officer/", OK, OK),
        "officer_site.messages": ("/officer/messages/", OK, OK),
        "officer_site.profile": ("/officer/profile", OK, OK),
        "officer_site.profile_edit": ("/officer/profile/edit", OK, OK),
        "officer_site.password": ("/officer/password", OK, OK),
        # Only a migrated officer with missing fields completes the profile (issue 18).
        "officer_site.profile_complete": (
            "/officer/profile/complete",
            redirect_to("/officer/"),
            redirect_to("/officer/"),
        ),
        "officer_site.qualification_list": ("/officer/qualification/", OK, OK),
        "officer_site.cooperation_list": ("/officer/cooperation/", OK, OK),
        "officer_site.termination_list": ("/officer/termination/", OK, OK),
        "officer_site.termination_new": ("/officer/termination/new", OK, OK),
        "officer_site.edit_request_list": ("/officer/edit-requests/", OK, OK),
        # officer_a is not qualified: no certificate, no edit request, an open qualification request.
        "officer_site.certificate": ("/officer/certificate", redirect_to("/officer/"), OK),
        "officer_site.qualification_new": (
            "/officer/qualification/new",
            redirect_to(f"/officer/qualification/{w['qa']}"),
            redirect_to("/officer/qualification/"),
        ),
        "officer_site.edit_request_new": (
            "/officer/edit-requests/new",
            redirect_to("/officer/profile/edit"),
            redirect_to(f"/officer/edit-requests/{w['edit_q']}"),
        ),
    }
    if endpoint in officer_pages:
        url, mine, other = officer_pages[endpoint]
        add("GET", url, officer_only(mine, other))
        if "POST" in methods:
            add(
                "POST",
                url,
                officer_only(NOT_5XX, NOT_5XX),
                body={"national_code": "0499370899", "status": "approved", "action": "submit"},
            )
        return cells
    if endpoint == "officer_site.qualification_place":
        add("POST", "/officer/qualification/place", officer_only(NOT_5XX, NOT_5XX), body={"province": "1", "city": "1"})
        return cells

    # Objects owned by one officer: the owner gets the page, the other officer a 404.
    owned = {
        "officer_site.qualification_detail": [
            ("/officer/qualification/{}", "qa", "officer"),
            ("/officer/qualification/{}", "qq", "other_officer"),
            ("/officer/qualification/{}", "qisf", None),
        ],
        "officer_site.document": [
            ("/officer/documents/{}", "doc_qa", "officer"),
            ("/officer/documents/{}", "doc_qq", "other_officer"),
            ("/officer/documents/{}", "doc_qisf", None),
        ],
        "officer_site.cooperation_detail": [
            ("/officer/cooperation/{}", "coop_q", "other_officer"),
            ("/officer/cooperation/{}", "coop_p", None),
        ],
        "officer_site.termination_detail": [("/officer/termination/{}", "termination", "other_officer")],
        "officer_site.edit_request_detail": [
            ("/officer/edit-requests/{}", "edit_q", "other_officer"),
            ("/officer/edit-requests/{}", "edit_p", None),
        ],
        "officer_site.message": [
            ("/officer/messages/{}", "notice_a", "officer"),
            ("/officer/messages/{}", "notice_all", "both"),
            ("/officer/messages/{}", "notice_isf", None),
        ],
    }
    if endpoint in owned:
        for pattern, key, owner in owned[endpoint]:
            url = pattern.format(w[key])
            mine = {
                "officer": OK if owner in ("officer", "both") else 404,
                "other_officer": OK if owner in ("other_officer", "both") else 404,
            }
            add("GET", url, officer_only(**mine))
            if "POST" in methods:
                add(
                    "POST",
                    url,
                    officer_only(**{k: (NOT_5XX if v == OK else v) for k, v in mine.items()}),
                    body={"decision": "approve", "action": "finalize", "status": "approved"},
                )
        return cells

    # ---- distributor pages (distributor = d1 owns b1, other_distributor = d2 owns b2)
    if endpoint == "distributor_site.dashboard":
        add("GET", "/distributor/", distributor_only())
        return cells
    if endpoint == "distributor_site.manager_mobile":
        # Only a distributor migrated without a manager mobile gives it here (issue 18).
        add(
            "GET",
            "/distributor/manager-mobile",
            distributor_only(redirect_to("/distributor/"), redirect_to("/distributor/")),
        )
        add(
            "POST",
            "/distributor/manager-mobile",
            distributor_only(redirect_to("/distributor/"), redirect_to("/distributor/")),
            body={"manager_mobile": "09121112233"},
        )
        return cells
    if endpoint == "distributor_site.branch_new":
        add("GET", "/distributor/branches/new", distributor_only())
        add("POST", "/distributor/branches/new", distributor_only(NOT_5XX, NOT_5XX), body={"name": "x"})
        return cells
    if endpoint == "distributor_site.nominate":
        for key, owner in (("b1", "distributor"), ("b2", "other_distributor")):
            url = f"/distributor/branches/{w[key]}/nominate"
            mine = {
                "distributor": OK if owner == "distributor" else 404,
                "other_distributor": OK if owner == "other_distributor" else 404,
            }
            add("GET", url, distributor_only(**mine))
            add(
                "POST",
                url,
                distributor_only(**{k: (NOT_5XX if v == OK else v) for k, v in mine.items()}),
                body={"national_code": world.objects["officer_a"].national_code},
            )
        return cells
    if endpoint == "distributor_site.release":
        for key, owner in (("b1", "distributor"), ("b2", "other_distributor")):
            mine = {
                "distributor": redirect_to("/distributor/") if owner == "distributor" else 404,
                "other_distributor": redirect_to("/distributor/") if owner == "other_distributor" else 404,
            }
            add("POST", f"/distributor/branches/{w[key]}/release", distributor_only(**mine))
        return cells
    raise AssertionError(f"route {rule.rule} ({endpoint}) is not in the security matrix: classify it")


def _admin_static_file(rule):
    import os

    from flask import current_app

    folder = current_app.blueprints["admin"].static_folder
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith(".css"):
                return os.path.relpath(os.path.join(root, name), folder)
    raise AssertionError("no admin static file")


def admin_views(app):
    admin = app.extensions["admin"][0]
    return {view.endpoint: view for view in admin._views if view.endpoint != "admin"}


def all_cells(app, world) -> list[Cell]:
    cells = []
    views = admin_views(app)
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            methods = rule.methods - {"HEAD", "OPTIONS"}
            view, _, sub = rule.endpoint.partition(".")
            if view in views:
                if sub not in GENERIC_SUBROUTES and (view, sub) not in CUSTOM_SUBROUTES:
                    raise AssertionError(f"admin route {rule.rule} ({rule.endpoint}) is not in the matrix")
                cells += admin_cells(world, view, sub, rule)
            else:
                cells += public_and_site_cells(world, rule, rule.endpoint, methods)
    return cells


def check(response, expected) -> str | None:
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == NOT_5XX:
        return None if status < 500 else f"got {status}"
    if isinstance(expected, int):
        return None if status == expected else f"expected {expected}, got {status} {location}"
    kind, _, prefix = expected.partition(":")
    if status != 302:
        return f"expected 302 to {prefix}, got {status}"
    parts = urlsplit(location)
    if parts.netloc not in ("", "localhost"):
        return f"redirect leaves the site: {location}"
    if not parts.path.startswith(prefix):
        return f"expected redirect to {prefix}, got {location}"
    return None


def leaked(body: str, secrets) -> list[str]:
    return [s for s in secrets if s in body]


# ---------------------------------------------------------------------- the matrix


def test_every_route_is_in_the_matrix(app, make_officer, make_staff, dbc):
    """A new route fails here until someone decides who may reach it."""
    world = build_world(app, make_officer, make_staff, login_clients=False)
    cells = all_cells(app, world)
    covered = {c.endpoint for c in cells}
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints <= covered, sorted(endpoints - covered)
    assert len(cells) > 250


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, make_officer, make_staff, dbc, role):
    world = build_world(app, make_officer, make_staff)
    client = world.clients[role]
    cells = all_cells(app, world)
    secrets = world.secrets[role]
    problems = []

    def run(cell, body):
        response = client.get(cell.url) if cell.method == "GET" else client.post(cell.url, data=body)
        expected = cell.expect[role]
        problem = check(response, expected)
        if problem:
            problems.append(f"{cell.method} {cell.url}: {problem}")
        found = leaked(response.get_data(as_text=True), secrets)
        if found:
            problems.append(f"{cell.method} {cell.url}: leaks {found}")
        return response

    gets = [c for c in cells if c.method == "GET"]
    posts = [c for c in cells if c.method == "POST" and not c.last]
    refused = [
        c
        for c in posts
        if c.never_changes or c.expect[role] != NOT_5XX and not str(c.expect[role]).startswith("redirect:")
    ]
    allowed = [c for c in posts if c not in refused]

    for cell in gets:
        run(cell, None)
    before = fingerprint()
    for cell in refused:
        run(cell, cell.body)
    assert fingerprint() == before, "a refused POST changed the database"
    for cell in allowed:  # permitted for this role: an empty form, which must not crash
        run(cell, cell.allowed_body if cell.allowed_body is not None else {})
    for cell in [c for c in cells if c.last]:
        run(cell, cell.body)
    assert not problems, f"{len(problems)} cells failed for {role}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------- 13: another university


def _csv_rows(response):
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_reviewer_b_sees_nothing_of_university_a_anywhere(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    reviewer_b = world.clients["reviewer_b"]
    officer_a, officer_q = world.objects["officer_a"], world.objects["officer_q"]
    a_records = {
        "qualification": {world["qa"], world["qq"]},
        "cooperation": {world["coop_q"]},
        "editrequest": {world["edit_q"]},
    }
    b_records = {"qualification": {world["qisf"]}, "cooperation": {world["coop_p"]}, "editrequest": {world["edit_p"]}}
    before = fingerprint()
    for view in SHARED_VIEWS:
        listing = reviewer_b.get(f"/admin/{view}/").get_data(as_text=True)
        shown = {int(i) for i in re.findall(r"review/\?id=(\d+)", listing)}
        assert shown == b_records[view], (view, shown)
        rows = _csv_rows(reviewer_b.get(f"/admin/{view}/export/csv/"))
        assert {int(r[0]) for r in rows[1:]} == b_records[view], (view, rows)
        for officer in (officer_a, officer_q):
            code = officer.national_code
            found = reviewer_b.get(f"/admin/{view}/?search={code}").get_data(as_text=True)
            # (the search box and the export link repeat the query itself)
            assert officer.last_name not in found and not re.search(r"review/\?id=\d+", found)
            assert officer.mobile not in found and officer.user_code not in found
            exported = reviewer_b.get(f"/admin/{view}/export/csv/?search={code}")
            assert len(_csv_rows(exported)) == 1 and code not in exported.get_data(as_text=True)
        # A filter on university A's id does not widen the scope.
        if view == "cooperation":
            filtered = reviewer_b.get(f"/admin/cooperation/?flt0_1={world['uni_a']}").get_data(as_text=True)
            assert not re.search(r"review/\?id=\d+", filtered)
        for record_id in a_records[view]:
            assert reviewer_b.get(f"/admin/{view}/details/?id={record_id}").status_code == 302
            assert reviewer_b.get(f"/admin/{view}/review/?id={record_id}").status_code == 404
            assert (
                reviewer_b.post(
                    f"/admin/{view}/review/?id={record_id}", data={"decision": "approve", "note": "x"}
                ).status_code
                == 404
            )
            assert (
                reviewer_b.post(
                    f"/admin/{view}/reassign/?id={record_id}", data={"university": str(world["uni_b"])}
                ).status_code
                == 404
            )
            assert (
                reviewer_b.post(
                    f"/admin/{view}/action/", data={"action": "delete", "rowid": str(record_id)}
                ).status_code
                == 302
            )
            assert reviewer_b.post(f"/admin/{view}/delete/", data={"id": str(record_id)}).status_code == 302
            assert (
                reviewer_b.get(f"/admin/{view}/ajax/lookup/?name=officer&query={officer_a.national_code}").status_code
                == 404
            )
    for doc in ("doc_qa", "doc_qq"):
        assert reviewer_b.get(f"/admin/qualification/document/?doc={world[doc]}").status_code == 404
    assert reviewer_b.get(f"/admin/editrequest/document/?doc={world['doc_edit_q']}").status_code == 404
    dashboard = reviewer_b.get("/admin/").get_data(as_text=True)
    assert not leaked(dashboard, world.secrets["reviewer_b"])
    assert fingerprint() == before


def test_get_on_delete_and_decision_routes_is_405(app, make_officer, make_staff, dbc):
    """Checklist 17: state changes only by POST; a GET with the decision in the query decides nothing."""
    world = build_world(app, make_officer, make_staff)
    director, reviewer_a = world.clients["directorate"], world.clients["reviewer_a"]
    checked = 0
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if methods == {"POST"}:
            url = re.sub(
                r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(world["b1"]) if "id" in m.group(1) else "en", rule.rule
            )
            for client in (director, world.clients["distributor"], world.clients["officer"]):
                assert client.get(url).status_code == 405, url
            checked += 1
    assert checked >= 18 * 3 + 5
    before = fingerprint()
    for view, key in (("qualification", "qa"), ("editrequest", "edit_q")):
        for client in (reviewer_a, director):
            response = client.get(f"/admin/{view}/review/?id={world[key]}&decision=approve&note=x")
            assert response.status_code == 200
    officer_q = world.clients["other_officer"]
    officer_q.get(f"/officer/termination/{world['termination']}?action=finalize")
    world.clients["distributor"].get(f"/distributor/branches/{world['b1']}/release")
    assert fingerprint() == before
    assert models.QualificationRequest.get_by_id(world["qa"]).status == "submitted"


# ---------------------------------------------------------------------- 14: crafted fields


def test_crafted_officer_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    officer_a = world.objects["officer_a"]
    client = world.clients["officer"]
    extra = {
        "status": "approved",
        "role": "directorate",
        "national_code": "0790419904",
        "university": str(world["uni_b"]),
        "reviewer": str(world["reviewer_b"]),
        "qualified_at": "2020-01-01 00:00:00",
        "qualification_number": "1400-000001",
        "is_active": "0",
        "user_code": "11111111",
        "officer": str(world["officer_q"]),
        "id": str(world["officer_q"]),
        "password_hash": "x",
        "birth_date": "1300/01/01",
        "university_id": str(world["uni_b"]),
    }
    client.post("/officer/profile/edit", data=dict(extra, address="تهران، خیابان آزادی، پلاک ۱۲"))
    client.post(f"/officer/qualification/{world['qa']}", data=dict(extra, action="resubmit"))
    fresh = models.Officer.get_by_id(officer_a.id)
    assert (
        fresh.national_code,
        fresh.user_code,
        fresh.birth_date,
        fresh.is_active,
        fresh.qualified_at,
        fresh.university_id,
        fresh.qualification_number,
        fresh.password_hash,
    ) == (
        officer_a.national_code,
        officer_a.user_code,
        officer_a.birth_date,
        True,
        None,
        None,
        None,
        officer_a.password_hash,
    )
    qa = models.QualificationRequest.get_by_id(world["qa"])
    assert (qa.status, qa.university_id, qa.reviewer_id, qa.officer_id) == (
        "submitted",
        world["uni_a"],
        None,
        officer_a.id,
    )

    # officer_q accepting a pending cooperation cannot make it active or move it.
    officer_q = world.objects["officer_q"]
    q_client = world.clients["other_officer"]
    q_client.post(f"/officer/edit-requests/{world['edit_q']}", data=dict(extra, action="resubmit"))
    edit = models.EditRequest.get_by_id(world["edit_q"])
    assert (edit.status, edit.university_id, edit.officer_id) == ("submitted", world["uni_a"], officer_q.id)
    q_client.post(f"/officer/termination/{world['termination']}", data=dict(extra, action="save"))
    assert models.TerminationRequest.get_by_id(world["termination"]).status == "draft"

    # Registration with extra fields: the new account is plain.
    anon = world.clients["anonymous"]
    from helpers import national_code, registration_data

    code = national_code(555555)
    data = registration_data(national_code=code, mobile="09129998877")
    response = anon.post("/officer/register", data={**extra, **data})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    new = models.Officer.get(models.Officer.national_code == code)
    assert new.qualified_at is None and new.university_id is None and new.is_active
    assert new.qualification_number is None and new.user_code != "11111111"
    assert new.password_hash.startswith("$argon2id$")


def test_crafted_distributor_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    client = world.clients["distributor"]
    tehran = models.City.get(models.City.name == "تهران")
    extra = {
        "distributor": str(world["d2"]),
        "distributor_id": str(world["d2"]),
        "is_active": "0",
        "status": "active",
        "university": str(world["uni_b"]),
        "officer": str(world["officer_a"]),
        "branch": str(world["b2"]),
        "id": str(world["b2"]),
    }
    response = client.post(
        "/distributor/branches/new",
        data=dict(
            extra,
            name="شعبه جدید",
            province=str(tehran.province_id),
            city=str(tehran.id),
            address="تهران، خیابان ولیعصر، پلاک ۳۳",
        ),
    )
    assert response.status_code == 302
    branch = models.Branch.select().order_by(models.Branch.id.desc()).first()
    assert branch.name == "شعبه جدید" and branch.distributor_id == world["d1"] and branch.is_active
    # Nominating a qualified officer with forged status/university: the request waits for the officer.
    officer_p = world.objects["officer_p"]
    client.post(f"/distributor/branches/{branch.id}/nominate", data=dict(extra, national_code=officer_p.national_code))
    nomination = models.Cooperation.select().where(models.Cooperation.branch == branch.id).first()
    assert nomination is not None
    assert (nomination.status, nomination.distributor_id, nomination.university_id) == (
        "pending_officer",
        world["d1"],
        tehran.university_id,
    )
    # Distributor 2's branch is unchanged.
    b2 = models.Branch.get_by_id(world["b2"])
    assert b2.distributor_id == world["d2"] and b2.is_active


def test_crafted_admin_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    reviewer_a, director = world.clients["reviewer_a"], world.clients["directorate"]
    # A reviewer's decision with forged university/reviewer/status fields: only the decision counts.
    response = reviewer_a.post(
        f"/admin/qualification/review/?id={world['qa']}",
        data={
            "decision": "deficiency",
            "note": "کارت ملی ناخواناست",
            "status": "approved",
            "university": str(world["uni_b"]),
            "reviewer": str(world["reviewer_b"]),
            "officer": str(world["officer_q"]),
            "qualification_number": "1400-999999",
            "role": "directorate",
        },
    )
    assert response.status_code == 302
    qa = models.QualificationRequest.get_by_id(world["qa"])
    assert (qa.status, qa.university_id, qa.reviewer_id, qa.officer_id, qa.qualification_number) == (
        "deficient",
        world["uni_a"],
        world["reviewer_a"],
        world["officer_a"],
        None,
    )
    # A reviewer cannot reassign, not even within their university.
    before = fingerprint()
    reviewer_a.post(
        f"/admin/editrequest/reassign/?id={world['edit_q']}",
        data={"university": str(world["uni_b"]), "reviewer": str(world["reviewer_b"])},
    )
    assert fingerprint() == before
    # A reviewer cannot edit their own account (role, university) through the staff view.
    response = reviewer_a.post(
        f"/admin/staff/edit/?id={world['reviewer_a']}",
        data={"username": "rev_tehran", "role": "directorate", "university": ""},
    )
    assert response.status_code == 403
    staff = models.StaffUser.get_by_id(world["reviewer_a"])
    assert (staff.role, staff.university_id) == ("university", world["uni_a"])
    # The directorate edits a distributor; forged hash/id/created_at are ignored.
    d1 = models.Distributor.get_by_id(world["d1"])
    response = director.post(
        f"/admin/distributor/edit/?id={d1.id}",
        data={
            "username": d1.username,
            "name": "شرکت پخش البرز نو",
            "kind": "company",
            "national_id": d1.national_id,
            "manager_name": d1.manager_name,
            "manager_mobile": d1.manager_mobile,
            "is_active": "y",
            "password_hash": "plain",
            "id": str(world["d2"]),
            "created_at": "2000-01-01",
            "legacy_id": "forged",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    fresh = models.Distributor.get_by_id(d1.id)
    assert fresh.name == "شرکت پخش البرز نو"
    assert fresh.password_hash == d1.password_hash and fresh.created_at == d1.created_at
    assert fresh.legacy_id == d1.legacy_id
    assert models.Distributor.get_by_id(world["d2"]).name == "شرکت پخش زاگرس"
    # The directorate's notice cannot claim another sender or a decision kind.
    response = director.post(
        "/admin/message/new/",
        data={
            "subject": "اطلاعیه",
            "body": "متن",
            "audience": "all",
            "sender": str(world["reviewer_a"]),
            "kind": "decision",
            "officer": str(world["officer_a"]),
        },
    )
    assert response.status_code == 302
    notice = models.Notice.select().order_by(models.Notice.id.desc()).first()
    assert (notice.subject, notice.kind, notice.sender_id, notice.officer_id) == (
        "اطلاعیه",
        "directorate",
        world["director"],
        None,
    )
    # The officer view is read-only, whatever is posted.
    officer_a = world.objects["officer_a"]
    director.post(
        f"/admin/officer/edit/?id={officer_a.id}",
        data={"national_code": "0790419904", "first_name": "تغییر", "qualified_at": "2020-01-01", "is_active": ""},
    )
    fresh = models.Officer.get_by_id(officer_a.id)
    assert (fresh.national_code, fresh.first_name, fresh.qualified_at, fresh.is_active) == (
        officer_a.national_code,
        officer_a.first_name,
        None,
        True,
    )


def test_bulk_actions_and_deletes_change_nothing(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    before = fingerprint()
    views = admin_views(app)
    for role in ("reviewer_a", "reviewer_b", "directorate"):
        client = world.clients[role]
        for view in views:
            for record_id in record_ids(world, view):
                client.post(f"/admin/{view}/action/", data={"action": "delete", "rowid": [str(record_id)]})
                client.post(f"/admin/{view}/delete/", data={"id": str(record_id)})
                client.post(f"/admin/{view}/delete/?id={record_id}", data={"id": str(record_id)})
    # A real action, on ids of another university, by a reviewer: refused (the SMS view is not theirs).
    response = world.clients["reviewer_b"].post(
        "/admin/sms/action/", data={"action": "resend", "rowid": [str(world["sms"])]}
    )
    assert response.status_code == 403
    assert fingerprint() == before


def test_sms_bulk_action_with_garbage_ids_is_not_a_server_error(app, make_officer, make_staff, dbc):
    """Crafted row ids for a real action: refused cleanly, not a 500."""
    world = build_world(app, make_officer, make_staff)
    director = world.clients["directorate"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = director.post("/admin/sms/action/", data={"action": "resend", "rowid": ["1 OR 1=1", "abc"]})
    assert response.status_code < 500


def test_empty_ajax_update_is_not_a_server_error(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for view in sorted(INLINE_EDITABLE):
        assert director.post(f"/admin/{view}/ajax/update/", data={"eligible": "y"}).status_code == 400


def test_no_fileadmin_is_registered(app):
    """Checklist 27: no Flask-Admin FileAdmin, so no upload or browse of server folders."""
    from flask_admin.contrib.fileadmin import BaseFileAdmin

    admin = app.extensions["admin"][0]
    assert not [v for v in admin._views if isinstance(v, BaseFileAdmin)]
    assert not [
        r.rule
        for r in app.url_map.iter_rules()
        if re.search(r"upload|mkdir|rename|download", r.rule) and r.rule.startswith("/admin")
    ]
