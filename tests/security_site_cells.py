"""The access matrix's cells for the routes outside the back office: the public pages and
the officer's and the distributor's sites."""

from __future__ import annotations

from security_expect import (
    ADMIN_LOGIN,
    NOT_5XX,
    OK,
    Cell,
    distributor_only,
    everyone,
    officer_only,
    redirect_to,
)


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
        # Only a migrated officer with missing fields completes the profile (issue 18).
        "officer_site.profile_complete": (
            "/officer/profile/complete",
            redirect_to("/officer/"),
            redirect_to("/officer/"),
        ),
        # Neither officer came over from the old system: nothing to confirm (issue 18).
        "officer_site.migration_confirm": ("/officer/migration", redirect_to("/officer/"), redirect_to("/officer/")),
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
    if endpoint == "distributor_site.release":
        for key, owner in (("b1", "distributor"), ("b2", "other_distributor")):
            mine = {
                "distributor": redirect_to("/distributor/") if owner == "distributor" else 404,
                "other_distributor": redirect_to("/distributor/") if owner == "other_distributor" else 404,
            }
            add("POST", f"/distributor/branches/{w[key]}/release", distributor_only(**mine))
        return cells
    if endpoint == "distributor_site.withdraw":
        for key, owner in (("coop_q", "distributor"), ("coop_p", "other_distributor")):
            mine = {
                "distributor": redirect_to("/distributor/") if owner == "distributor" else 404,
                "other_distributor": redirect_to("/distributor/") if owner == "other_distributor" else 404,
            }
            add("POST", f"/distributor/cooperation/{w[key]}/withdraw", distributor_only(**mine))
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
