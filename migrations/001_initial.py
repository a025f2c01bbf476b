"""001 -- the schema of the release before migrations (every table and index).

Generated with peewee-migrate's auto-migration from the models of that release, then
frozen: later schema changes are new migrations, never edits of this file. The partial
unique indexes (one open request per officer, one active cooperation per officer and per
branch...) are created by SQL that SQLite and PostgreSQL both accept.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create every table and index."""

    @migrator.create_model
    class AuditLog(pw.Model):
        id = pw.AutoField()
        at = pw.DateTimeField(index=True)
        actor_kind = pw.CharField(max_length=12)
        actor_id = pw.IntegerField(null=True)
        actor_name = pw.CharField(default="", max_length=120)
        ip = pw.CharField(default="", max_length=45)
        action = pw.CharField(index=True, max_length=60)
        object_type = pw.CharField(default="", max_length=40)
        object_id = pw.IntegerField(null=True)
        detail = pw.TextField(default="")

        class Meta:
            legacy_table_names = False
            table_name = "audit_log"
            indexes = [(("object_type", "object_id"), False)]

    @migrator.create_model
    class Distributor(pw.Model):
        id = pw.AutoField()
        username = pw.CharField(max_length=60, unique=True)
        password_hash = pw.CharField(max_length=255)
        name = pw.CharField(max_length=200)
        kind = pw.CharField(default="company", max_length=10)
        national_id = pw.CharField(default="", max_length=20)
        manager_name = pw.CharField(default="", max_length=120)
        manager_mobile = pw.CharField(default="", max_length=11)
        legacy_id = pw.CharField(max_length=40, null=True, unique=True)
        is_active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            legacy_table_names = False
            table_name = "distributor"

    @migrator.create_model
    class Province(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=80, unique=True)
        name_en = pw.CharField(default="", max_length=80)

        class Meta:
            legacy_table_names = False
            table_name = "province"

    @migrator.create_model
    class University(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=60, unique=True)
        name = pw.CharField(max_length=120, unique=True)
        name_en = pw.CharField(default="", max_length=120)
        province = pw.ForeignKeyField(
            column_name="province_id", field="id", model=migrator.orm["province"], on_delete="RESTRICT"
        )

        class Meta:
            legacy_table_names = False
            table_name = "university"

    @migrator.create_model
    class City(pw.Model):
        id = pw.AutoField()
        province = pw.ForeignKeyField(
            column_name="province_id", field="id", model=migrator.orm["province"], on_delete="RESTRICT"
        )
        name = pw.CharField(max_length=80)
        name_en = pw.CharField(default="", max_length=80)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], on_delete="RESTRICT"
        )

        class Meta:
            legacy_table_names = False
            table_name = "city"
            indexes = [(("province", "name"), True)]

    @migrator.create_model
    class Branch(pw.Model):
        id = pw.AutoField()
        distributor = pw.ForeignKeyField(
            column_name="distributor_id", field="id", model=migrator.orm["distributor"], on_delete="RESTRICT"
        )
        name = pw.CharField(max_length=200)
        province = pw.ForeignKeyField(
            column_name="province_id", field="id", model=migrator.orm["province"], on_delete="RESTRICT"
        )
        city = pw.ForeignKeyField(column_name="city_id", field="id", model=migrator.orm["city"], on_delete="RESTRICT")
        address = pw.TextField(default="")
        legacy_id = pw.CharField(max_length=40, null=True, unique=True)
        is_active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            legacy_table_names = False
            table_name = "branch"

    @migrator.create_model
    class FieldOfStudy(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=60, unique=True)
        name = pw.CharField(max_length=120, unique=True)
        name_en = pw.CharField(default="", max_length=120)
        eligible = pw.BooleanField(default=True)

        class Meta:
            legacy_table_names = False
            table_name = "field_of_study"

    @migrator.create_model
    class DegreeLevel(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=80, unique=True)
        name_en = pw.CharField(default="", max_length=80)
        rank = pw.IntegerField(default=0)
        eligible = pw.BooleanField(default=True)

        class Meta:
            legacy_table_names = False
            table_name = "degree_level"

    @migrator.create_model
    class Officer(pw.Model):
        id = pw.AutoField()
        user_code = pw.CharField(max_length=12, unique=True)
        national_code = pw.CharField(max_length=10, unique=True)
        birth_date = pw.DateField()
        first_name = pw.CharField(max_length=60)
        last_name = pw.CharField(max_length=80)
        father_name = pw.CharField(default="", max_length=60)
        gender = pw.CharField(default="", max_length=6)
        id_card_number = pw.CharField(default="", max_length=20)
        mobile = pw.CharField(index=True, max_length=11)
        phone = pw.CharField(default="", max_length=11)
        email = pw.CharField(default="", max_length=254)
        address = pw.TextField(default="")
        postal_code = pw.CharField(default="", max_length=10)
        province = pw.ForeignKeyField(
            column_name="province_id", field="id", model=migrator.orm["province"], on_delete="RESTRICT"
        )
        city = pw.ForeignKeyField(column_name="city_id", field="id", model=migrator.orm["city"], on_delete="RESTRICT")
        field_of_study = pw.ForeignKeyField(
            column_name="field_of_study_id", field="id", model=migrator.orm["field_of_study"], on_delete="RESTRICT"
        )
        degree_level = pw.ForeignKeyField(
            column_name="degree_level_id", field="id", model=migrator.orm["degree_level"], on_delete="RESTRICT"
        )
        password_hash = pw.CharField(max_length=255)
        is_active = pw.BooleanField(default=True)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        qualified_at = pw.DateTimeField(null=True)
        qualification_number = pw.CharField(max_length=20, null=True, unique=True)
        created_at = pw.DateTimeField(index=True)
        legacy = pw.BooleanField(default=False)

        class Meta:
            legacy_table_names = False
            table_name = "officer"
            indexes = [(("last_name", "first_name"), False)]

    @migrator.create_model
    class StaffUser(pw.Model):
        id = pw.AutoField()
        username = pw.CharField(max_length=60, unique=True)
        full_name = pw.CharField(default="", max_length=120)
        password_hash = pw.CharField(max_length=255)
        role = pw.CharField(max_length=20)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        mobile = pw.CharField(default="", max_length=11)
        is_active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            legacy_table_names = False
            table_name = "staff_user"

    @migrator.create_model
    class Cooperation(pw.Model):
        id = pw.AutoField()
        status = pw.CharField(default="draft", index=True, max_length=20)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        reviewer = pw.ForeignKeyField(
            column_name="reviewer_id", field="id", model=migrator.orm["staff_user"], null=True, on_delete="RESTRICT"
        )
        created_at = pw.DateTimeField()
        submitted_at = pw.DateTimeField(index=True, null=True)
        last_submitted_at = pw.DateTimeField(null=True)
        decided_at = pw.DateTimeField(null=True)
        decision_note = pw.TextField(default="")
        reject_reason = pw.CharField(default="", max_length=30)
        applicant_comment = pw.TextField(default="")
        clock_used_days = pw.IntegerField(default=0)
        due_on = pw.DateField(index=True, null=True)
        branch = pw.ForeignKeyField(
            column_name="branch_id", field="id", model=migrator.orm["branch"], on_delete="RESTRICT"
        )
        distributor = pw.ForeignKeyField(
            column_name="distributor_id", field="id", model=migrator.orm["distributor"], on_delete="RESTRICT"
        )
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        officer_note = pw.TextField(default="")
        rejected_by = pw.CharField(default="", max_length=12)
        started_at = pw.DateTimeField(null=True)
        ended_at = pw.DateTimeField(null=True)
        end_reason = pw.CharField(default="", max_length=20)
        legacy = pw.BooleanField(default=False)

        class Meta:
            legacy_table_names = False
            table_name = "cooperation"
            indexes = [(("university", "status", "last_submitted_at"), False)]

    @migrator.create_model
    class DocumentKind(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=80)
        name_en = pw.CharField(default="", max_length=80)
        required = pw.BooleanField(default=False)
        sort_order = pw.IntegerField(default=0)

        class Meta:
            legacy_table_names = False
            table_name = "document_kind"

    @migrator.create_model
    class Document(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        request_type = pw.CharField(max_length=20)
        request_id = pw.IntegerField()
        kind = pw.ForeignKeyField(
            column_name="kind_id", field="id", model=migrator.orm["document_kind"], on_delete="RESTRICT"
        )
        storage_name = pw.CharField(max_length=64, unique=True)
        display_name = pw.CharField(max_length=200)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField()
        sha256 = pw.CharField(max_length=64)
        uploaded_at = pw.DateTimeField()
        superseded_at = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "document"
            indexes = [(("request_type", "request_id"), False)]

    @migrator.create_model
    class EditRequest(pw.Model):
        id = pw.AutoField()
        status = pw.CharField(default="draft", index=True, max_length=20)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        reviewer = pw.ForeignKeyField(
            column_name="reviewer_id", field="id", model=migrator.orm["staff_user"], null=True, on_delete="RESTRICT"
        )
        created_at = pw.DateTimeField()
        submitted_at = pw.DateTimeField(index=True, null=True)
        last_submitted_at = pw.DateTimeField(null=True)
        decided_at = pw.DateTimeField(null=True)
        decision_note = pw.TextField(default="")
        reject_reason = pw.CharField(default="", max_length=30)
        applicant_comment = pw.TextField(default="")
        clock_used_days = pw.IntegerField(default=0)
        due_on = pw.DateField(index=True, null=True)
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        changes = pw.TextField(default="{}")
        previous = pw.TextField(default="{}")

        class Meta:
            legacy_table_names = False
            table_name = "edit_request"
            indexes = [(("university", "status", "last_submitted_at"), False)]

    @migrator.create_model
    class Holiday(pw.Model):
        id = pw.AutoField()
        date = pw.DateField(unique=True)
        name = pw.CharField(default="", max_length=120)

        class Meta:
            legacy_table_names = False
            table_name = "holiday"

    @migrator.create_model
    class LoginFailure(pw.Model):
        id = pw.AutoField()
        at = pw.DateTimeField()
        account_key = pw.CharField(max_length=80)
        ip = pw.CharField(default="", max_length=45)

        class Meta:
            legacy_table_names = False
            table_name = "login_failure"
            indexes = [(("account_key", "at"), False), (("ip", "at"), False)]

    @migrator.create_model
    class LoginSession(pw.Model):
        id = pw.AutoField()
        token = pw.CharField(max_length=64, unique=True)
        account_kind = pw.CharField(max_length=12)
        account_id = pw.IntegerField()
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()
        ended_at = pw.DateTimeField(null=True)
        ip = pw.CharField(default="", max_length=45)

        class Meta:
            legacy_table_names = False
            table_name = "login_session"
            indexes = [(("account_kind", "account_id"), False)]

    @migrator.create_model
    class Notice(pw.Model):
        id = pw.AutoField()
        subject = pw.CharField(max_length=200)
        body = pw.TextField()
        audience = pw.CharField(index=True, max_length=10)
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], null=True, on_delete="RESTRICT"
        )
        province = pw.ForeignKeyField(
            column_name="province_id", field="id", model=migrator.orm["province"], null=True, on_delete="RESTRICT"
        )
        sender = pw.ForeignKeyField(
            column_name="sender_id", field="id", model=migrator.orm["staff_user"], null=True, on_delete="RESTRICT"
        )
        kind = pw.CharField(default="directorate", max_length=12)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            legacy_table_names = False
            table_name = "notice"

    @migrator.create_model
    class NoticeRead(pw.Model):
        id = pw.AutoField()
        notice = pw.ForeignKeyField(
            column_name="notice_id", field="id", model=migrator.orm["notice"], on_delete="RESTRICT"
        )
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        read_at = pw.DateTimeField()

        class Meta:
            legacy_table_names = False
            table_name = "notice_read"
            indexes = [(("notice", "officer"), True)]

    @migrator.create_model
    class PasswordReset(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        code_hash = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        attempts = pw.IntegerField(default=0)
        used_at = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "password_reset"

    @migrator.create_model
    class QualificationRequest(pw.Model):
        id = pw.AutoField()
        status = pw.CharField(default="draft", index=True, max_length=20)
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], null=True, on_delete="RESTRICT"
        )
        reviewer = pw.ForeignKeyField(
            column_name="reviewer_id", field="id", model=migrator.orm["staff_user"], null=True, on_delete="RESTRICT"
        )
        created_at = pw.DateTimeField()
        submitted_at = pw.DateTimeField(index=True, null=True)
        last_submitted_at = pw.DateTimeField(null=True)
        decided_at = pw.DateTimeField(null=True)
        decision_note = pw.TextField(default="")
        reject_reason = pw.CharField(default="", max_length=30)
        applicant_comment = pw.TextField(default="")
        clock_used_days = pw.IntegerField(default=0)
        due_on = pw.DateField(index=True, null=True)
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        city = pw.ForeignKeyField(
            column_name="city_id", field="id", model=migrator.orm["city"], null=True, on_delete="RESTRICT"
        )
        field_of_study = pw.ForeignKeyField(
            column_name="field_of_study_id",
            field="id",
            model=migrator.orm["field_of_study"],
            null=True,
            on_delete="RESTRICT",
        )
        degree_level = pw.ForeignKeyField(
            column_name="degree_level_id",
            field="id",
            model=migrator.orm["degree_level"],
            null=True,
            on_delete="RESTRICT",
        )
        qualification_number = pw.CharField(max_length=20, null=True)

        class Meta:
            legacy_table_names = False
            table_name = "qualification_request"
            indexes = [(("university", "status", "submitted_at"), False)]

    @migrator.create_model
    class RequestEvent(pw.Model):
        id = pw.AutoField()
        request_type = pw.CharField(max_length=20)
        request_id = pw.IntegerField()
        action = pw.CharField(max_length=30)
        from_status = pw.CharField(default="", max_length=20)
        to_status = pw.CharField(default="", max_length=20)
        actor_kind = pw.CharField(max_length=12)
        actor_id = pw.IntegerField(null=True)
        actor_name = pw.CharField(default="", max_length=120)
        note = pw.TextField(default="")
        reason = pw.CharField(default="", max_length=30)
        university_id = pw.IntegerField(index=True, null=True)
        at = pw.DateTimeField(index=True)

        class Meta:
            legacy_table_names = False
            table_name = "request_event"
            indexes = [(("request_type", "request_id", "at"), False)]

    @migrator.create_model
    class Setting(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=60, unique=True)
        value = pw.CharField(max_length=200)

        class Meta:
            legacy_table_names = False
            table_name = "setting"

    @migrator.create_model
    class SmsOutbox(pw.Model):
        id = pw.AutoField()
        to = pw.CharField(max_length=11)
        text = pw.TextField()
        status = pw.CharField(default="pending", index=True, max_length=10)
        attempts = pw.IntegerField(default=0)
        next_attempt_at = pw.DateTimeField(index=True)
        last_error = pw.TextField(default="")
        created_at = pw.DateTimeField()
        sent_at = pw.DateTimeField(null=True)
        provider_id = pw.CharField(default="", max_length=60)
        locked_until = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "sms_outbox"

    @migrator.create_model
    class TerminationRequest(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(
            column_name="officer_id", field="id", model=migrator.orm["officer"], on_delete="RESTRICT"
        )
        cooperation = pw.ForeignKeyField(
            column_name="cooperation_id", field="id", model=migrator.orm["cooperation"], on_delete="RESTRICT"
        )
        reason = pw.TextField()
        status = pw.CharField(default="draft", max_length=12)
        created_at = pw.DateTimeField()
        finalized_at = pw.DateTimeField(null=True)

        class Meta:
            legacy_table_names = False
            table_name = "termination_request"

    # Partial unique indexes: the database enforces the domain's "one open at a time" rules.
    for statement in PARTIAL_UNIQUE_INDEXES:
        migrator.sql(statement)


PARTIAL_UNIQUE_INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "qualification_one_open_per_officer" ON "qualification_request" '
    "(\"officer_id\") WHERE (\"status\" IN ('draft', 'submitted', 'deficient'))",
    'CREATE UNIQUE INDEX IF NOT EXISTS "cooperation_one_active_per_officer" ON "cooperation" ("officer_id") '
    "WHERE (\"status\" = 'active')",
    'CREATE UNIQUE INDEX IF NOT EXISTS "cooperation_one_active_per_branch" ON "cooperation" ("branch_id") '
    "WHERE (\"status\" = 'active')",
    'CREATE UNIQUE INDEX IF NOT EXISTS "cooperation_one_open_per_branch" ON "cooperation" ("branch_id") '
    "WHERE (\"status\" IN ('pending_officer', 'pending_university'))",
    'CREATE UNIQUE INDEX IF NOT EXISTS "termination_one_draft_per_cooperation" ON "termination_request" '
    '("cooperation_id") WHERE ("status" = \'draft\')',
    'CREATE UNIQUE INDEX IF NOT EXISTS "editrequest_one_open_per_officer" ON "edit_request" ("officer_id") '
    "WHERE (\"status\" IN ('draft', 'submitted', 'deficient'))",
)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop every table (their data with them)."""

    migrator.remove_model("termination_request")

    migrator.remove_model("sms_outbox")

    migrator.remove_model("setting")

    migrator.remove_model("request_event")

    migrator.remove_model("qualification_request")

    migrator.remove_model("password_reset")

    migrator.remove_model("notice_read")

    migrator.remove_model("notice")

    migrator.remove_model("login_session")

    migrator.remove_model("login_failure")

    migrator.remove_model("holiday")

    migrator.remove_model("edit_request")

    migrator.remove_model("document")

    migrator.remove_model("document_kind")

    migrator.remove_model("cooperation")

    migrator.remove_model("staff_user")

    migrator.remove_model("officer")

    migrator.remove_model("degree_level")

    migrator.remove_model("field_of_study")

    migrator.remove_model("branch")

    migrator.remove_model("city")

    migrator.remove_model("university")

    migrator.remove_model("province")

    migrator.remove_model("distributor")

    migrator.remove_model("audit_log")
