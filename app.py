"""The application factory and the command-line interface: the one place that wires
the domain (``models``), the shared web layer (``web``), the public forms, the back
office, the machine-to-machine API, storage and SMS."""

from __future__ import annotations

import os
import secrets
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, g, request
from flask.cli import with_appcontext
from jinja2 import ChoiceLoader, FileSystemLoader

import json_logging
import models
import persian
import web
from models import db
from web.extensions import babel, csrf, limiter, login_manager, select_locale

BASE_DIR = Path(__file__).resolve().parent


def _settings(app: Flask, test_config: dict | None) -> None:
    env = os.environ.get("APP_ENV", "development")
    instance = Path(app.instance_path)
    app.config.update(
        APP_ENV=env,
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'app.db'}"),
        UPLOAD_DIR=os.environ.get("UPLOAD_DIR", str(instance / "documents")),
        SMS_BACKEND=os.environ.get("SMS_BACKEND", "log"),
        SMS_LOG_FILE=os.environ.get("SMS_LOG_FILE", str(instance / "sms.log")),
        KAVENEGAR_API_KEY=os.environ.get("KAVENEGAR_API_KEY", ""),
        KAVENEGAR_SENDER=os.environ.get("KAVENEGAR_SENDER", ""),
        KAVENEGAR_URL=os.environ.get("KAVENEGAR_URL", "https://api.kavenegar.com"),
        KAVENEGAR_TIMEOUT=float(os.environ.get("KAVENEGAR_TIMEOUT", 10)),
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        # Keys being retired (Flask's own setting), separated by spaces or commas: a rotated
        # SECRET_KEY moves here for a while, so devices it vouched for stay known (web/login.py).
        SECRET_KEY_FALLBACKS=os.environ.get("SECRET_KEY_FALLBACKS", "").replace(",", " ").split(),
        # Identity checks (models/identity.py): "none" checks nothing; "http" asks the
        # civil registry and Shahkar through the integrator's JSON bridge.
        IDENTITY_BACKEND=os.environ.get("IDENTITY_BACKEND", "none"),
        IDENTITY_URL=os.environ.get("IDENTITY_URL", ""),
        IDENTITY_TOKEN=os.environ.get("IDENTITY_TOKEN", ""),
        IDENTITY_TIMEOUT=float(os.environ.get("IDENTITY_TIMEOUT", 5)),
        IDENTITY_BACKEND_NONE_ACKNOWLEDGED=os.environ.get("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "") == "1",
        # A body larger than this is refused with 413 before any view runs:
        # five documents of 5 MB and the form fields.
        MAX_CONTENT_LENGTH=int(os.environ.get("MAX_CONTENT_LENGTH", 26 * 1024 * 1024)),
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        BABEL_DEFAULT_LOCALE="fa",
        BABEL_DEFAULT_TIMEZONE="Asia/Tehran",
        BABEL_TRANSLATION_DIRECTORIES=str(BASE_DIR / "translations"),
        SESSION_IDLE_TIMEOUT=timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", 30))),
        SESSION_ABSOLUTE_TIMEOUT=timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        SMS_DELIVER_IN_BACKGROUND=os.environ.get("SMS_DELIVER_IN_BACKGROUND", "1") != "0",
        FLASK_ADMIN_SWATCH="default",
        # database:// keeps the counters in our database (web/ratelimit_storage.py),
        # shared by every worker and host; redis:// or memcached:// work too.
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "database://"),
        SEED_DEMO_DATA=env == "development",
        # Proxies in front of the app whose X-Forwarded-For is trusted (gunicorn's
        # FORWARDED_ALLOW_IPS implies one).
        TRUSTED_PROXY_COUNT=int(
            os.environ.get("TRUSTED_PROXY_COUNT", "1" if os.environ.get("FORWARDED_ALLOW_IPS") else "0")
        ),
        # Names this app host in an X-Served-By header (empty: no header), so an operator,
        # and the two-host test, can tell which host behind the balancer answered.
        INSTANCE_NAME=os.environ.get("INSTANCE_NAME", ""),
        # json (one object per line, the production default) or text; either way scrubbed
        # of national codes, mobiles, codes and query strings (json_logging.py).
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "json" if env == "production" else "text"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "info"),
        # Webhook receivers over plain http (development, tests); production requires https.
        # How long a process keeps a cartable's list and tab counts (backoffice/list_counts.py);
        # 0 counts on every page.
        CARTABLE_COUNTS_SECONDS=float(os.environ.get("CARTABLE_COUNTS_SECONDS", 10)),
        WEBHOOK_ALLOW_HTTP=os.environ.get("WEBHOOK_ALLOW_HTTP", "0" if env == "production" else "1") == "1",
    )
    if env == "production":
        app.config.update(
            SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-session", PREFERRED_URL_SCHEME="https"
        )
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _development_secret(instance)
    if test_config:
        app.config.update(test_config)
    if env == "production":
        explicit_database = "DATABASE_URL" in os.environ or "DATABASE_URL" in (test_config or {})
        problem = production_problem(app.config, explicit_database, os.environ)
        if problem:
            raise RuntimeError(problem)
    _refuse_unchecked_identity_in_production(app)


