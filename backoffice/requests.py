"""University cartables of reviewed requests, and their review pages."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from peewee import JOIN

import models
import persian
from models import (
    City,
    DegreeLevel,
    Document,
    FieldOfStudy,
    Officer,
    QualificationRequest,
    StaffUser,
    University,
    parse_id,
)
from web.documents import send_document
from web.errors import flash_error, refusals_flashed, status_of
from web.forms import ActionForm
from web.labels import status_label
from web.security import deny

from .base import (
    COUNT_CAP,
    SecureModelView,
    current_staff,
    exported_by_name,
    reference_names,
    staff_actor,
)
from .cartable_cells import (
    code_html,
    due_cell,
    lean_due,
    lean_status,
    lean_waiting,
    review_link_cell,
    sortable_columns,
    status_cell,
    waiting_cell,
    waiting_days,
)
from .export import ExportColumn
from .filters import (
    AssignedToMeFilter,
    IdFilter,
    JalaliDateFilter,
    OfficerSearchMixin,
    OverdueFilter,
    district_filter,
    options_of,
)
from .housekeeping import HousekeepingMixin
from .lean_list import LeanListMixin, code_cell, name_cell, person_cell, review_link, stamp_cell, text_cell
from .list_counts import list_counts

# A branch's city, joined under its own name next to the request's own city.
BRANCH_CITY = City.alias("branch_city")


def request_export_columns(model, **more):
    """The exported columns every cartable reads the same way from its joined query."""
    return dict(
        {
            "status": ExportColumn(model.status, format=status_label, memo=True),
            "waiting": ExportColumn(model.status, model.last_submitted_at, format=waiting_days),
            "officer": ExportColumn(Officer.first_name, Officer.last_name, format=Officer.name_of),
            "national_code": ExportColumn(Officer.national_code),
        },
        **more,
    )


class ReviewQueueView(HousekeepingMixin, LeanListMixin, SecureModelView):
    """A cartable: reviewers see their university's requests only, in every view."""

    allowed_roles = ("directorate", "university")
    review_template = "admin/review.html"
    column_formatters = {
        "status": status_cell,
        "waiting": waiting_cell,
        "due_on": due_cell,
        "id": review_link_cell,
        "national_code": lambda v, c, m, n: code_html(m.officer.national_code),
        "university": lambda v, c, m, n: m.university.name if m.university_id else "",
    }
    column_labels = {"waiting": _l("Days waiting"), "due_on": _l("Decision due"), "university": _l("University")}
    list_template = "admin/cartable.html"
    # The list is a work queue: the nearest due date first, then the longest waiting.
    column_default_sort = [("due_on", False), ("last_submitted_at", False)]
    # Seen by the directorate only: a reviewer's cartable is their own university's.
    directorate_columns = ("university",)
    column_formatters_export = {
        "status": lambda v, c, m, n: status_label(m.status),
        "waiting": lambda v, c, m, n: waiting_days(m.status, m.last_submitted_at),
    }

    def scope(self, query):
        return self.model.visible_to(staff_actor() if current_staff() else None, query)

    # ------------------------------------------------------------ the work queue

    def current_tab(self) -> str:
        """The tab asked for; a search or an export without one covers every tab."""
        asked = request.args.get("tab")
        if asked is None and (request.args.get("search") or request.endpoint == f"{self.endpoint}.export"):
            return "all"
        return models.cartable.tab_code(asked)

    # The tab and list counts are kept a few seconds (backoffice/list_counts.py); each page's
    # statement is compiled once (SecureModelView.compile_pages).
    cache_counts = True
    compile_pages = True

    def count_scope(self) -> tuple:
        return (self.current_tab(),)

    def tab_counts(self) -> dict:
        """Each tab's capped count for the staff member, kept as the list's count is."""
        key = (self.endpoint, current_staff().id, "tabs", models.utcnow().date())
        return list_counts().get(key, lambda: models.cartable.tab_counts(self.model, staff_actor(), cap=COUNT_CAP))

    def list_query(self):
        return self.get_query().where(models.cartable.tab_clause(self.model, self.current_tab(), staff_actor()))

    def list_count_query(self):
        return self.get_count_query().where(models.cartable.tab_clause(self.model, self.current_tab(), staff_actor()))

    @expose("/")
    def index_view(self):
        self._template_args.update(
            cartable_tabs=models.cartable.TABS,
            cartable_tab=self.current_tab(),
            cartable_counts=self.tab_counts(),
            cartable_cap=COUNT_CAP,
            cartable_hidden=() if staff_actor().is_directorate else self.directorate_columns,
        )
        return super().index_view()

    def _visible_request(self):
        found = self.get_one(request.args.get("id"))
        if found is None:
            deny(404)
        return found

    @expose("/review/", methods=("GET", "POST"))
    def review_view(self):
        item = self._visible_request()
        form = ActionForm()
        if request.method != "POST":
            return self.render(self.review_template, **self.review_context(item, form))
        if not form.validate_on_submit():
            abort(400)
        chosen = {
            name: request.form[name]
            for name in ("decision", "reason", "deficiency_reason", "note")
            if name in request.form
        }
        try:
            decided = models.cartable.decide(
                item,
                staff_actor(),
                chosen.get("decision", ""),
                chosen,
                chosen.get("note", ""),
                decisions=self.decisions,
                # The version the page showed: a decision on an out-of-date page is refused.
                expected_version=request.form.get("version"),
            )
        except models.ValidationFailed as error:
            errors = {
                name: gettext(msgid) % params if params else gettext(msgid)
                for name, (msgid, params) in error.errors.items()
            }
            context = self.review_context(item, form, chosen=chosen, errors=errors)
            return self.render(self.review_template, **context), 422
        except models.DomainError as error:
            flash_error(error)
            return self.render(self.review_template, **self.review_context(item, form, chosen=chosen)), status_of(error)
        flash(self.decision_message(decided), "success")
        return redirect(self.get_url(".review_view", id=item.id, tab=self.current_tab(), decided=1))

    def decision_message(self, item) -> str:
        """What the reviewer is told after a decision (a type may name what it issued)."""
        return gettext("The decision was recorded.")

    decisions = ("approve", "reject", "deficiency")

    def review_context(self, item, form, chosen=None, errors=None):
        actor = staff_actor()
        allowed = [a for a in item.allowed_actions(actor) if a in self.decisions]
        tab = self.current_tab()
        following = models.cartable.next_request(self.model, actor, tab, item.id)
        return {
            "item": item,
            "form": form,
            "allowed": allowed,
            "chosen": chosen or {},
            "errors": errors or {},
            "tab": tab,
            "tab_label": dict((t.code, t.label) for t in models.cartable.TABS)[tab],
            "next_url": self.get_url(".review_view", id=following.id, tab=tab) if following else None,
            "list_url": self.get_url(".index_view", tab=tab),
            "just_decided": request.args.get("decided") == "1",
            "earlier_requests": [
                (model.REQUEST_TYPE, model.TITLE, row) for model, row in models.cartable.applicant_requests(item, actor)
            ],
            "history": list(item.history()),
            "documents": list(item.current_documents()),
            "old_documents": [d for d in item.all_documents() if d.superseded_at],
            "reasons": models.cartable.reasons_for(self.model, "reject"),
            "deficiency_reasons": models.cartable.reasons_for(self.model, "deficiency"),
            "can_reassign": actor.is_directorate,
            "cancellable": [a for a in item.allowed_actions(actor) if a == models.Action.CANCEL],
            "universities": persian.sorted_persian(University.select(), key=lambda u: u.name)
            if actor.is_directorate
            else [],
            "reviewers": list(
                StaffUser.select()
                .where(StaffUser.role == "university", StaffUser.is_active == True)  # noqa: E712
                .order_by(StaffUser.username)
            )
            if actor.is_directorate
            else [],
        }

    @expose("/reassign/", methods=("POST",))
    def reassign_view(self):
        item = self._visible_request()
        if not ActionForm().validate_on_submit():
            abort(400)
        university = University.get_or_none(University.id == request.form.get("university", type=parse_id))
        reviewer = (
            StaffUser.get_or_none(StaffUser.id == request.form.get("reviewer", type=parse_id))
            if request.form.get("reviewer")
            else None
        )
        with refusals_flashed():
            models.reassign(
                item, staff_actor(), university=university, reviewer=reviewer, note=request.form.get("note", "")
            )
            flash(gettext("The request was reassigned."), "success")
        return redirect(self.get_url(".review_view", id=item.id))

    @expose("/document/")
    def document_view(self):
        """A document of a request the staff member may see; anything else is 404."""
        document = Document.get_or_none(Document.id == request.args.get("doc", type=parse_id))
        if document is None or document.request_type != self.model.REQUEST_TYPE:
            deny(404)
        if self.get_one(document.request_id) is None:
            deny(404)
        return self._send_audited(document)

    def _send_audited(self, document):
        """Every staff view or download of an officer's document is audited (D9)."""
        models.audit(
            staff_actor(),
            "document_viewed",
            document,
            detail=f"{document.request_type} #{document.request_id}; officer {document.officer_id}; "
            f"{document.kind.code}",
        )
        return send_document(document, inline=request.args.get("inline") == "1")


