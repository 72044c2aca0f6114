"""The suppliers' daily digest: one e-mail listing new needs that fit their open offers well.

Run once a day (``marketplace send-digests`` from cron). For each active supplier who has
not switched it off, the needs posted since their last digest that the matcher rates a
*good* fit for their organisation's open offers are listed in one e-mail; nothing is
sent when nothing fits. Each need is considered once: the next digest starts where this
one ended, so a need is never listed twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

import matching
from marketplace.models import Need, NeedStatus, Offer, OfferStatus, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.errors import Forbidden, ValidationFailed
from marketplace.services.listings import visibility_clause
from marketplace.services.notifications import absolute_link, queue_email
from marketplace.suggestions.engine import SuggestionEngine

log = logging.getLogger(__name__)

# Never sent a digest: look back one day. Switched off for months and back on: look back a
# week at most, so the first digest is not a backlog.
FIRST_WINDOW = timedelta(days=1)
MAX_WINDOW = timedelta(days=7)
# How many of the best-fitting needs to ask the matcher for, per supplier. New needs are a
# small share of all open ones, and a good fit ranks high, so this bounds the work without
# losing them in practice.
CANDIDATES = 500
# Needs listed in one e-mail; the rest are on the supplier's suggested-needs page.
MAX_LISTED = 20
# Any constant: the PostgreSQL advisory lock that lets one digest run at a time.
_DIGEST_LOCK_KEY = 0x5356_4447


@dataclass(frozen=True)
class DigestItem:
    """A need in a digest, with why it fits."""

    need: Need
    score: float
    reasons: tuple[str, ...]


@dataclass
class DigestReport:
    """What one digest run did."""

    suppliers: int = 0
    emails: int = 0
    needs_listed: int = 0


def set_digest(session: Session, actor: User | None, enabled: bool) -> User:
    """A supplier switches their daily digest of fitting new needs on or off.

    Raises:
        NotSignedIn: nobody is signed in; Forbidden: the person is not a supplier.
    """
    user = require_role(actor, Role.SUPPLIER, Role.COMMUNITY, Role.OFFICER)
    if user.role is not Role.SUPPLIER:
        raise Forbidden("Only suppliers get the daily digest of new needs")
    user.digest_enabled = bool(enabled)
    session.flush()
    log.info("digest setting changed", extra={"user_id": user.id, "digest_enabled": user.digest_enabled})
    return user


def _fitting_needs(engine: SuggestionEngine, today: date) -> dict[int, dict[int, matching.Suggestion]]:
    """Good fits for the open offers of each organisation with digest readers: need id → suggestion.

    Reads through the engine's own short transactions, before the caller's session is
    used: on SQLite the caller's transaction holds the single write lock from its first
    statement, and the matcher's catch-up (which stores vectors) would wait for it.
    """
    with engine.session_factory() as reader:
        rows = reader.execute(
            select(Offer.organisation_id, Offer.id)
            .join(User, User.organisation_id == Offer.organisation_id)
            .where(
                Offer.status == OfferStatus.OPEN,
                User.role == Role.SUPPLIER,
                User.active,
                User.digest_enabled,
            )
            .distinct()
        ).all()
        reader.rollback()
    offers: dict[int, list[str]] = {}
    for organisation_id, offer_id in rows:
        offers.setdefault(organisation_id, []).append(str(offer_id))
    fits = {}
    for organisation_id, offer_ids in sorted(offers.items()):
        ids = sorted(offer_ids, key=int)
        answer = engine.run(lambda m, ids=ids: m.suggest_needs_for_offers(ids, CANDIDATES, today))
        fits[organisation_id] = {int(s.id): s for s in answer.items if s.good}
    return fits


def _new_public_needs(session: Session, ids: set[int], since: datetime, until: datetime) -> list[Need]:
    """Of these needs: those open, public, and posted in (since, until]."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(Need)
            .options(selectinload(Need.organisation))
            .where(
                Need.id.in_(ids),
                Need.status == NeedStatus.OPEN,
                Need.created_at > since,
                Need.created_at <= until,
                visibility_clause(Need, None, NeedStatus.WITHDRAWN.value),
            )
        )
    )


