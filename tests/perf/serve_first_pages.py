"""The app process of ``test_worker_start``: first pages served while the e-mail thread drains.

Run as a script with the app's ``MARKETPLACE_*`` settings in the environment: it creates the
app as a server does (``create_app()`` from the environment, its e-mail and search threads
running), has ``threads`` clients ask for the need list for ``seconds``, then waits for the outbox to empty and prints what the clients got as JSON.
It is a process of its own so that a crash kills it, not the test run.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from marketplace.app import create_app
from marketplace.db import write_intent
from marketplace.models import Notification

# Long enough for a slow, shared machine to send a few hundred e-mails to the log.
DRAIN_WAIT_SECONDS = 60.0


def main(seconds: float, threads: int) -> None:
    """Serve the pages, wait for the e-mails, print ``{"answers": {status: count}, "unsent": n}``."""
    app = create_app()
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        browser = app.test_client()
        while time.monotonic() < stop_at:
            status = browser.get("/needs").status_code
            with lock:
                answers[status] += 1

    clients = [threading.Thread(target=client, name=f"client-{n}") for n in range(threads)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()

    session_factory = app.extensions["marketplace"].session_factory
    unsent_query = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.sent_at.is_(None), Notification.summary.is_(False))
    )
    give_up_at = time.monotonic() + DRAIN_WAIT_SECONDS
    while True:
        with write_intent(False), session_factory() as session:
            unsent = session.scalar(unsent_query)
        if not unsent or time.monotonic() > give_up_at:
            break
        time.sleep(0.2)
    app.extensions["marketplace"].mail.stop()
    print(json.dumps({"answers": answers, "unsent": unsent}))


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]))
