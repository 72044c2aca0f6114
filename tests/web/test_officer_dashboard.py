"""The officer's dashboard: each kind of waiting work with its number, and a total that is their sum."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from marketplace.db import utcnow
from marketplace.models import Pledge
from marketplace.services import pledges
from marketplace.services.tasks import STUCK_AFTER


def _rows(html: str) -> dict[str, str]:
    """The dashboard's "waiting" table: each row's heading and its number."""
    table = html[html.index('id="waiting-by-kind"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r'<th scope="row"[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>', table, re.S)
    return {re.sub(r"<[^>]+>", "", head).strip(): number.strip() for head, number in cells}


def test_every_waiting_figure_is_shown_and_the_total_is_their_sum(browser, session, make_user, make_need, officer):
    make_user("community", verified=False)  # an organisation to verify
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group, category="goods")

    def pledge(quantity: int) -> Pledge:
        return pledges.propose_pledge(
            session, supplier, {"need_id": need.id, "quantity": quantity, "measure": "goods-donated"}
        )

    to_approve = pledge(1)
    pledges.accept_pledge(session, group, to_approve.id)
    delivered = pledge(2)
    pledges.accept_pledge(session, group, delivered.id)
    pledges.approve_pledge(session, officer, delivered.id)
    pledges.deliver_pledge(session, supplier, delivered.id, "Two boxes of books", None, True)  # evidence to check
    stuck = pledge(3)
    session.execute(
        update(Pledge).where(Pledge.id == stuck.id).values(updated_at=utcnow() - STUCK_AFTER - timedelta(days=1))
    )
    session.commit()

    browser.sign_in(officer)
    html = browser.client.get("/officer").get_data(as_text=True)

    rows = _rows(html)
    assert rows == {
        "Organisations to verify": "1",
        "Pledges to approve": "1",
        "Delivery evidence to check": "1",
        f"Pledges unchanged for over {STUCK_AFTER.days} days, to chase": "1",
        "Total": "4",
    }
    assert "Waiting for you: 4" in html
    assert "Your account (4 waiting)" in html  # the navigation's figure is the same total
    # Each figure links to the rows behind it.
    for where in ('"/officer/organisations"', '"/officer/pledges"', '"/officer/pledges#evidence"',
                  '"/officer/pledges/all?status=stuck"'):  # fmt: skip
        assert f"href={where}" in html
