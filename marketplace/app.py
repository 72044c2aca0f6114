"""The application factory."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, request, session
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.orm import sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

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
from marketplace.web.auth import PASSWORD_FINGERPRINT

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
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
    search = SearchSync(session_factory, config.index_dir, background=not config.testing)
    mail = MailSender(session_factory, config, background=not config.testing)
    app.extensions["marketplace"] = AppState(
        config=config,
        engine=engine,
        session_factory=session_factory,
        search=search,
        suggestions=SuggestionEngine(session_factory, config.embedding_model),
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
        return user

    app.url_map.converters["int"] = DatabaseIdConverter
    app.teardown_appcontext(close_session)
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

    MAX_ID = 2**31 - 1

    def to_python(self, value: str) -> int:
        """The id, or 0 when it cannot be one."""
        number = int(value)
        return number if number <= self.MAX_ID else 0


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