class QualificationView(OfficerSearchMixin, ReviewQueueView):
    column_list = (
        "id",
        "officer",
        "national_code",
        "city",
        "district",
        "field_of_study",
        "degree_level",
        "university",
        "status",
        "submitted_at",
        "waiting",
        "due_on",
    )
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"))
    column_sortable_list = sortable_columns(QualificationRequest, "id", "status", "submitted_at")
    column_filters = (
        FilterEqual(
            QualificationRequest.status,
            _l("Status"),
            options=[(code, lazy_pgettext("status", code)) for code in QualificationRequest.FLOW.states],
        ),
        IdFilter(QualificationRequest.city, _l("City"), options=options_of(City)),
        IdFilter(QualificationRequest.field_of_study, _l("Field of study"), options=options_of(FieldOfStudy)),
        IdFilter(QualificationRequest.degree_level, _l("Degree level"), options=options_of(DegreeLevel)),
        JalaliDateFilter(QualificationRequest.submitted_at, _l("Submitted"), after=True),
        JalaliDateFilter(QualificationRequest.submitted_at, _l("Submitted"), after=False),
        AssignedToMeFilter(QualificationRequest.reviewer, _l("Assigned")),
        OverdueFilter(QualificationRequest.due_on, _l("Decision due")),
        district_filter(QualificationRequest.district),
    )
    column_formatters_export = dict(
        ReviewQueueView.column_formatters_export,
        national_code=lambda v, c, m, n: m.officer.national_code,
        officer=lambda v, c, m, n: m.officer.full_name,
        city=lambda v, c, m, n: m.city.name if m.city_id else "",
        field_of_study=lambda v, c, m, n: m.field_of_study.name if m.field_of_study_id else "",
        degree_level=lambda v, c, m, n: m.degree_level.name if m.degree_level_id else "",
    )
    column_export_list = (
        "id",
        "officer",
        "national_code",
        "city",
        "district",
        "field_of_study",
        "degree_level",
        "status",
        "submitted_at",
        "decided_at",
        "waiting",
    )
    export_columns = request_export_columns(
        QualificationRequest,
        city=exported_by_name(QualificationRequest.city),
        field_of_study=exported_by_name(QualificationRequest.field_of_study),
        degree_level=exported_by_name(QualificationRequest.degree_level),
    )
    column_details_list = (
        "id",
        "officer",
        "status",
        "university",
        "reviewer",
        "city",
        "district",
        "field_of_study",
        "degree_level",
        "created_at",
        "submitted_at",
        "decided_at",
        "decision_note",
        "qualification_number",
    )

    # The list page reads these columns as tuples and draws its cells in Python (lean_list).
    lean_fields = {
        "id": QualificationRequest.id,
        "status": QualificationRequest.status,
        "submitted_at": QualificationRequest.submitted_at,
        "last_submitted_at": QualificationRequest.last_submitted_at,
        "due_on": QualificationRequest.due_on,
        "district": QualificationRequest.district,
        "city": QualificationRequest.city,
        "field_of_study": QualificationRequest.field_of_study,
        "degree_level": QualificationRequest.degree_level,
        "university": QualificationRequest.university,
        "first_name": Officer.first_name,
        "last_name": Officer.last_name,
        "national_code": Officer.national_code,
    }
    lean_cells = {
        "id": review_link,
        "officer": person_cell("first_name", "last_name", Officer.name_of),
        "national_code": code_cell("national_code"),
        "city": name_cell("city", reference_names(City)),
        "district": text_cell("district"),
        "field_of_study": name_cell("field_of_study", reference_names(FieldOfStudy)),
        "degree_level": name_cell("degree_level", reference_names(DegreeLevel)),
        "university": name_cell("university", reference_names(University)),
        "status": lean_status,
        "submitted_at": stamp_cell("submitted_at"),
        "waiting": lean_waiting,
        "due_on": lean_due,
    }

    def decision_message(self, item) -> str:
        if item.status == models.State.APPROVED:
            number = Officer.get_by_id(item.officer_id).qualification_number
            return gettext("The request was approved; qualification number %(number)s was issued.", number=number)
        return super().decision_message(item)

    def base_query(self):
        return (
            QualificationRequest.select(QualificationRequest, Officer, City, FieldOfStudy, DegreeLevel, University)
            .join(Officer, on=(QualificationRequest.officer == Officer.id))
            .switch(QualificationRequest)
            .join(University, JOIN.LEFT_OUTER, on=(QualificationRequest.university == University.id))
            .switch(QualificationRequest)
            .join(City, JOIN.LEFT_OUTER, on=(QualificationRequest.city == City.id))
            .switch(QualificationRequest)
            .join(FieldOfStudy, JOIN.LEFT_OUTER, on=(QualificationRequest.field_of_study == FieldOfStudy.id))
            .switch(QualificationRequest)
            .join(DegreeLevel, JOIN.LEFT_OUTER, on=(QualificationRequest.degree_level == DegreeLevel.id))
            .switch(QualificationRequest)
        )


