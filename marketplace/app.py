"""The application factory."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, g, request, session
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import RequestEntityTooLarge, RequestURITooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from marketplace.api.errors import error_response
from marketplace.clock import council_today
from marketplace.config import PROJECT_ROOT, Config
from marketplace.db import make_engine, make_session_factory, reset_write_intent, set_write_intent, write_intent
from marketplace.extensions import csrf, login_manager
from marketplace.logging_setup import configure_logging
from marketplace.mail import MailSender
from marketplace.models import User
from marketplace.rate_limits import register_rate_limits
from marketplace.request_scope import AppState, close_session, db_session
from marketplace.schema import check_schema
from marketplace.search.sync import SearchSync
from marketplace.security import register_security_headers
from marketplace.services.accounts import password_fingerprint
from marketplace.services.needs import expire_overdue_needs
from marketplace.suggestions.engine import SuggestionEngine
from marketplace.text import refuse_nul
from marketplace.validation import MAX_BODY_BYTES, MAX_ID, MAX_REQUEST_LINE
from marketplace.web.auth import PASSWORD_FINGERPRINT, SESSION_VERSION
from marketplace.web.layout import TemplateEnvironment

log = logging.getLogger(__name__)

# Evidence uploads are larger: one file of up to 10 MB through the API, up to ten through the
# page. A little room above the limit lets an 11 MB file reach the check that names it.
UPLOAD_BODY_BYTES = {"api.add_evidence": 12 * 1024 * 1024, "pledges.evidence": 101 * 1024 * 1024}
EXPIRY_INTERVAL_SECONDS = 300


def create_app(config: Config | None = None, session_factory: sessionmaker | None = None) -> Flask:
    """Create the marketplace web application.

    Args:
        config: settings; read from the environment when None.
        session_factory: use this instead of one built from ``config.database_url``
            (the test suite passes one bound to a rolled-back transaction).

    Raises:
        SchemaError: when the database is not at the newest migration (run ``marketplace init``).
    """
    config = config or Config.from_env()
    configure_logging(config.log_level)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.jinja_environment = TemplateEnvironment  # before the environment is first made
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=config.testing,
        JSON_SORT_KEYS=False,
    )
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    if session_factory is None:
        engine = make_engine(config.database_url, pool_pre_ping=True)
        session_factory = make_session_factory(engine)
    engine = session_factory.kw["bind"]
    if config.check_schema:
        check_schema(engine)
    search = SearchSync(session_factory, config.index_dir, background=not config.testing, replica=config.index_replica)
    mail = MailSender(session_factory, config, background=not config.testing)
    app.extensions["marketplace"] = AppState(
        config=config,
        engine=engine,
        session_factory=session_factory,
        search=search,
        suggestions=SuggestionEngine(session_factory, config.embedding_model, snapshot_dir=config.matcher_dir),
        mail=mail,
    )
    search.start()
    mail.start()
    if not config.testing:
        app.extensions["marketplace"].suggestions.warm_up()

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    WTFormsHelpers(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            user = db_session().get(User, int(user_id))
        except ValueError:
            return None
        if user is None or not user.active:
            return None
        # A session from before the password last changed has ended (see web.auth).
        fingerprint = session.get(PASSWORD_FINGERPRINT)
        if fingerprint is not None and fingerprint != password_fingerprint(user):
            return None
        # A session from before the person last signed out has ended too, wherever its cookie went.
        if session.get(SESSION_VERSION, 0) != user.session_version:
            return None
        return user

    app.url_map.converters["int"] = DatabaseIdConverter
    app.teardown_appcontext(close_session)
    _register_host_check(app, config)
    _register_read_only_requests(app)
    _register_input_guard(app)
    _register_expiry(app)
    _register_blueprints(app)
    register_rate_limits(app, config)
    _register_request_log(app)
    register_security_headers(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """Ids in URLs: whole numbers. One too large for the database's integer becomes 0, which no
    row has, so /needs/99999999999999999999 is a plain 404 from the service: not an overflow
    inside the database driver, nor the 405 (with a wrong Allow header) that Werkzeug gives
    other methods when a conversion fails.
    """

    def to_python(self, value: str) -> int:
        """The id, or 0 when it cannot be one."""
        number = int(value)
        return number if number <= MAX_ID else 0


def _register_host_check(app: Flask, config: Config) -> None:
    """Answer 400 to a request whose ``Host`` is not this site's, before anything else reads it.

    Links in e-mails (confirmation, password reset) follow the request's host when
    MARKETPLACE_BASE_URL is unset; a forged host must never reach them.
    """
    trusted = [host.strip("[]").lower() for host in config.trusted_hosts]

    @app.before_request
    def refuse_unknown_hosts() -> object:
        if _host_name(request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME", "")) in trusted:
            return None
        log.warning("request for an unknown host refused", extra={"path": request.path})
        message = (
            "This address is not one this service answers to. If you run it, set MARKETPLACE_BASE_URL "
            "or MARKETPLACE_ALLOWED_HOSTS to the names people use."
        )
        if request.path.startswith("/api/"):
            return error_response(400, "unknown_host", message)
        return Response(message, status=400, mimetype="text/plain")

    # First of all the checks: nothing else may build a link from a forged host.
    app.before_request_funcs.setdefault(None, []).insert(0, app.before_request_funcs[None].pop())


def _host_name(host: str) -> str | None:
    """The name in a Host header, without its port: ``[::1]:5000`` is ``::1``; None if malformed."""
    try:
        return urlsplit("//" + host.strip()).hostname
    except ValueError:
        return None


def _register_input_guard(app: Flask) -> None:
    """Refuse NUL characters anywhere in the input, in one place.

    No one types them, PostgreSQL cannot store them, and letting one through to a query
    would turn bad input into a server error.
    """

    @app.url_value_preprocessor
    def allow_evidence_uploads(endpoint: str | None, values: dict | None) -> None:
        # Runs before every before_request (CSRF reads the form), so the larger limit applies.
        if endpoint in UPLOAD_BODY_BYTES:
            request.max_content_length = UPLOAD_BODY_BYTES[endpoint]

    @app.before_request
    def refuse_long_request_lines() -> None:
        # gunicorn refuses longer lines itself (gunicorn_conf.py); other servers answer the same.
        environ = request.environ
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        if len(request.method) + len(target) + len(" HTTP/1.1 ") > MAX_REQUEST_LINE:
            raise RequestURITooLarge()

    @app.before_request
    def refuse_large_chunked_bodies() -> None:
        # A chunked body has no Content-Length for MAX_CONTENT_LENGTH to judge, and the
        # server cuts it at the limit; a body that reaches the limit is too large (413),
        # not a malformed one (400) because its end is missing.
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if not chunked or request.content_length is not None:
            return
        if len(request.get_data(cache=True, parse_form_data=False)) >= (request.max_content_length or MAX_BODY_BYTES):
            raise RequestEntityTooLarge()

    @app.before_request
    def refuse_nul_characters() -> None:
        values: list[object] = [*request.args.values(), request.path]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values.extend(request.form.listvalues())
        refuse_nul(*values)


def _register_read_only_requests(app: Flask) -> None:
    """GET requests only read: on SQLite their transactions must not take the write lock.

    Otherwise a page that holds its transaction open while it works (suggestions) would
    block every writer, including the background threads it relies on.
    """

    @app.before_request
    def mark_reads() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            g.write_intent_token = set_write_intent(False)

    @app.teardown_request
    def unmark_reads(exception: BaseException | None = None) -> None:
        token = g.pop("write_intent_token", None)
        if token is not None:
            reset_write_intent(token)


def _register_blueprints(app: Flask) -> None:
    from marketplace.api import api
    from marketplace.web import register_web

    app.register_blueprint(api)
    register_web(app)


def _register_expiry(app: Flask) -> None:
    """Expire overdue needs at most every few minutes, in a transaction of its own.

    ``marketplace expire-needs`` does the same from a scheduler; this keeps a deployment
    without one correct.
    """
    last_run = {"at": 0.0}

    @app.before_request
    def expire_needs_now_and_then() -> None:
        now = time.monotonic()
        if now - last_run["at"] < EXPIRY_INTERVAL_SECONDS or request.endpoint == "static":
            return
        last_run["at"] = now
        with write_intent(), app.extensions["marketplace"].session_factory() as session:
            expire_overdue_needs(session, council_today())
            session.commit()


def _register_request_log(app: Flask) -> None:
    @app.after_request
    def log_request(response):
        if request.endpoint != "static":
            log.info(
                "request",
                extra={"method": request.method, "path": request.path, "status": response.status_code},
            )
        return response
