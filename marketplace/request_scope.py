"""What one request shares: its database session, the acting user and the commit point.

One request is one transaction: handlers call services, then ``commit()`` once; any
exception rolls the whole request back in ``close_session``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from marketplace.config import Config
from marketplace.mail import MailSender
from marketplace.models import User
from marketplace.search.outbox import ENQUEUED
from marketplace.search.sync import SearchSync
from marketplace.services.account_links import LinkSettings
from marketplace.services.notifications import MAIL_QUEUED, use_site_url
from marketplace.suggestions.engine import SuggestionEngine

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """What the app keeps beside Flask: configuration, engine and session factory."""

    config: Config
    engine: Engine
    session_factory: sessionmaker
    search: SearchSync | None = None
    suggestions: SuggestionEngine | None = None
    mail: MailSender | None = None
    # The Flask-Limiter instance when rate limits are on (see marketplace.rate_limits).
    limiter: object | None = None


def app_state() -> AppState:
    """The running app's state."""
    return current_app.extensions["marketplace"]


def db_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = app_state().session_factory()
        # Links in e-mails queued during this request start here (see notifications.site_link).
        use_site_url(g.db_session, app_state().config.base_url or (request.url_root if has_request_context() else None))
    return g.db_session


def commit() -> None:
    """The request's single commit point; changed needs and offers then go to the search index,
    and queued e-mails to the mail sender.
    """
    session = db_session()
    session.commit()
    if session.info.pop(ENQUEUED, False) and app_state().search is not None:
        app_state().search.notify()
    if session.info.pop(MAIL_QUEUED, False) and app_state().mail is not None:
        app_state().mail.notify()


def close_session(exception: BaseException | None = None) -> None:
    """Roll back whatever was not committed and release the connection."""
    discard_session()


def discard_session() -> None:
    """Roll back and close the request's session, if it has one; a later ``db_session()`` opens a new one.

    The rollback cannot fail the request: when the connection is already gone there is nothing
    to roll back, and closing the session gives the broken connection back to the pool, which
    replaces it.
    """
    session = g.pop("db_session", None)
    if session is None:
        return
    # Nothing reads the request's objects after this, so they are let go as they are: a
    # rollback would first expire every one of them (a page's sixty rows cost 0.2 ms).
    session.expunge_all()
    try:
        session.rollback()
    except DBAPIError as error:
        log.warning("rollback failed: the connection was lost", extra={"error": type(error.orig).__name__})
    finally:
        session.close()


def current_actor() -> User | None:
    """The signed-in user (browser session or API bearer token), or None."""
    if "api_user" in g:
        return g.api_user
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, User) else None


def link_settings() -> LinkSettings:
    """Signing key and site address for links in e-mails (MARKETPLACE_BASE_URL when set)."""
    config = app_state().config
    return LinkSettings(secret_key=config.secret_key, base_url=config.base_url or request.url_root)
