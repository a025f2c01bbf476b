"""The domain: Peewee models and every rule of the seed. Imports no Flask.

Split into modules by subject (bottom of the import graph first; no module imports one
above it, and none imports inside a function to hide a cycle):

    base          the database binding, the base model, errors, Actor, translate
    prepared      prepared statements (the one module relying on peewee's insides)
    reference     provinces, cities, universities, fields, degrees, document kinds
    audit         the audit log
    accounts      the three account tables and their passwords
    notices       the officers' inbox and the SMS outbox
    auth          sessions, login throttling, password change and reset
    officer_rules the officer's fields: policy, cleaning, registration, profile
    vocabulary    states, actions, reasons and their labels
    sla           the service-level clock: settings (with bounds), holidays, working days
    official_holidays  Iran's official holidays from the ``holidays`` package, per Jalali year
    tick          the time-based rules' runner: named jobs under leases (``flask tick``)
    staff_notices notices to a university's reviewers or to the directorate
    rerouting     moving the files under way of a city to the university covering it now
    review        the review lifecycle every reviewed request type shares
    qualification, edit_requests, cooperation   the reviewed request types
    branch_fields a branch's fields, cleaned alike at creation and on an edit
    branches      editing and closing a branch; the manager's mobile set by the directorate
    termination   the officer ends an active cooperation (not reviewed)
    request_records  every request's history lines and documents
    request_types the registry of reviewed types (REVIEWED_TYPES)
    cartable      the cartable's tabs, counts and next request; the reviewer's decision
    reassignment  reassigning requests; a reviewer who leaves returns them to the pool
    time_rules    expiry, escalation, reminders, branches without an officer (tick's jobs)
    dashboards    the dashboards' aggregates (reporting; no operation imports it)
    identity      the identity adapters (civil registry, Shahkar)
    registration  registration and mobile changes confirmed by an SMS code; claims
    account_admin the directorate's account tools (deactivate, holds, corrections)
    desk          the officer's next steps (nominations, active cooperation, deficiency)
    api_clients   the API's tokens (hashed, scoped, revocable, rate-limited) and idempotency keys
    api_feed      the API's keyset pages, the directorate's event feed, an officer's record
    webhooks      the feed's events pushed to subscribers: signed, retried, in order (tick's job)
    verification, ratelimit, migrations, legacy

The operations share one shape: the record acted on first, then the actor, then the
data: ``request.apply(action, actor, note=...)``, ``reassign(request, actor, ...)``,
``nominate(branch, actor, national_code)``, ``release(branch, actor)``,
``start_request(officer, actor)``, ``file_edit_request(officer, actor, data, uploads)``,
``save_termination(officer, actor, reason)``; an operation that makes a record from
nothing takes the actor first: ``create_branch(actor, ...)``, ``send_notice(actor, ...)``.
Older exceptions, kept because both doors call them: ``update_profile(officer, data,
actor)`` and ``update_place_before_qualification(officer, data, actor)``;
``register_officer(data, actor=None)`` (the applicant has no account yet); and
``create_staff``/``create_distributor``, which take no actor (the command line and the
back office audit them). The actor is always a parameter, never a web global.

Permission is asked of the actor and the record, in one style: ``actor.is_officer(id)``,
``actor.is_distributor(id)``, ``actor.is_reviewer``, ``actor.is_directorate``, and on the
records ``officer.can_manage(actor)``, ``branch.can_manage(actor)``,
``request.can_see(actor)``, ``Model.visible_to(actor)`` (a query) and
``Model.find(actor, id)``. A refusal raises a :class:`DomainError` subclass
(``PermissionDenied``, ``ConflictError``, ``ValidationFailed``) whose message id the
doors translate.

This package re-exports what the rest of the application uses, so callers write
``from models import Officer``.
"""

