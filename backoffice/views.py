"""Back-office model views: reference data, staff, officers, notices, SMS, audit."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_admin.form import BaseForm
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import gettext, lazy_pgettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from peewee import JOIN, fn
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

import models
import notify
from models import (
    AuditLog,
    City,
    CityDistrict,
    DegreeLevel,
    FieldOfStudy,
    Notice,
    NoticeRead,
    Officer,
    Province,
    SmsOutbox,
    StaffUser,
    University,
    is_id,
)
from persian import normalize_mobile, normalize_text
from web.errors import flash_error, show_error
from web.forms import ActionForm

from .accounts import OfficerManageMixin
from .base import AuditedEditsMixin, JalaliDateField, SecureModelView, exported_by_name, staff_actor
from .branch_admin import BranchToolsMixin, ManagerMobileMixin
from .export import ExportColumn
from .filters import IdFilter, OfficerSearchMixin, QualifiedFilter, distinct_options, district_filter, options_of


class ReferenceView(AuditedEditsMixin, SecureModelView):
    """Reference data the directorate edits; rows are never deleted (others point to them)."""

    can_create = True
    can_edit = True
    column_searchable_list = ("name",)
    column_default_sort = "name"


class ProvinceView(ReferenceView):
    column_list = ("code", "name", "name_en")
    form_columns = ("code", "name", "name_en")


class UniversityView(ReferenceView):
    column_list = ("code", "name", "kind", "province")
    form_columns = ("code", "name", "name_en", "kind", "province")
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {
            "choices": [
                SelectChoice("university", _l("University (دانشگاه)")),
                SelectChoice("school", _l("School (دانشکده)")),
            ]
        }
    }
    column_filters = (IdFilter(University.province, _l("Province"), options=options_of(Province)),)
    export_columns = {"province": exported_by_name(University.province)}

    def base_query(self):
        return University.select(University, Province).join(Province)


class CityView(ReferenceView):
    column_list = ("name", "county", "province", "university")
    form_columns = ("name", "name_en", "county", "province", "university")
    column_filters = (
        IdFilter(City.province, _l("Province"), options=options_of(Province)),
        IdFilter(City.university, _l("University"), options=options_of(University)),
    )
    export_columns = {"province": exported_by_name(City.province), "university": exported_by_name(City.university)}

    def base_query(self):
        return City.select(City, Province, University).join(Province).switch(City).join(University)

    def after_model_change(self, form, model, is_created):
        result = super().after_model_change(form, model, is_created)
        if not is_created:
            offer_to_move_files(model)
        return result

    @expose("/move-files/", methods=("GET", "POST"))
    def move_files_view(self):
        """D10: how many files under way the city's old university still holds, and the
        one audited operation that moves them to the university covering the city now."""
        city = self.get_one(request.args.get("id"))
        if city is None:
            abort(404)
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                abort(400)
            models.rerouting.move_files_of_city(city, staff_actor())
            flash(gettext("The files were moved."), "success")
        return self.render("admin/city_move.html", city=city, counts=models.rerouting.files_of_city(city))


def offer_to_move_files(city) -> None:
    """After an edit of who covers a city (or one of its districts): when files under way
    are still held by another university, say so with a link to move them (D10)."""
    if sum(models.rerouting.files_of_city(city).values()):
        flash(
            Markup('{0} <a href="{1}">{2}</a>').format(
                gettext("Files of this city are still held by another university."),
                url_for("city.move_files_view", id=city.id),
                gettext("See them and move them"),
            ),
            "warning",
        )


class CityDistrictView(AuditedEditsMixin, SecureModelView):
    """The municipal districts of a city split between universities: which one covers each."""

    can_create = True
    can_edit = True
    column_list = ("city", "number", "university")
    form_columns = ("city", "number", "university")
    column_default_sort = "number"
    column_filters = (IdFilter(CityDistrict.university, _l("University"), options=options_of(University)),)
    export_columns = {
        "city": exported_by_name(CityDistrict.city),
        "university": exported_by_name(CityDistrict.university),
    }

    def base_query(self):
        return CityDistrict.select(CityDistrict, City, University).join(City).switch(CityDistrict).join(University)

    def after_model_change(self, form, model, is_created):
        result = super().after_model_change(form, model, is_created)
        offer_to_move_files(City.get_by_id(model.city_id))
        return result


class FieldView(ReferenceView):
    """Fields of study: the eligible switch, and the degrees a restricted field is allowed at
    (the field x degree matrix; none chosen: every eligible degree)."""

    column_list = ("code", "name", "eligible", "allowed_degrees")
    # The matrix is shown on the list, edited on the form, and exported with the table's own
    # columns (read as tuples, like every export; the degrees looked up by the field's id).
    column_export_list = ("code", "name", "name_en", "eligible", "allowed_degrees")
    export_columns = {"allowed_degrees": ExportColumn(FieldOfStudy.id, names=models.reference.allowed_degree_names)}
    form_columns = ("code", "name", "name_en", "eligible")
    column_editable_list = ("eligible",)
    form_extra_fields = {
        "allowed_degrees": SelectMultipleField(
            _l("Allowed only at these degrees"),
            coerce=int,
            description=_l("Leave empty to allow every eligible degree."),
        )
    }
    column_formatters = {"allowed_degrees": lambda v, c, m, n: "، ".join(d.name for d in models.allowed_degrees(m))}

    def _fill_degrees(self, form, obj=None):
        form.allowed_degrees.choices = [
            SelectChoice(d.id, d.name) for d in DegreeLevel.select().order_by(DegreeLevel.rank)
        ]
        if obj is not None and request.method == "GET":
            form.allowed_degrees.data = [d.id for d in models.allowed_degrees(obj)]
        return form

    def create_form(self, obj=None):
        return self._fill_degrees(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fill_degrees(super().edit_form(obj), obj)

    def after_model_change(self, form, model, is_created):
        if hasattr(form, "allowed_degrees"):  # not the list's inline edit of the eligible switch
            models.set_allowed_degrees(model, form.allowed_degrees.data or (), staff_actor())
        return super().after_model_change(form, model, is_created)


class DegreeView(ReferenceView):
    column_list = ("code", "name", "rank", "eligible")
    form_columns = ("code", "name", "name_en", "rank", "eligible")
    column_editable_list = ("eligible",)
    column_default_sort = "rank"


class DocumentKindView(ReferenceView):
    column_list = ("code", "name", "required")
    # The code names the upload field (doc_<code>): required, short, and plain.
    form_columns = ("code", "name", "name_en", "required", "sort_order")
    form_args = {
        "code": {
            "validators": [
                InputRequired(),
                Regexp(r"^[a-z][a-z0-9_]{1,39}$", message=_l("Lower-case Latin letters, digits and _ only.")),
            ]
        }
    }
    column_default_sort = "sort_order"


class StaffView(SecureModelView):
    """Back-office accounts; disabling one ends its sessions at once."""

    can_create = True
    can_edit = True
    column_list = ("username", "full_name", "role", "university", "is_active", "created_at")
    column_searchable_list = ("username", "full_name")
    column_filters = (
        FilterEqual(
            StaffUser.role,
            _l("Role"),
            options=(("directorate", _l("Directorate")), ("university", _l("University reviewer"))),
        ),
    )
    form_columns = ("username", "full_name", "mobile", "role", "university", "is_active")
    form_overrides = {"role": SelectField}
    form_args = {
        "role": {
            "choices": [
                SelectChoice("directorate", _l("Directorate")),
                SelectChoice("university", _l("University reviewer")),
            ]
        }
    }
    form_extra_fields = {"new_password": PasswordField(_l("New password"), validators=[Optional()])}
    column_exclude_list = ("password_hash",)
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)
    export_columns = {"university": exported_by_name(StaffUser.university)}

    def base_query(self):
        return StaffUser.select(StaffUser, University).join(
            University, on=(StaffUser.university == University.id), join_type=JOIN.LEFT_OUTER
        )

    def on_model_change(self, form, model, is_created):
        apply_new_password(form, model, is_created)
        if model.role == "university" and model.university_id is None:
            raise ValueError(gettext("A university reviewer must belong to a university."))
        if model.role == "directorate":
            model.university = None
        stored = None if is_created else StaffUser.get_or_none(StaffUser.id == model.id)
        # What the account was, so that after the save its requests follow a deactivation or a move.
        model.stored_before = (stored.is_active, stored.university_id) if stored else (model.is_active, None)

    def after_model_change(self, form, model, is_created):
        if not model.is_active or form.new_password.data:
            models.end_all_sessions("staff", model.id)
        was_active, old_university = getattr(model, "stored_before", (model.is_active, None))
        returned = models.reassignment.staff_changed(model, staff_actor(), was_active, old_university)
        if returned:
            flash(
                ngettext(
                    "%(num)d request bound to this reviewer returned to the pool.",
                    "%(num)d requests bound to this reviewer returned to the pool.",
                    returned,
                ),
                "info",
            )
        models.audit(staff_actor(), "staff_created" if is_created else "staff_changed", model)


def apply_new_password(form, model, is_created) -> None:
    """Set the password typed in an account form (required for a new account)."""
    password = form.new_password.data
    if is_created and not password:
        raise ValueError(gettext("Set a password for the new account."))
    if password:
        problem = models.password_problem(password)
        if problem:
            raise ValueError(gettext(problem))
        model.set_password(password)


class OfficerView(OfficerManageMixin, OfficerSearchMixin, SecureModelView):
    """Officers, for the directorate: national code and birth date are never edited here
    but through a confirmed correction on the manage page (``backoffice.accounts``)."""

    column_list = (
        "user_code",
        "national_code",
        "first_name",
        "last_name",
        "province",
        "city",
        "district",
        "field_of_study",
        "degree_level",
        "qualified_at",
        "created_at",
    )
    column_details_exclude_list = ("password_hash",)
    column_sortable_list = ("user_code", "last_name", "qualified_at", "created_at")
    column_default_sort = ("created_at", True)
    column_filters = (
        IdFilter(Officer.province, _l("Province"), options=options_of(Province)),
        IdFilter(Officer.city, _l("City"), options=options_of(City)),
        IdFilter(Officer.field_of_study, _l("Field of study"), options=options_of(FieldOfStudy)),
        IdFilter(Officer.degree_level, _l("Degree level"), options=options_of(DegreeLevel)),
        QualifiedFilter(Officer.qualified_at, _l("Status")),
        district_filter(Officer.district),
    )
    column_formatters = {
        "user_code": lambda v, c, m, n: Markup('<a href="{0}">{1}</a> · <a href="{2}">{3}</a>').format(
            v.get_url(".history_view", id=m.id), m.user_code, v.get_url(".manage_view", id=m.id), gettext("Manage")
        )
    }
    column_formatters_export = {}  # the list's link on the user code is not exported
    export_columns = {
        name: exported_by_name(getattr(Officer, name))
        for name in ("province", "city", "field_of_study", "degree_level")
    }
    column_export_exclude_list = ("password_hash", "university")

    def base_query(self):
        return (
            # Outer joins: a migrated officer may not have filled in a place, field or degree yet.
            Officer.select(Officer, Province, City, FieldOfStudy, DegreeLevel)
            .join(Province, JOIN.LEFT_OUTER, on=(Officer.province == Province.id))
            .switch(Officer)
            .join(City, JOIN.LEFT_OUTER, on=(Officer.city == City.id))
            .switch(Officer)
            .join(FieldOfStudy, JOIN.LEFT_OUTER, on=(Officer.field_of_study == FieldOfStudy.id))
            .switch(Officer)
            .join(DegreeLevel, JOIN.LEFT_OUTER, on=(Officer.degree_level == DegreeLevel.id))
            .switch(Officer)
        )

    @expose("/history/")
    def history_view(self):
        """Everything that happened to one officer's record, oldest first."""
        officer = self.get_one(request.args.get("id"))
        if officer is None:
            abort(404)
        entries = list(
            AuditLog.select()
            .where((AuditLog.object_type == "officer") & (AuditLog.object_id == officer.id))
            .order_by(AuditLog.at)
        )
        return self.render(
            "admin/officer_history.html",
            officer=officer,
            entries=entries,
            requests=models.officer_requests(officer),
            request_types=models.REVIEWED_TYPES,
        )


