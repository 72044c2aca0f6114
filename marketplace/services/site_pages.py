"""The service's information pages (accessibility statement, privacy notice, cookies, help) and feedback.

Each page ships with wording of its own (``marketplace/seed/pages/<slug>.txt``) so a council
is never without the pages the law asks for; an officer can replace it from
``/officer/pages`` without a code change, and put the shipped wording back.

The wording is plain text with a little markup, rendered safely (nothing typed becomes
HTML): a blank line between paragraphs, ``## `` and ``### `` for headings, ``- `` for list
items, ``[words](https://address)`` for links, and ``{council}``, ``{service}`` and the
retention periods (``{sent_email_days}`` ...) filled in, so the privacy notice always
states the periods ``marketplace purge`` enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.db import utcnow
from marketplace.models import Feedback, PageText, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import NotFound, ValidationFailed
from marketplace.services.paging import Page, paginate
from marketplace.services.retention import RETENTION

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "seed" / "pages"
MAX_PAGE_CHARS = 30_000
MAX_FEEDBACK_CHARS = 1_200


@dataclass(frozen=True)
class PageKind:
    """One information page: its address name and title."""

    slug: str
    title: str


PAGES: dict[str, PageKind] = {
    kind.slug: kind
    for kind in (
        PageKind("accessibility-statement", "Accessibility statement"),
        PageKind("privacy", "Privacy notice"),
        PageKind("cookies", "Cookies"),
        PageKind("help", "Help and contact"),
    )
}

SATISFACTION = (
    ("very-satisfied", "Very satisfied"),
    ("satisfied", "Satisfied"),
    ("neither", "Neither satisfied nor dissatisfied"),
    ("dissatisfied", "Dissatisfied"),
    ("very-dissatisfied", "Very dissatisfied"),
)
SATISFACTION_WORDS = dict(SATISFACTION)


@dataclass(frozen=True)
class InfoPage:
    """A page as shown: its wording (the officer's, or the shipped one) and when it last changed."""

    kind: PageKind
    text: str
    html: Markup
    updated_at: datetime | None  # None while the shipped wording is shown
    updated_by: str | None


def _kind(slug: str) -> PageKind:
    kind = PAGES.get(slug)
    if kind is None:
        raise NotFound("No such page")
    return kind


def default_text(slug: str) -> str:
    """The wording the service ships with."""
    return (DEFAULTS_DIR / f"{_kind(slug).slug}.txt").read_text(encoding="utf-8")


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:|/)[^)\s]*)\)")


def _fill(text: str, values: dict[str, str]) -> str:
    # Only known names are replaced: any other braces an officer types stay as typed.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _inline(text: str) -> Markup:
    """One line's words, escaped, with its links made real."""
    out = Markup()
    position = 0
    for match in _LINK.finditer(text):
        out += escape(text[position : match.start()])
        out += Markup('<a class="govuk-link" href="{}">{}</a>').format(match.group(2), match.group(1))
        position = match.end()
    return out + escape(text[position:])


def render_text(text: str) -> Markup:
    """Turn the page's plain-text wording into GOV.UK-styled HTML, escaping everything typed."""
    parts: list[Markup] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("### "):
            parts.append(Markup('<h3 class="govuk-heading-s">{}</h3>').format(_inline(lines[0][4:])))
            lines = lines[1:]
        elif lines[0].startswith("## "):
            parts.append(Markup('<h2 class="govuk-heading-m">{}</h2>').format(_inline(lines[0][3:])))
            lines = lines[1:]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = Markup("").join(Markup("<li>{}</li>").format(_inline(line[2:])) for line in lines)
            parts.append(Markup('<ul class="govuk-list govuk-list--bullet">{}</ul>').format(items))
        else:
            parts.append(Markup('<p class="govuk-body">{}</p>').format(_inline(" ".join(lines))))
    return Markup("\n").join(parts)


def get_page(session: Session, slug: str, *, council: str, service: str) -> InfoPage:
    """The page to show, with its placeholders filled in."""
    kind = _kind(slug)
    stored = session.scalars(
        select(PageText).options(selectinload(PageText.updated_by)).where(PageText.slug == kind.slug)
    ).first()
    text = stored.body if stored is not None else default_text(kind.slug)
    values = {"council": council, "service": service, **RETENTION.placeholders()}
    return InfoPage(
        kind=kind,
        text=text,
        html=render_text(_fill(text, values)),
        updated_at=stored.updated_at if stored is not None else None,
        updated_by=stored.updated_by.name if stored is not None and stored.updated_by is not None else None,
    )


def save_page(session: Session, actor: User | None, slug: str, text: str | None) -> PageText | None:
    """An officer replaces a page's wording; empty text puts the shipped wording back.

    Raises:
        ValidationFailed: when the wording is too long.
    """
    officer = require_role(actor, Role.OFFICER)
    kind = _kind(slug)
    body = (text or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_PAGE_CHARS:
        raise ValidationFailed({"body": f"The page must be {MAX_PAGE_CHARS:,} characters or fewer"})
    stored = session.get(PageText, kind.slug)
    before = {"body": stored.body} if stored is not None else None
    if not body or body == default_text(kind.slug).strip():
        if stored is not None:
            session.delete(stored)
        record(session, officer, "page.reset", "page", kind.slug, before, None)
        session.flush()
        return None
    if stored is None:
        stored = PageText(slug=kind.slug, body=body)
        session.add(stored)
    stored.body = body
    stored.updated_by_id = officer.id
    stored.updated_at = utcnow()
    record(session, officer, "page.change", "page", kind.slug, before, {"body": body})
    session.flush()
    return stored


def send_feedback(session: Session, satisfaction: str | None, comments: str | None, page: str | None) -> Feedback:
    """Store what someone thought of the service.

    Raises:
        ValidationFailed: when neither a rating nor a comment was given, or either is wrong.
    """
    words = (comments or "").strip()
    rating = (satisfaction or "").strip() or None
    fields: dict[str, str] = {}
    if rating is not None and rating not in SATISFACTION_WORDS:
        fields["satisfaction"] = "Select how you feel about the service"
    if len(words) > MAX_FEEDBACK_CHARS:
        fields["comments"] = f"Your feedback must be {MAX_FEEDBACK_CHARS:,} characters or fewer"
    if rating is None and not words:
        fields["satisfaction"] = "Select how you feel about the service, or tell us how we could improve it"
    if fields:
        raise ValidationFailed(fields)
    # Only an address on this site is kept, never a query string (it could hold search words).
    where = (page or "").split("?")[0][:300] or None
    if where is not None and not where.startswith("/"):
        where = None
    feedback = Feedback(satisfaction=rating, comments=words, page=where)
    session.add(feedback)
    session.flush()
    return feedback


def list_feedback(session: Session, actor: User | None, page: int, per_page: int) -> Page[Feedback]:
    """Feedback for officers, newest first."""
    require_role(actor, Role.OFFICER)
    return paginate(session, select(Feedback).order_by(Feedback.id.desc()), page, per_page)