def digest_body(user: User, items: list[DigestItem], base_url: str, service_name: str) -> str:
    """The text of a digest e-mail: each need with its group, link and reasons."""
    link = partial(absolute_link, base_url)
    intro = "A new need fits" if len(items) == 1 else f"{len(items)} new needs fit"
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"{intro} your organisation's open offers well on the {service_name}:",
    ]
    for number, item in enumerate(items[:MAX_LISTED], start=1):
        need = item.need
        details = [need.organisation.name, need.district_code]
        if need.needed_by is not None:
            details.append(f"needed by {need.needed_by.day} {need.needed_by:%B %Y}")
        lines += ["", f"{number}. {need.title}", f"   {' · '.join(details)}", f"   {link(f'/needs/{need.id}')}"]
        lines += [f"   - {reason}" for reason in item.reasons]
    if len(items) > MAX_LISTED:
        lines += ["", f"And {len(items) - MAX_LISTED} more."]
    lines += [
        "",
        f"All the needs suggested for your offers: {link('/supplier/suggested-needs')}",
        f"To stop these daily emails, switch the digest off on your account page: {link('/account')}",
    ]
    return "\n".join(lines)


def send_digests(
    session: Session,
    engine: SuggestionEngine,
    *,
    base_url: str,
    now: datetime,
    today: date,
    service_name: str = "Social Value Marketplace",
) -> DigestReport:
    """Queue one digest e-mail per supplier with fitting new needs; flushes, never commits.

    Every supplier looked at has ``last_digest_at`` moved to ``now``, e-mail or not: needs
    posted up to then have been considered, and the next digest starts there.

    Args:
        session: the transaction to queue e-mails in (the caller commits, then sends).
        engine: the process's suggestion engine.
        base_url: the site's address, for the links, e.g. ``https://marketplace.example.gov.uk``.
        now: the end of the period covered (and the new ``last_digest_at``).
        today: the council's today, to judge offers' and needs' dates by.
        service_name: the site's name in the e-mail.

    Returns:
        How many suppliers were looked at, e-mails queued and needs listed.
    """
    report = DigestReport()
    fits_by_organisation = _fitting_needs(engine, today)
    if session.get_bind().dialect.name == "postgresql":
        # Two runs at once (a retried cron job): the second waits here, then reads the
        # first one's last_digest_at, so no supplier gets the same needs twice. SQLite's
        # write lock, taken by the first statement, does the same.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DIGEST_LOCK_KEY})
    suppliers = session.scalars(
        select(User)
        .where(User.role == Role.SUPPLIER, User.active, User.digest_enabled)
        .order_by(User.organisation_id, User.id)
        .execution_options(populate_existing=True)
    )
    for user in suppliers:
        report.suppliers += 1
        fits = fits_by_organisation.get(user.organisation_id, {})
        since = max(user.last_digest_at or now - FIRST_WINDOW, now - MAX_WINDOW)
        needs = _new_public_needs(session, set(fits), since, now)
        user.last_digest_at = now
        if not needs:
            continue
        items = sorted(
            (DigestItem(need=n, score=fits[n.id].score, reasons=fits[n.id].reasons) for n in needs),
            key=lambda item: (-item.score, item.need.id),
        )
        subject = (
            f"A new need fits your offers: “{items[0].need.title}”"
            if len(items) == 1
            else f"{len(items)} new needs fit your offers"
        )
        queue_email(session, [user.email], subject, digest_body(user, items, base_url, service_name))
        report.emails += 1
        report.needs_listed += len(items)
    session.flush()
    log.info(
        "digests queued",
        extra={"suppliers": report.suppliers, "emails": report.emails, "needs_listed": report.needs_listed},
    )
    return report


# --- groups' alerts: new offers that fit their open needs, daily or weekly -----------------------

ALERT_FREQUENCIES = {"off": None, "daily": timedelta(days=1), "weekly": timedelta(days=7)}