AUDIENCE_CHOICES = [
    SelectChoice("all", _l("All officers")),
    SelectChoice("province", _l("The officers of a province")),
    SelectChoice("officer", _l("One officer (by national code)")),
]
AUDIENCE_LABELS = {choice.value: choice.label for choice in AUDIENCE_CHOICES}


def audience_label(code: str) -> str:
    return str(AUDIENCE_LABELS.get(code, code))


def read_count():
    """How many officers opened a notice: a subquery of the notice's row, for the list
    and its export."""
    return NoticeRead.select(fn.COUNT(NoticeRead.id)).where(NoticeRead.notice == Notice.id)


class MessageView(SecureModelView):
    """Directorate notices; one row per notice whatever its audience."""

    can_create = True
    column_list = ("subject", "audience", "province", "created_at", "read")
    column_labels = {"read": _l("Read by")}
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at",)
    create_template = "admin/message_create.html"

    def base_query(self):
        return Notice.select(Notice, read_count().alias("read_total")).where(Notice.kind == "directorate")

    column_formatters = {
        "read": lambda v, c, m, n: getattr(m, "read_total", 0),
        "audience": lambda v, c, m, n: audience_label(m.audience),
    }
    column_formatters_export = {}
    export_columns = {
        "read": ExportColumn(read_count(), format=lambda count: count or 0),
        "audience": ExportColumn(Notice.audience, format=audience_label, memo=True),
        "province": exported_by_name(Notice.province),
    }

    def scaffold_form(self):
        class NoticeForm(BaseForm):
            subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
            body = TextAreaField(_l("Text"), validators=[InputRequired(), Length(max=10000)], render_kw={"rows": 8})
            audience = SelectField(_l("Recipients"), choices=AUDIENCE_CHOICES)
            officer_national_code = StringField(_l("National code of the officer"), validators=[Length(max=20)])
            province = SelectField(_l("Province"), choices=[], validate_choice=False)

        return NoticeForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.province.choices = [SelectChoice("", "")] + [
            SelectChoice(str(p.id), p.name) for p in Province.select().order_by(Province.name)
        ]
        return form

    def create_model(self, form):
        province = Province.get_or_none(Province.id == form.province.data) if form.province.data else None
        try:
            notice = models.send_notice(
                staff_actor(),
                form.subject.data,
                form.body.data,
                form.audience.data,
                officer_national_code=form.officer_national_code.data or "",
                province=province,
            )
        except models.DomainError as error:
            show_error(form, error)
            flash_error(error)
            return False
        return notice