def production_problem(config, explicit_database: bool, environ) -> str:
    """Why this configuration must not serve production, or "" when it may: a guessable
    SECRET_KEY, the development database under instance/, or SMS written to a file
    (then no officer gets a code) unless the operator acknowledges it."""
    key = config.get("SECRET_KEY") or ""
    if not key:
        return "SECRET_KEY must be set when APP_ENV=production"
    if len(key.encode()) < 32 or len(set(key)) < 10:
        return "SECRET_KEY must be at least 32 random bytes (e.g. the output of: openssl rand -hex 32)"
    if not explicit_database:
        return "DATABASE_URL must be set when APP_ENV=production (the SQLite file under instance/ is for development)"
    backend = (config.get("SMS_BACKEND") or "log").strip().lower()
    if backend == "log" and environ.get("SMS_BACKEND_LOG_ACKNOWLEDGED") != "1":
        return "SMS_BACKEND=log sends no SMS: set SMS_BACKEND=kavenegar, or SMS_BACKEND_LOG_ACKNOWLEDGED=1"
    return ""


def _refuse_unchecked_identity_in_production(app: Flask) -> None:
    """Production registers real people: without identity checks anyone can take anyone's
    national code, so ``none`` needs an explicit acknowledgement there."""
    if (
        app.config["APP_ENV"] == "production"
        and app.config["IDENTITY_BACKEND"] == "none"
        and not app.config["IDENTITY_BACKEND_NONE_ACKNOWLEDGED"]
    ):
        raise RuntimeError(
            "IDENTITY_BACKEND=none checks no identity; in production set IDENTITY_BACKEND=http "
            "(with IDENTITY_URL and IDENTITY_TOKEN) or acknowledge with IDENTITY_BACKEND_NONE_ACKNOWLEDGED=1"
        )


def _development_secret(instance: Path) -> str:
    """A per-checkout key kept under instance/, so sessions survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; nothing is written to the database here."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(BASE_DIR / "publicforms" / "static"),
        static_url_path="/static",
    )
    _settings(app, test_config)
    if not app.testing:
        json_logging.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(BASE_DIR / "publicforms" / "templates")),
            FileSystemLoader(str(BASE_DIR / "backoffice" / "templates")),
            FileSystemLoader(str(BASE_DIR / "web" / "templates")),
        ]
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["TRUSTED_PROXY_COUNT"]:
        # Behind a TLS proxy: take the client's address and scheme from the proxy's
        # headers (only this many hops), so throttling and the audit see real clients.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    models.bind_url(app.config["DATABASE_URL"])
    app.extensions["identity"] = models.identity_from_settings(
        app.config["IDENTITY_BACKEND"],
        app.config["IDENTITY_URL"],
        app.config["IDENTITY_TOKEN"],
        app.config["IDENTITY_TIMEOUT"],
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    # First hooks in, last out: the request id exists before anything else runs, and the
    # request's log line and timing see the final response.
    from web import health, metrics, request_log

    request_log.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    probes = health.NO_DATABASE_ENDPOINTS | metrics.NO_DATABASE_ENDPOINTS

    web.init_app(app)

    from publicforms.distributor import bp as distributor_bp
    from publicforms.officer import bp as officer_bp
    from publicforms.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(officer_bp)
    app.register_blueprint(distributor_bp)

    from backoffice import init_admin

    init_admin(app)

    from api import init_api

    init_api(app)

    @app.before_request
    def _open_connection():
        # A connection per request; one already open (a test, a CLI) is left alone. The
        # probes and /metrics open their own, so they answer while the database is down.
        if request.endpoint not in probes:
            g.opened_connection = db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_connection(_exc):
        if g.pop("opened_connection", False) and not db.is_closed():
            db.close()

    if app.config["SMS_DELIVER_IN_BACKGROUND"]:
        _deliver_sms_after_writes(app)

    if app.config["INSTANCE_NAME"]:
        _name_the_host(app, app.config["INSTANCE_NAME"])

    register_commands(app)
    return app


def _deliver_sms_after_writes(app: Flask) -> None:
    """After a request that may have queued an SMS, wake the in-process sender, so a
    message appears within seconds with nothing else running (``deliver-sms --loop``
    remains the way to run delivery as a separate worker)."""
    import notify

    sender = notify.BackgroundSender(lambda: notify.backend_from_config(app.config), app.config["DATABASE_URL"])
    app.extensions["sms_sender"] = sender

    @app.after_request
    def _kick(response):
        if request.method == "POST" and response.status_code < 400:
            sender.kick()
        return response


def _name_the_host(app: Flask, name: str) -> None:
    """Every response, errors and static files included, says which host answered."""

    @app.after_request
    def _served_by(response):
        response.headers["X-Served-By"] = name
        return response


@contextmanager
def database_connection():
    """Open a connection for a command unless one is open already (tests, nested calls)."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened and not db.is_closed():
            db.close()