from . import (
    account_admin,
    api_clients,
    api_feed,
    auth,
    branches,
    cartable,
    cooperation,
    dashboards,
    desk,
    edit_requests,
    identity,
    legacy,  # the legacy CSV migration; imports the models above
    official_holidays,
    operations,
    qualification,
    ratelimit,
    reassignment,
    rerouting,
    sla,
    staff_notices,
    termination,
    tick,
    time_rules,  # registers the time-based rules' jobs with tick
    verification,
    webhooks,
)
from .account_admin import IdentityCorrection
from .accounts import (
    Distributor,
    Officer,
    StaffUser,
    create_distributor,
    create_staff,
    give_manager_mobile,
    hash_password,
    password_problem,
    verify_password,
)
from .api_clients import ApiClient, ApiIdempotency
from .audit import AuditLog, audit, describe_changes
from .auth import (
    DEVICE_COOKIE,
    LoginFailure,
    LoginSession,
    LoginThrottled,
    PasswordReset,
    authenticate,
    burn_password_check,
    change_password,
    device_is_known,
    device_keys,
    device_token,
    end_all_sessions,
    end_session,
    find_officer_for_login,
    load_session,
    request_password_reset,
    reset_password,
    start_session,
)
from .base import (
    MAX_ID,
    N_,
    NP_,
    SYSTEM,
    Actor,
    BaseModel,
    ConflictError,
    DomainError,
    PermissionDenied,
    anonymous_actor,
    bind_database,
    bind_url,
    connect_database,
    db,
    is_id,
    is_sqlite,
    parse_id,
    sql_persian_order,
    tehran_today,
    translate,
    utcnow,
)
from .branches import change_manager_mobile_by_directorate, close_branch, edit_branch
from .cooperation import Branch, Cooperation
from .edit_requests import EditRequest
from .identity import IdentityRefused, IdentityUnavailable, identity_from_settings
from .legacy import LegacyFileError, import_legacy
from .legacy_claim import LegacyDispute
from .legacy_followup import send_qualification_reminders
from .notices import (
    Notice,
    NoticeRead,
    SmsOutbox,
    inbox,
    mask_sms_codes,
    notify_officer,
    open_notice,
    queue_sms,
    send_notice,
    unread_count,
    wipe_sms_secrets,
)
from .officer_rules import (
    FIELD_POLICY,
    FREE_FIELDS,
    REVIEWED_FIELDS,
    ValidationFailed,
    directly_editable_fields,
    register_officer,
    reviewed_fields_frozen,
    set_allowed_degrees,
    set_district,
    update_place_before_qualification,
    update_profile,
)
from .prepared import Compiled, Prepared
from .profile_completion import complete_profile, first_login_step, missing_profile_fields
from .qualification import QualificationRequest
from .ratelimit import RateCounter
from .reassignment import bulk_reassign, deactivate_staff, reassign
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
    allowed_degrees,
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
from .registration import (
    IdentityClaim,
    MobileVerification,
    Throttled,
    confirm_manager_mobile_change,
    confirm_mobile_change,
    confirm_registration,
    start_manager_mobile_change,
    start_mobile_change,
    start_registration,
)
from .request_types import REVIEWED_TYPES, WAITING_STATES, officer_documents, officer_requests, reviewed_type
from .review import Document, RequestEvent, ReviewFlow
from .sla import Holiday, Setting
from .staff_notices import StaffNotice
from .termination import TerminationRequest
from .tick import TickJob, TickMark, job_lags, register_job
from .vocabulary import (
    ACTION_LABELS,
    DEFICIENCY_REASONS,
    REASON_LABELS,
    REJECT_REASONS,
    STATUS_LABELS,
    Action,
    ReadState,
    State,
)
from .webhooks import WebhookDelivery, WebhookSubscription

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
    TickJob,
    TickMark,
    StaffNotice,
    MobileVerification,
    IdentityClaim,
    IdentityCorrection,
    ApiClient,
    ApiIdempotency,
    WebhookSubscription,
    WebhookDelivery,
    LegacyDispute,
)


def create_tables() -> None:
    """Create every missing table and index (safe to run again)."""
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)
        for statement in qualification.SQLITE_INDEXES if is_sqlite() else qualification.POSTGRES_STATISTICS:
            db.execute_sql(statement)