class SmsView(SecureModelView):
    # ``text`` is the message with its one-time codes masked; the template's parameters
    # (``msgid``, ``params``) are what the sender renders and never reach a screen.
    column_list = ("to", "text", "status", "attempts", "last_error", "created_at", "sent_at")
    column_details_list = column_list
    column_export_list = column_list
    column_filters = (
        FilterEqual(
            SmsOutbox.status,
            _l("Status"),
            options=(
                ("pending", lazy_pgettext("sms status", "pending")),
                ("sent", lazy_pgettext("sms status", "sent")),
                ("failed", lazy_pgettext("sms status", "failed")),
            ),
        ),
    )
    column_searchable_list = ("to",)
    column_default_sort = ("created_at", True)

    @action("resend", _l("Send again"), _l("Put the selected messages back in the queue?"))
    def action_resend(self, ids):
        count = notify.resend([int(i) for i in ids if is_id(i)])
        flash(gettext("%(count)s messages were queued again.", count=count), "success")


class AuditView(SecureModelView):
    column_list = ("at", "actor_kind", "actor_name", "ip", "action", "object_type", "object_id", "detail")
    column_searchable_list = ("action", "actor_name", "ip")
    column_filters = (
        FilterEqual(AuditLog.action, _l("Action"), options=distinct_options(AuditLog.action)),
        FilterEqual(AuditLog.object_type, _l("Object"), options=distinct_options(AuditLog.object_type)),
    )
    column_default_sort = ("at", True)