def register_commands(app: Flask) -> None:
    for command in (
        init_db_command,
        create_staff_command,
        create_distributor_command,
        deliver_sms_command,
        import_legacy_command,
        backup_command,
        restore_command,
        sweep_documents_command,
        tick_command,
        deactivate_staff_command,
        load_holidays_command,
    ):
        app.cli.add_command(command)


def _university_by_name(name: str):
    # The official name («دانشکده علوم پزشکی خوی») or the contract's «دانشگاه علوم پزشکی خوی».
    university = models.find_university(name)
    if university is None:
        raise click.BadParameter(f"no university named {name!r} in the reference data")
    return university


def _fail_on_domain_error(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except models.DomainError as error:
        raise click.ClickException(models.translate(error.msgid, **error.params)) from None


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Apply pending migrations and load reference data; safe to run again."""
    from flask import current_app

    import notify
    from models import migrations

    with database_connection():
        for name in migrations.migrate():
            click.echo(f"migration applied: {name}")
            if name.startswith("017_"):
                # The SMS log of the releases before holds codes in clear, as the outbox did.
                masked = notify.scrub_log_file(current_app.config["SMS_LOG_FILE"])
                click.echo(f"sms log: {masked} codes masked")
        added = {table: count for table, count in models.load_reference_data().items() if count}
        if added:
            click.echo("reference data added: " + ", ".join(f"{k}={v}" for k, v in added.items()))
        else:
            click.echo("reference data: up to date")
        this_year = models.official_holidays.current_jalali_year()
        for year in (this_year, this_year + 1):
            click.echo("official holidays " + models.official_holidays.load_official_holidays(year).summary())
        # The document directory too, so /readyz finds it (it never creates one itself).
        import storage

        storage.DocumentStore(current_app.config["UPLOAD_DIR"])
        if current_app.config["SEED_DEMO_DATA"] and not models.StaffUser.select().exists():
            from demo import create_demo_accounts

            for line in create_demo_accounts(Path(current_app.instance_path)):
                click.echo(line)


@click.command("create-staff")
@with_appcontext
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(models.StaffUser.ROLES), required=True)
@click.option("--university", "university_name", default=None, help="Persian name, e.g. دانشگاه علوم پزشکی اصفهان")
@click.option("--full-name", default="")
def create_staff_command(username, password, role, university_name, full_name):
    """Create a back-office account."""
    with database_connection():
        university = _university_by_name(university_name) if university_name else None
        staff = _fail_on_domain_error(
            models.create_staff, username, password, role, university=university, full_name=full_name
        )
        click.echo(f"created staff {staff.username} ({staff.role})")


@click.command("create-distributor")
@with_appcontext
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(models.Distributor.KINDS), required=True)
@click.option("--manager-mobile", required=True)
@click.option("--manager-name", default="")
def create_distributor_command(username, password, name, kind, manager_mobile, manager_name):
    """Create a distributor account."""
    with database_connection():
        distributor = _fail_on_domain_error(
            models.create_distributor, username, password, name, kind, manager_mobile, manager_name=manager_name
        )
        click.echo(f"created distributor {distributor.username}")


@click.command("deliver-sms")
@with_appcontext
@click.option("--loop", is_flag=True, help="keep running, delivering every few seconds")
def deliver_sms_command(loop):
    """Deliver queued SMS with retries."""
    from flask import current_app

    import notify

    backend = notify.backend_from_config(current_app.config)
    if loop:
        notify.deliver_loop(backend)
        return
    with database_connection():
        counts = notify.deliver_pending(backend, limit=10_000)
    click.echo(", ".join(f"{k}={v}" for k, v in counts.items()))


@click.command("import-legacy")
@with_appcontext
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="validate everything and write the report; change nothing")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="where to write the report (default: DIR/import-report.csv)",
)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "cp1256", "utf-16"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="the files' encoding; auto tells UTF-8 (with or without BOM), UTF-16 (BOM) and Windows-1256 apart",
)
def import_legacy_command(directory, dry_run, report_path, encoding):
    """Migrate the old system's CSV files in DIRECTORY (officers, distributors, branches, contracts,
    and the officers' scanned documents of documents.csv into UPLOAD_DIR)."""
    from flask import current_app

    import storage
    from models import legacy

    store = None if dry_run else storage.DocumentStore(current_app.config["UPLOAD_DIR"])
    with database_connection():
        try:
            with click.progressbar(
                length=legacy.count_rows(directory), label="import-legacy", file=sys.stderr, show_pos=True
            ) as bar:
                result = legacy.import_legacy(
                    directory,
                    report_path=report_path,
                    dry_run=dry_run,
                    progress=bar.update,
                    encoding=encoding,
                    store=store,
                )
        except legacy.LegacyFileError as error:
            raise click.ClickException(legacy.message(error.msgid, **error.params)) from None
    for line in result.summary_lines():
        click.echo(line)


@click.command("backup")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory):
    """Consistent online backup of the database and the documents, with a hash manifest."""
    from flask import current_app

    import backup

    manifest = backup.backup(current_app.config["DATABASE_URL"], current_app.config["UPLOAD_DIR"], directory)
    click.echo(f"backup written to {directory}: {len(manifest['files'])} files")