__all__ = [
    # base
    "SYSTEM",
    "Actor",
    "BaseModel",
    "ConflictError",
    "DomainError",
    "N_",
    "NP_",
    "PermissionDenied",
    "anonymous_actor",
    "bind_database",
    "bind_url",
    "connect_database",
    "db",
    "is_sqlite",
    "sql_persian_order",
    "is_id",
    "MAX_ID",
    "parse_id",
    "tehran_today",
    "translate",
    "utcnow",
    "Compiled",
    "Prepared",
    # reference data
    "REFERENCE_MODELS",
    "City",
    "CityDistrict",
    "DegreeLevel",
    "DocumentKind",
    "FieldDegree",
    "FieldOfStudy",
    "Province",
    "University",
    "allowed_degrees",
    "check_study",
    "cities_by_province",
    "clean_district",
    "districts_by_city",
    "document_kinds",
    "find_by_persian_name",
    "find_university",
    "in_persian_order",
    "load_reference_data",
    "route",
    # accounts, audit, notices, signing in
    "AuditLog",
    "describe_changes",
    "audit",
    "Distributor",
    "Officer",
    "StaffUser",
    "create_distributor",
    "create_staff",
    "hash_password",
    "password_problem",
    "verify_password",
    "Notice",
    "NoticeRead",
    "SmsOutbox",
    "inbox",
    "notify_officer",
    "open_notice",
    "queue_sms",
    "wipe_sms_secrets",
    "mask_sms_codes",
    "send_notice",
    "unread_count",
    "DEVICE_COOKIE",
    "device_is_known",
    "device_keys",
    "device_token",
    "LoginFailure",
    "LoginSession",
    "LoginThrottled",
    "PasswordReset",
    "authenticate",
    "burn_password_check",
    "change_password",
    "end_all_sessions",
    "end_session",
    "find_officer_for_login",
    "load_session",
    "request_password_reset",
    "reset_password",
    "start_session",
    # the officer's fields
    "FIELD_POLICY",
    "FREE_FIELDS",
    "REVIEWED_FIELDS",
    "ValidationFailed",
    "directly_editable_fields",
    "register_officer",
    "set_allowed_degrees",
    "set_district",
    "reviewed_fields_frozen",
    "update_place_before_qualification",
    "update_profile",
    # identity and verified mobiles
    "IdentityRefused",
    "IdentityUnavailable",
    "identity_from_settings",
    "MobileVerification",
    "IdentityClaim",
    "IdentityCorrection",
    "account_admin",
    # the machine-to-machine API
    "ApiClient",
    "ApiIdempotency",
    "api_clients",
    "api_feed",
    "WebhookSubscription",
    "WebhookDelivery",
    "webhooks",
    "Throttled",
    "confirm_mobile_change",
    "confirm_registration",
    "start_mobile_change",
    "start_registration",
    "identity",
    # review
    "ACTION_LABELS",
    "DEFICIENCY_REASONS",
    "REASON_LABELS",
    "REJECT_REASONS",
    "STATUS_LABELS",
    "Action",
    "ReadState",
    "State",
    "Holiday",
    "Setting",
    "Document",
    "RequestEvent",
    "ReviewFlow",
    "reassign",
    "bulk_reassign",
    "deactivate_staff",
    "StaffNotice",
    "LegacyDispute",
    "TickJob",
    "TickMark",
    "job_lags",
    "register_job",
    "QualificationRequest",
    "Branch",
    "branches",
    "edit_branch",
    "close_branch",
    "change_manager_mobile_by_directorate",
    "start_manager_mobile_change",
    "confirm_manager_mobile_change",
    "Cooperation",
    "TerminationRequest",
    "EditRequest",
    "REVIEWED_TYPES",
    "WAITING_STATES",
    "officer_documents",
    "officer_requests",
    "reviewed_type",
    # the rest
    "RateCounter",
    "LegacyFileError",
    "import_legacy",
    "complete_profile",
    "give_manager_mobile",
    "send_qualification_reminders",
    "first_login_step",
    "missing_profile_fields",
    "ALL_MODELS",
    "create_tables",
    "auth",
    "cartable",
    "cooperation",
    "termination",
    "dashboards",
    "desk",
    "edit_requests",
    "operations",
    "qualification",
    "ratelimit",
    "rerouting",
    "sla",
    "verification",
    "legacy",
    "reassignment",
    "staff_notices",
    "tick",
    "time_rules",
    "official_holidays",
]
