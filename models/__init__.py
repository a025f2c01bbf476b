"""The domain: Peewee models and every rule of the seed. Imports no Flask.

Split into modules by subject; this package re-exports what the rest of the
application uses, so callers write ``from models import Officer``.
"""

from . import cooperation, edit_requests, oversight, qualification, ratelimit, verification
from .accounts import (
    AuditLog,
    Distributor,
    LoginFailure,
    LoginSession,
    LoginThrottled,
    Officer,
    PasswordReset,
    StaffUser,
    audit,
    authenticate,
    burn_password_check,
    change_password,
    create_distributor,
    create_staff,
    end_all_sessions,
    end_session,
    hash_password,
    load_session,
    mask_national_code,
    password_problem,
    request_password_reset,
    reset_password,
    start_session,
    verify_password,
)
from .base import (
    N_,
    SYSTEM,
    Actor,
    BaseModel,
    ConflictError,
    DomainError,
    PermissionDenied,
    bind_database,
    bind_url,
    connect_database,
    db,
    is_sqlite,
    sql_persian_order,
    translate,
    utcnow,
)
from .cooperation import Branch, Cooperation, TerminationRequest
from .edit_requests import EditRequest
from .notices import (
    Notice,
    NoticeRead,
    SmsOutbox,
    inbox,
    notify_officer,
    open_notice,
    queue_sms,
    read_count,
    recipients_count,
    send_notice,
    unread_count,
)
from .officer_rules import (
    FIELD_POLICY,
    FREE_FIELDS,
    REVIEWED_FIELDS,
    ValidationFailed,
    directly_editable_fields,
    find_officer_for_login,
    register_officer,
    set_district,
    update_place_before_qualification,
    update_profile,
)
from .oversight import Holiday, Setting
from .qualification import QualificationRequest
from .ratelimit import RateCounter
from .reference import (
    REFERENCE_MODELS,
    City,
    CityDistrict,
    DegreeLevel,
    DocumentKind,
    FieldDegree,
    FieldOfStudy,
    Province,
    University,
    check_study,
    cities_by_province,
    clean_district,
    districts_by_city,
    document_kinds,
    find_by_persian_name,
    find_university,
    in_persian_order,
    load_reference_data,
    route,
)
from .review import (
    ACTION_LABELS,
    DEFICIENCY_REASONS,
    REASON_LABELS,
    REJECT_REASONS,
    STATUS_LABELS,
    Document,
    RequestEvent,
    can_see_request,
    reassign,
)

ALL_MODELS = (
    Province,
    University,
    City,
    CityDistrict,
    FieldOfStudy,
    DegreeLevel,
    FieldDegree,
    DocumentKind,
    Officer,
    StaffUser,
    Distributor,
    LoginSession,
    LoginFailure,
    AuditLog,
    PasswordReset,
    Notice,
    NoticeRead,
    SmsOutbox,
    RequestEvent,
    Document,
    QualificationRequest,
    Branch,
    Cooperation,
    TerminationRequest,
    EditRequest,
    Setting,
    Holiday,
    RateCounter,
)


def create_tables() -> None:
    """Create every missing table and index (safe to run again)."""
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)


from . import legacy  # noqa: E402  (the legacy CSV migration; imports the models above)
from .legacy import LegacyFileError, import_legacy  # noqa: E402
