"""The access matrix's cells: every route of ``app.url_map`` with its arguments replaced by
the world's ids, and the outcome each role must get (the site's and the public routes' cells
in security_site_cells.py, the expectations' vocabulary in security_expect.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from security_api_cells import api_cells, is_api
from security_expect import (  # noqa: F401  (NOT_5XX: re-exported for the matrix tests)
    ADMIN_LOGIN,
    NOT_5XX,
    OK,
    Cell,
    everyone,
    redirect_to,
)
from security_site_cells import public_and_site_cells
from security_world import (
    CREATABLE,
    CUSTOM_SUBROUTES,
    EDITABLE,
    GENERIC_SUBROUTES,
    INLINE_EDITABLE,
    SHARED_VIEWS,
    STAFF,
)


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
        "apiclient": [world["apiclient"]],
        "webhook": [world["webhook"]],
        "webhookdelivery": [world["webhookdelivery"]],
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
    elif sub == "move_files_view":
        # The directorate only: it moves a city's files under way to its new university.
        url = f"{listing}move-files/?id={world['city']}"
        cells.append(Cell(f"{view}.{sub}", "GET", url, admin_cell(view, 403, 403, OK)))
        cells.append(Cell(f"{view}.{sub}", "POST", url, admin_cell(view, 403, 403, NOT_5XX)))
        cells.append(Cell(f"{view}.{sub}", "GET", f"{listing}move-files/?id=999999", admin_cell(view, 403, 403, 404)))
    elif (view, sub) in DIRECTORATE_TOOLS:
        # The directorate's tools for any branch or distributor (issue 15): reviewers get 403.
        path, key = DIRECTORATE_TOOLS[(view, sub)]
        url = f"{listing}{path}/?id={world[key]}"
        cells.append(Cell(f"{view}.{sub}", "GET", url, admin_cell(view, 403, 403, OK)))
        cells.append(Cell(f"{view}.{sub}", "POST", url, admin_cell(view, 403, 403, NOT_5XX)))
        cells.append(Cell(f"{view}.{sub}", "GET", f"{listing}{path}/?id=999999", admin_cell(view, 403, 403, 404)))
    else:
        raise AssertionError(f"unclassified admin rule {rule}")
    return cells


DIRECTORATE_TOOLS = {
    ("branch", "change_view"): ("change", "b1"),
    ("branch", "close_view"): ("close", "b1"),
    ("distributor", "manager_mobile_view"): ("manager-mobile", "d1"),
}


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
            elif is_api(rule):
                cells += api_cells(world, rule)
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
