"""The council's calendar: "today" is the date in the UK, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COUNCIL_ZONE = ZoneInfo("Europe/London")


def council_today() -> date:
    """Today's date in the UK."""
    return datetime.now(COUNCIL_ZONE).date()