class DistributorView(ManagerMobileMixin, SecureModelView):
    """Distributor accounts: the directorate creates them and resets passwords; the
    manager's mobile of an existing account changes on its own page, with a reason."""

    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-mobile", ".manager_mobile_view", title=_l("Change the manager's mobile")),
    ]

    can_create = True
    can_edit = True
    column_list = ("username", "name", "kind", "manager_name", "manager_mobile", "is_active", "created_at")
    column_searchable_list = ("username", "name", "manager_mobile")
    form_columns = ("username", "name", "kind", "national_id", "manager_name", "manager_mobile", "is_active")
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [SelectChoice("company", _l("Company")), SelectChoice("guild", _l("Guild"))]}}
    form_extra_fields = {"new_password": PasswordField(_l("New password"), validators=[Optional()])}
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)

    def on_model_change(self, form, model, is_created):
        mobile = normalize_mobile(model.manager_mobile)
        if not mobile:
            raise ValueError(gettext("Enter a mobile number like 09121234567."))
        if not is_created and mobile != models.Distributor.get_by_id(model.id).manager_mobile:
            raise ValueError(gettext("Change the manager's mobile on its own page, with a reason."))
        model.manager_mobile = mobile
        model.name, model.manager_name = normalize_text(model.name), normalize_text(model.manager_name)
        apply_new_password(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        if not model.is_active or form.new_password.data:
            models.end_all_sessions("distributor", model.id)
        models.audit(staff_actor(), "distributor_created" if is_created else "distributor_changed", model)


class BranchView(BranchToolsMixin, SecureModelView):
    column_list = ("name", "distributor", "province", "city", "district", "created_at")
    # The directorate's tools for any distributor's branch (models.branches).
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-pencil", ".change_view", title=_l("Change name or address")),
        EndpointLinkRowAction("fa fa-ban", ".close_view", title=_l("Close the branch")),
    ]
    column_searchable_list = ("name",)
    column_filters = (
        IdFilter(models.Branch.province, _l("Province"), options=options_of(Province)),
        district_filter(models.Branch.district),
    )
    export_columns = {
        "distributor": ExportColumn(models.Distributor.name),
        "province": exported_by_name(models.Branch.province),
        "city": exported_by_name(models.Branch.city),
    }

    def base_query(self):
        return (
            models.Branch.select(models.Branch, models.Distributor, Province, City)
            .join(models.Distributor)
            .switch(models.Branch)
            .join(Province)
            .switch(models.Branch)
            .join(City)
            .switch(models.Branch)
        )


