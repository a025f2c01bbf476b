"""The access matrix's cells: every route of ``app.url_map`` with its arguments replaced by
the world's ids, and the outcome each role must get."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from security_world import (
    CREATABLE,
    CUSTOM_SUBROUTES,
    EDITABLE,
    GENERIC_SUBROUTES,
    INLINE_EDITABLE,
    ROLES,
    SHARED_VIEWS,
    STAFF,
)

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
        "citydistrict": [world["citydistrict"]],
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
    elif sub == "cancel_view":
        for record_id in record_ids(world, view):
            # A reviewer may not cancel: refused in the domain (the page redirects back).
            outcome = scoped(record_id, redirect_to(f"{listing}review/"), 404)
            outcome["directorate"] = NOT_5XX
            cells.append(
                Cell(
                    f"{view}.{sub}",
                    "POST",
                    f"{listing}cancel/?id={record_id}",
                    admin_cell(view, outcome["reviewer_a"], outcome["reviewer_b"], outcome["directorate"]),
                    body={"note": "x"},
                )
            )
    elif sub == "bulk_reassign_view":
        url = listing + "bulk-reassign/"
        cells.append(Cell(f"{view}.{sub}", "GET", url, admin_cell(view, 403, 403, OK)))
        ids = " ".join(str(i) for i in record_ids(world, view))
        cells.append(
            Cell(
                f"{view}.{sub}",
                "POST",
                url,
                admin_cell(view, 403, 403, NOT_5XX),
                body={"ids": ids, "university": str(world["uni_b"])},
            )
        )
    elif sub == "escalated_view":
        cells.append(Cell(f"{view}.{sub}", "GET", listing + "escalated/", admin_cell(view, OK, OK, OK)))
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
    elif sub == "manage_view":
        # The directorate's account tools: reviewers get 403 (the view is directorate-only).
        url = f"{listing}manage/?id={world['officer_a']}"
        cells.append(Cell(f"{view}.{sub}", "GET", url, admin_cell(view, 403, 403, OK)))
        cells.append(
            Cell(
                f"{view}.{sub}",
                "POST",
                url,
                admin_cell(view, 403, 403, NOT_5XX),
                body={"action": "reactivate", "reason": "x"},
            )
        )
        cells.append(Cell(f"{view}.{sub}", "GET", f"{listing}manage/?id=999999", admin_cell(view, 403, 403, 404)))
    elif sub == "evidence_view":
        url = f"{listing}evidence/?id={world['officer_a']}&doc={world['doc_qa']}"  # not an evidence document
        cells.append(Cell(f"{view}.{sub}", "GET", url, admin_cell(view, 403, 403, 404)))
    elif sub == "claims_view":
        cells.append(Cell(f"{view}.{sub}", "GET", f"{listing}claims/", admin_cell(view, 403, 403, OK)))
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
        "distributor_site.password_reset": "/distributor/password/reset",
        "distributor_site.password_reset_confirm": "/distributor/password/reset/confirm",
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
    if endpoint in ("health.healthz", "health.readyz", "metrics.metrics"):  # same for all; no history here: 503
        add("GET", rule.rule, everyone(503 if endpoint == "health.readyz" else OK))
        return cells
    if endpoint == "officer_site.register_confirm":
        # Without a live registration attempt there is nothing to confirm, for anyone.
        add("GET", "/officer/register/confirm/no-such-attempt", everyone(410))
        add("POST", "/officer/register/confirm/no-such-attempt", everyone(410), body={"code": "123456"})
        return cells
    if endpoint == "officer_site.registered":
        # Shows only the account this browser just registered.
        add("GET", "/officer/register/done", everyone(404))
        return cells
    if endpoint == "public.branch":
        add("GET", f"/branch/{w['b1_token']}", everyone(OK))
        add("GET", f"/branch/{w['b2_token']}", everyone(OK))
        add("GET", f"/branch/{w['b1']}", everyone(404))  # the sequential id no longer opens it (L1)
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
        # Both officers have a district (or a city without districts): nothing to ask.
        "officer_site.district": ("/officer/district", redirect_to("/officer/"), redirect_to("/officer/")),
        # No mobile change under way: back to the profile form, for either officer.
        "officer_site.mobile_confirm": (
            "/officer/profile/mobile/no-such-attempt",
            redirect_to("/officer/profile/edit"),
            redirect_to("/officer/profile/edit"),
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
    if endpoint == "distributor_site.password":
        add("GET", "/distributor/password", distributor_only())
        add("POST", "/distributor/password", distributor_only(NOT_5XX, NOT_5XX), body={"current_password": "x"})
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
    # A branch's release and a nomination's withdrawal: the owner's goes through, the other's is a 404.
    owned_actions = {
        "distributor_site.release": ("/distributor/branches/{}/release", "b1", "b2"),
        "distributor_site.withdraw": ("/distributor/cooperation/{}/withdraw", "coop_q", "coop_p"),
    }
    if endpoint in owned_actions:
        pattern, own, others = owned_actions[endpoint]
        for key, owner in ((own, "distributor"), (others, "other_distributor")):
            mine = {
                "distributor": redirect_to("/distributor/") if owner == "distributor" else 404,
                "other_distributor": redirect_to("/distributor/") if owner == "other_distributor" else 404,
            }
            add("POST", pattern.format(w[key]), distributor_only(**mine))
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