class CooperationView(OfficerSearchMixin, ReviewQueueView):
    """Reviewers: cooperation requests the officer accepted. Directorate: every cooperation."""

    decisions = ("approve", "reject")
    review_template = "admin/review_cooperation.html"
    column_list = (
        "id",
        "officer",
        "national_code",
        "distributor",
        "branch",
        "city",
        "university",
        "status",
        "started_at",
        "ended_at",
        "waiting",
        "due_on",
    )
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"), city=_l("City"))
    column_sortable_list = sortable_columns(models.Cooperation, "id", "status", "started_at", "ended_at")
    column_filters = (
        FilterEqual(
            models.Cooperation.status,
            _l("Status"),
            options=[(code, lazy_pgettext("status", code)) for code in models.Cooperation.FLOW.states],
        ),
        IdFilter(models.Cooperation.university, _l("University"), options=options_of(University)),
        AssignedToMeFilter(models.Cooperation.reviewer, _l("Assigned")),
        OverdueFilter(models.Cooperation.due_on, _l("Decision due")),
    )
    column_formatters = dict(ReviewQueueView.column_formatters, city=lambda v, c, m, n: m.branch.city.name)
    column_formatters_export = dict(
        ReviewQueueView.column_formatters_export,
        national_code=lambda v, c, m, n: m.officer.national_code,
        officer=lambda v, c, m, n: m.officer.full_name,
        distributor=lambda v, c, m, n: m.distributor.name,
        branch=lambda v, c, m, n: m.branch.name,
        city=lambda v, c, m, n: m.branch.city.name,
    )
    column_export_list = (
        "id",
        "officer",
        "national_code",
        "distributor",
        "branch",
        "city",
        "status",
        "started_at",
        "ended_at",
        "end_reason",
    )
    export_columns = request_export_columns(
        models.Cooperation,
        distributor=ExportColumn(models.Distributor.name),
        branch=ExportColumn(models.Branch.name),
        city=ExportColumn(BRANCH_CITY.name),
    )

    def base_query(self):
        return (
            models.Cooperation.select(
                models.Cooperation, Officer, models.Distributor, models.Branch, BRANCH_CITY, University
            )
            .join(Officer, on=(models.Cooperation.officer == Officer.id))
            .switch(models.Cooperation)
            .join(University, JOIN.LEFT_OUTER, on=(models.Cooperation.university == University.id))
            .switch(models.Cooperation)
            .join(models.Distributor, on=(models.Cooperation.distributor == models.Distributor.id))
            .switch(models.Cooperation)
            .join(models.Branch, on=(models.Cooperation.branch == models.Branch.id))
            .join(BRANCH_CITY, on=(models.Branch.city == BRANCH_CITY.id), attr="city")
            .switch(models.Cooperation)
        )