def set_offer_alerts(session: Session, actor: User | None, frequency: str) -> User:
    """A group member chooses an e-mail of new offers fitting the group's open needs: off, daily or weekly.

    Raises:
        NotSignedIn; Forbidden: not a community group member; ValidationFailed: another value.
    """
    user = require_role(actor, Role.SUPPLIER, Role.COMMUNITY, Role.OFFICER)
    if user.role is not Role.COMMUNITY:
        raise Forbidden("Only community groups get alerts of offers that fit their needs")
    if frequency not in ALERT_FREQUENCIES:
        raise ValidationFailed({"offer_alerts": "Select how often you want the email of fitting offers"})
    user.offer_alerts = frequency
    session.flush()
    log.info("offer alerts changed", extra={"user_id": user.id, "offer_alerts": frequency})
    return user


def _fitting_offers(engine: SuggestionEngine, today: date) -> dict[int, dict[int, tuple[Need, matching.Suggestion]]]:
    """For each group with alert readers: offer id → (the need it fits best, the suggestion)."""
    with engine.session_factory() as reader:
        rows = reader.execute(
            select(Need.organisation_id, Need.id)
            .join(User, User.organisation_id == Need.organisation_id)
            .where(Need.status == NeedStatus.OPEN, User.role == Role.COMMUNITY, User.active, User.offer_alerts != "off")
            .distinct()
        ).all()
        reader.rollback()
    fits: dict[int, dict[int, tuple[int, matching.Suggestion]]] = {}
    for organisation_id, need_id in sorted(rows):
        answer = engine.run(lambda m, need_id=need_id: m.suggest_offers(str(need_id), CANDIDATES, today))
        best = fits.setdefault(organisation_id, {})
        for suggestion in answer.items:
            offer_id = int(suggestion.id)
            if suggestion.good and (offer_id not in best or suggestion.score > best[offer_id][1].score):
                best[offer_id] = (need_id, suggestion)
    return fits  # type: ignore[return-value]


def send_offer_alerts(session: Session, engine: SuggestionEngine, *, base_url: str, now: datetime, today: date) -> int:
    """Queue each group member who asked for it one e-mail of new public offers fitting the group's
    open needs (daily or weekly, when their period is over); flushes, never commits. Returns e-mails queued.
    """
    fits = _fitting_offers(engine, today)
    link = partial(absolute_link, base_url)
    queued = 0
    members = session.scalars(
        select(User)
        .where(User.role == Role.COMMUNITY, User.active, User.offer_alerts != "off")
        .order_by(User.id)
        .execution_options(populate_existing=True)
    )
    for user in members:
        period = ALERT_FREQUENCIES.get(user.offer_alerts)
        if period is None or (user.last_offer_alert_at is not None and now - user.last_offer_alert_at < period):
            continue
        since = max(user.last_offer_alert_at or now - period, now - MAX_WINDOW)
        user.last_offer_alert_at = now
        found = fits.get(user.organisation_id, {})
        if not found:
            continue
        offers = session.scalars(
            select(Offer)
            .options(selectinload(Offer.organisation))
            .where(
                Offer.id.in_(found),
                Offer.status == OfferStatus.OPEN,
                Offer.created_at > since,
                Offer.created_at <= now,
                visibility_clause(Offer, None, OfferStatus.WITHDRAWN.value),
            )
            .order_by(Offer.id)
        ).all()
        if not offers:
            continue
        lines = [f"Hello {user.name or user.email},", "", "New offers fit your group's open needs:"]
        for number, offer in enumerate(offers[:MAX_LISTED], start=1):
            need_id, suggestion = found[offer.id]
            need = session.get(Need, need_id)
            lines += [
                "",
                f"{number}. {offer.title} ({offer.organisation.name})",
                f"   Fits your need “{need.title if need else ''}”",
                f"   Ask for it: {link(f'/offers/{offer.id}/ask?need_id={need_id}')}",
            ]
            lines += [f"   - {reason}" for reason in suggestion.reasons]
        lines += ["", f"To change how often you get this email, or stop it: {link('/account#alerts')}"]
        subject = (
            f"A new offer fits your needs: “{offers[0].title}”"
            if len(offers) == 1
            else f"{len(offers)} new offers fit your needs"
        )
        queue_email(session, [user.email], subject, "\n".join(lines))
        queued += 1
    session.flush()
    log.info("offer alerts queued", extra={"emails": queued})
    return queued