class SettingView(AuditedEditsMixin, SecureModelView):
    can_create = True
    can_edit = True
    column_list = ("key", "value")
    form_columns = ("key", "value")
    column_descriptions = {
        "key": _l(
            "sla_working_days (1-60), nomination_expiry_days (1-90), escalation_working_days (1-30), "
            "branch_grace_days (1-180), weekend_days (e.g. friday or thursday, friday), "
            "legacy_qualification_deadline (the Jalali date, like 1405/06/31, by which migrated working "
            "officers must file a qualification request)"
        )
    }

    def on_model_change(self, form, model, is_created):
        # Out of bounds is refused here, before it can reach a rule (a target of 5,000,000
        # working days made every submission fail).
        try:
            model.value = models.sla.validate_setting(model.key, model.value)
        except models.DomainError as error:
            raise ValueError(gettext(error.msgid, **error.params)) from None
        model.key = model.key.strip()


class HolidayView(AuditedEditsMixin, SecureModelView):
    can_create = True
    can_edit = True
    column_list = ("date", "name")
    form_columns = ("date", "name")
    form_overrides = {"date": JalaliDateField}
    column_default_sort = ("date", True)

    def on_model_change(self, form, model, is_created):
        # Saved here, it is the directorate's: `flask load-holidays` never changes it again.
        model.source = ""