class EditRequestView(OfficerSearchMixin, ReviewQueueView):
    """Edit requests of the officers whose files the university holds."""

    review_template = "admin/review_edit.html"
    column_list = (
        "id",
        "officer",
        "national_code",
        "university",
        "status",
        "submitted_at",
        "decided_at",
        "waiting",
        "due_on",
    )
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"))
    column_sortable_list = sortable_columns(models.EditRequest, "id", "status", "submitted_at")
    column_filters = (
        FilterEqual(
            models.EditRequest.status,
            _l("Status"),
            options=[(code, lazy_pgettext("status", code)) for code in models.EditRequest.FLOW.states],
        ),
        AssignedToMeFilter(models.EditRequest.reviewer, _l("Assigned")),
        OverdueFilter(models.EditRequest.due_on, _l("Decision due")),
    )
    column_formatters_export = dict(
        ReviewQueueView.column_formatters_export,
        national_code=lambda v, c, m, n: m.officer.national_code,
        officer=lambda v, c, m, n: m.officer.full_name,
    )
    column_export_list = ("id", "officer", "national_code", "status", "submitted_at", "decided_at")
    export_columns = request_export_columns(models.EditRequest)
    column_details_exclude_list = ("changes", "previous")

    def base_query(self):
        return (
            models.EditRequest.select(models.EditRequest, Officer, University)
            .join(Officer, on=(models.EditRequest.officer == Officer.id))
            .switch(models.EditRequest)
            .join(University, JOIN.LEFT_OUTER, on=(models.EditRequest.university == University.id))
            .switch(models.EditRequest)
        )

    def review_context(self, item, form, chosen=None, errors=None):
        context = super().review_context(item, form, chosen=chosen, errors=errors)
        context["comparison"] = item.comparison()
        context["documents_in_force"] = models.officer_documents(item.officer)
        return context

    @expose("/officer-document/")
    def officer_document_view(self):
        """A document in force of the officer of a request this staff member may see."""
        item = self._visible_request()
        # Only the documents the review page shows (H2): not those of later requests
        # filed elsewhere, not superseded files, not drafts.
        wanted = request.args.get("doc", type=parse_id)
        document = next((d for d in models.officer_documents(item.officer).values() if d.id == wanted), None)
        if document is None:
            deny(404)
        return self._send_audited(document)


# The cartable of each reviewed type (models.REVIEWED_TYPES lists the types).
CARTABLE_VIEWS = {
    QualificationRequest: QualificationView,
    models.Cooperation: CooperationView,
    models.EditRequest: EditRequestView,
}
