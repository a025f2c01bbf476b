"""University cartables of reviewed requests, and their review pages."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from peewee import JOIN

import models
import persian
from models import City, DegreeLevel, Document, FieldOfStudy, Officer, QualificationRequest, StaffUser, University
from web.documents import send_document
from web.errors import ERROR, flash_error, refusals_flashed, status_of
from web.forms import ActionForm
from web.labels import status_label
from web.security import deny

from .base import SecureModelView, current_staff, exported_by_name, staff_actor, status_badge
from .export import ExportColumn, as_datetime
from .filters import AssignedToMeFilter, IdFilter, JalaliDateFilter, OfficerSearchMixin, OverdueFilter, options_of


def _status_formatter(view, context, model, name):
    return status_badge(model.status, status_label(model.status))


def _due_formatter(view, context, model, name):
    if not model.due_on:
        return ""
    late = model.status in model.FLOW.waiting_states and model.due_on < models.utcnow().date()
    return Markup('<span class="due{0}" data-overdue="{1}">{2}{3}</span>').format(
        " due-late" if late else "",
        "1" if late else "0",
        persian.format_jalali_date(model.due_on),
        Markup(" <strong>{0}</strong>").format(gettext("overdue")) if late else "",
    )


def _days_waiting(view, context, model, name):
    if model.status not in model.FLOW.waiting_states or not model.last_submitted_at:
        return ""
    days = (models.utcnow() - (model.last_submitted_at or model.submitted_at)).days
    level = "old" if days > 14 else ("aging" if days > 7 else "fresh")
    return Markup('<span class="aging aging-{0}" data-days="{1}">{2}</span>').format(
        level, days, persian.to_persian_digits(days)
    )


def waiting_days(status, last_submitted_at):
    """Whole days a request has waited on the university since it was last submitted."""
    if status not in models.WAITING_STATES or not last_submitted_at:
        return ""
    return (models.utcnow() - as_datetime(last_submitted_at)).days


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


class ReviewQueueView(SecureModelView):
    """A cartable: reviewers see their university's requests only, in every view."""

    allowed_roles = ("directorate", "university")
    review_template = "admin/review.html"
    column_formatters = {
        "status": _status_formatter,
        "waiting": _days_waiting,
        "due_on": _due_formatter,
        "id": lambda v, c, m, n: Markup('<a href="{0}">{1}</a>').format(v.get_url(".review_view", id=m.id), m.id),
    }
    column_labels = {"waiting": _l("Days waiting"), "due_on": _l("Decision due")}
    column_formatters_export = {
        "status": lambda v, c, m, n: status_label(m.status),
        "waiting": lambda v, c, m, n: waiting_days(m.status, m.last_submitted_at),
    }

    def scope(self, query):
        return self.model.visible_to(staff_actor() if current_staff() else None, query)

    def _visible_request(self):
        found = self.get_one(request.args.get("id"))
        if found is None:
            deny(404)
        return found

    @expose("/review/", methods=("GET", "POST"))
    def review_view(self):
        item = self._visible_request()
        actor = staff_actor()
        form = ActionForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            decision = request.form.get("decision", "")
            action = {"approve": "approve", "reject": "reject", "deficiency": "deficiency"}.get(decision)
            if action is None or action not in self.decisions:
                flash(gettext("Choose a decision."), ERROR)
            else:
                reason = request.form.get("deficiency_reason" if action == "deficiency" else "reason", "other")
                if reason not in models.REASON_LABELS:
                    reason = "other"
                try:
                    # The version the page showed: a decision on an out-of-date page is refused.
                    item.apply(
                        action,
                        actor,
                        note=request.form.get("note", ""),
                        reason=reason,
                        expected_version=request.form.get("version"),
                    )
                except models.DomainError as error:
                    flash_error(error)
                    return self.render(self.review_template, **self.review_context(item, form)), status_of(error)
                flash(gettext("The decision was recorded."), "success")
                return redirect(self.get_url(".review_view", id=item.id))
        return self.render(self.review_template, **self.review_context(item, form))

    decisions = ("approve", "reject", "deficiency")

    def review_context(self, item, form):
        actor = staff_actor()
        allowed = [a for a in item.allowed_actions(actor) if a in self.decisions]
        return {
            "item": item,
            "form": form,
            "allowed": allowed,
            "history": list(item.history()),
            "documents": list(item.current_documents()),
            "old_documents": [d for d in item.all_documents() if d.superseded_at],
            "reasons": models.REJECT_REASONS,
            "deficiency_reasons": models.DEFICIENCY_REASONS,
            "can_reassign": actor.is_directorate,
            "universities": list(University.select().order_by(University.name)) if actor.is_directorate else [],
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
        university = University.get_or_none(University.id == request.form.get("university", type=int))
        reviewer = (
            StaffUser.get_or_none(StaffUser.id == request.form.get("reviewer", type=int))
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
        document = Document.get_or_none(Document.id == request.args.get("doc", type=int))
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
        "field_of_study",
        "degree_level",
        "status",
        "submitted_at",
        "waiting",
        "due_on",
    )
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"))
    column_sortable_list = ("id", "status", "submitted_at")
    column_default_sort = ("submitted_at", False)
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
    )
    column_formatters = dict(
        ReviewQueueView.column_formatters, national_code=lambda v, c, m, n: m.officer.national_code
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
        "field_of_study",
        "degree_level",
        "created_at",
        "submitted_at",
        "decided_at",
        "decision_note",
        "qualification_number",
    )

    def base_query(self):
        return (
            QualificationRequest.select(QualificationRequest, Officer, City, FieldOfStudy, DegreeLevel)
            .join(Officer, on=(QualificationRequest.officer == Officer.id))
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
        "status",
        "started_at",
        "ended_at",
        "waiting",
        "due_on",
    )
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"), city=_l("City"))
    column_sortable_list = ("id", "status", "started_at", "ended_at")
    column_default_sort = ("last_submitted_at", False)
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
    column_formatters = dict(
        ReviewQueueView.column_formatters,
        national_code=lambda v, c, m, n: m.officer.national_code,
        city=lambda v, c, m, n: m.branch.city.name,
    )
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
            models.Cooperation.select(models.Cooperation, Officer, models.Distributor, models.Branch, BRANCH_CITY)
            .join(Officer, on=(models.Cooperation.officer == Officer.id))
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
    column_list = ("id", "officer", "national_code", "status", "submitted_at", "decided_at", "waiting", "due_on")
    column_labels = dict(ReviewQueueView.column_labels, national_code=_l("National code"))
    column_sortable_list = ("id", "status", "submitted_at")
    column_default_sort = ("last_submitted_at", False)
    column_filters = (
        FilterEqual(
            models.EditRequest.status,
            _l("Status"),
            options=[(code, lazy_pgettext("status", code)) for code in models.EditRequest.FLOW.states],
        ),
        AssignedToMeFilter(models.EditRequest.reviewer, _l("Assigned")),
        OverdueFilter(models.EditRequest.due_on, _l("Decision due")),
    )
    column_formatters = dict(
        ReviewQueueView.column_formatters, national_code=lambda v, c, m, n: m.officer.national_code
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
            models.EditRequest.select(models.EditRequest, Officer)
            .join(Officer, on=(models.EditRequest.officer == Officer.id))
            .switch(models.EditRequest)
        )

    def review_context(self, item, form):
        context = super().review_context(item, form)
        context["comparison"] = item.comparison()
        context["documents_in_force"] = models.officer_documents(item.officer)
        return context

    @expose("/officer-document/")
    def officer_document_view(self):
        """A document in force of the officer of a request this staff member may see."""
        item = self._visible_request()
        # Only the documents the review page shows (H2): not those of later requests
        # filed elsewhere, not superseded files, not drafts.
        wanted = request.args.get("doc", type=int)
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