@click.command("restore")
@with_appcontext
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(directory):
    """Verify a backup's manifest, then restore its database and documents."""
    from flask import current_app

    import backup

    try:
        manifest = backup.restore(current_app.config["DATABASE_URL"], current_app.config["UPLOAD_DIR"], directory)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {len(manifest['files'])} files from {directory}")


@click.command("sweep-documents")
@with_appcontext
@click.option("--older-than", default=3600, show_default=True, help="seconds; younger files are kept")
def sweep_documents_command(older_than):
    """Remove stored files that no row names (left by a request that failed half-way)."""
    from flask import current_app

    import storage

    store = storage.DocumentStore(current_app.config["UPLOAD_DIR"])
    with database_connection():
        known = {d.storage_name for d in models.Document.select(models.Document.storage_name)}
        removed = store.sweep_orphans(known, older_than_seconds=older_than)
    click.echo(f"removed {len(removed)} orphaned files")


@click.command("tick")
@with_appcontext
@click.option("--loop", is_flag=True, help="keep running, looking for due jobs every --interval seconds")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(1, 3600))
@click.option("--only", multiple=True, help="run only this job (repeatable)")
def tick_command(loop, interval, only):
    """Run the time-based rules that are due: nominations expire, overdue requests are
    escalated, reminders and branch alerts are sent. Safe on several hosts at once."""
    import time

    from models import tick

    unknown = sorted(set(only) - set(tick.JOBS))
    if unknown:
        raise click.BadParameter(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(sorted(tick.JOBS))}")
    while True:
        with database_connection():
            results = tick.run_due(only=set(only) or None)
        if results or not loop:
            click.echo(
                ", ".join(f"{name}={'failed' if n is None else n}" for name, n in results.items()) or "nothing due"
            )
        if not loop:
            if any(n is None for n in results.values()):
                raise SystemExit(1)
            return
        time.sleep(interval)


@click.command("load-holidays")
@with_appcontext
@click.argument("year")
def load_holidays_command(year):
    """Load Iran's official holidays of Jalali YEAR (e.g. 1405) from the holidays package;
    holidays entered by hand stay; safe to run again."""
    digits = persian.to_ascii_digits(year.strip())  # ۱۴۰۵ as well as 1405
    if not digits.isdigit():
        raise click.BadParameter(f"{year!r} is not a Jalali year such as 1405")
    with database_connection():
        result = _fail_on_domain_error(models.official_holidays.load_official_holidays, int(digits))
    click.echo("official holidays " + result.summary())


@click.command("deactivate-staff")
@with_appcontext
@click.option("--username", required=True)
@click.option("--reason", default="", help="kept in the audit log and the requests' history")
def deactivate_staff_command(username, reason):
    """A back-office account can no longer log in; the requests bound to it return to its
    university's pool."""
    with database_connection():
        staff = models.StaffUser.get_or_none(models.StaffUser.username == username)
        if staff is None:
            raise click.ClickException(f"no staff account {username!r}")
        returned = _fail_on_domain_error(models.deactivate_staff, staff, models.SYSTEM, reason)
    click.echo(f"deactivated {username}; {returned} requests returned to the pool")


if __name__ == "__main__":  # pragma: no cover
    create_app().run()
