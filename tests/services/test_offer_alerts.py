"""Groups' alerts: an e-mail of new offers that fit their open needs, daily or weekly, with the real model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.models import Notification
from marketplace.services.digest import send_offer_alerts, set_offer_alerts
from marketplace.services.errors import Forbidden, ValidationFailed
from marketplace.suggestions.engine import SuggestionEngine
from tests.services.test_digest import LUNCH_CLUB, MINIBUS_OFFER, PAINT

BASE_URL = "https://svm.example.gov.uk"


def alerts_to(session, user):
    return list(
        session.scalars(
            select(Notification).where(Notification.to_email == user.email, Notification.subject.like("%fit%"))
        )
    )


def test_a_group_hears_of_a_fitting_new_offer_weekly(session, session_factory, make_user, make_need, make_offer, today):
    group = make_user("community", organisation="Melton Lunch Club")
    quiet = make_user("community", organisation="Melton Lunch Club")
    need = make_need(by=group, **LUNCH_CLUB)
    set_offer_alerts(session, group, "weekly")
    with pytest.raises(ValidationFailed):
        set_offer_alerts(session, group, "hourly")
    with pytest.raises(Forbidden):
        set_offer_alerts(session, make_user("supplier"), "daily")
    minibus = make_offer(by=make_user("supplier", organisation="Melton Coaches Ltd"), **MINIBUS_OFFER)
    make_offer(by=make_user("supplier"), title=PAINT["title"], description=PAINT["description"], category="goods",
               districts=["Melton"], measure="goods-donated")  # fmt: skip
    session.commit()
    matcher = SuggestionEngine(session_factory)

    now = utcnow()
    assert send_offer_alerts(session, matcher, base_url=BASE_URL, now=now, today=today) == 1
    session.commit()
    (alert,) = alerts_to(session, group)
    assert alert.subject == f"A new offer fits your needs: “{minibus.title}”"
    assert f"{BASE_URL}/offers/{minibus.id}/ask?need_id={need.id}" in alert.body
    assert "Paint" not in alert.body
    assert alerts_to(session, quiet) == [], "only those who asked for alerts get them"

    # Weekly: nothing more within the week, and an offer is never sent twice.
    assert send_offer_alerts(session, matcher, base_url=BASE_URL, now=now + timedelta(days=2), today=today) == 0
    assert send_offer_alerts(session, matcher, base_url=BASE_URL, now=now + timedelta(days=8), today=today) == 0
