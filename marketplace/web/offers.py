"""Pages for offers: browse, detail, post, edit, pause, resume and withdraw."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from marketplace.clock import council_today
from marketplace.models import Role
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.services import offers as offers_service
from marketplace.services import suggestions as suggestions_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import is_owner
from marketplace.services.pledges import offer_remaining
from marketplace.services.reference import reference_lists
from marketplace.web.forms import ConfirmForm, OfferForm, error_list, show_errors
from marketplace.web.listing_pages import PER_PAGE, pagination, read_browse_args
from marketplace.web.suggestions import SUGGESTIONS_SHOWN, suggested

bp = Blueprint("offers", __name__, url_prefix="/offers")

_ACTIONS = {
    "pause": ("Pause", "Community groups will not see this offer until you resume it.", False),
    "resume": ("Resume", "Community groups will see this offer again.", False),
    "withdraw": ("Withdraw", "Community groups will no longer see this offer. This cannot be undone.", True),
}
_DONE = {"pause": "paused", "resume": "resumed", "withdraw": "withdrawn"}


@bp.get("")
def browse() -> str:
    """Open offers, with filters and paging."""
    session = db_session()
    lists = reference_lists(session)
    filters, page_number, errors = read_browse_args(lists, offers_service.OFFER_STATUSES)
    page = offers_service.list_offers(session, current_actor(), filters, page_number, PER_PAGE)
    return render_template(
        "offers/browse.html",
        page=page,
        filters=filters,
        lists=lists,
        statuses=sorted(offers_service.OFFER_STATUSES),
        errors=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        pagination=pagination(page, "offers.browse"),
    )


@bp.get("/<int:offer_id>")
def detail(offer_id: int) -> str:
    """One offer."""
    actor = current_actor()
    session = db_session()
    offer = offers_service.get_offer(session, actor, offer_id)
    owner = is_owner(actor, offer)
    suggestions = suggested(
        lambda: suggestions_service.needs_for_offer(
            session, app_state().suggestions, actor, offer.id, SUGGESTIONS_SHOWN, council_today()
        ),
        show=owner or (actor is not None and actor.is_officer),
    )
    return render_template(
        "offers/detail.html",
        offer=offer,
        owner=owner,
        suggestions=suggestions,
        remaining=offer_remaining(session, offer),
    )


def _fill(form: OfferForm, offer: offers_service.Offer) -> None:
    form.title.data = offer.title
    form.description.data = offer.description
    form.category.data = offer.category_code
    form.districts.data = [d.code for d in offer.districts]
    form.outcomes.data = [o.code for o in offer.outcomes]
    form.available_until.data = offer.available_until
    form.measure.data = offer.measure_code or ""
    form.capacity.data = f"{offer.capacity.normalize():f}" if offer.capacity is not None else ""


@bp.route("/new", methods=["GET", "POST"])
def new() -> object:
    """Post an offer."""
    session = db_session()
    require_role(current_actor(), Role.SUPPLIER)
    form = OfferForm().set_choices(reference_lists(session))
    if form.validate_on_submit():
        try:
            offer = offers_service.post_offer(session, current_actor(), form.service_data(), council_today())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash("Your offer has been posted.", "success")
            return redirect(url_for("offers.detail", offer_id=offer.id))
    return render_template("offers/form.html", form=form, errors=error_list(form), offer=None)


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
def edit(offer_id: int) -> object:
    """Change an offer."""
    session, actor = db_session(), current_actor()
    offer = offers_service.get_own_offer(session, actor, offer_id)
    form = OfferForm().set_choices(reference_lists(session))
    if form.validate_on_submit():
        try:
            offers_service.edit_offer(session, actor, offer_id, form.service_data(), council_today())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash("Your changes have been saved.", "success")
            return redirect(url_for("offers.detail", offer_id=offer.id))
    elif not form.is_submitted():
        _fill(form, offer)
    return render_template("offers/form.html", form=form, errors=error_list(form), offer=offer)


@bp.route("/<int:offer_id>/<any(pause, resume, withdraw):action>", methods=["GET", "POST"])
def change_status(offer_id: int, action: str) -> object:
    """Ask, then pause, resume or withdraw an offer."""
    session, actor = db_session(), current_actor()
    offer = offers_service.get_own_offer(session, actor, offer_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        offers_service.change_offer_status(session, actor, offer_id, action)
        commit()
        flash(f"Your offer has been {_DONE[action]}.", "success")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    verb, body, warning = _ACTIONS[action]
    return render_template(
        "confirm.html",
        form=form,
        title=f"{verb} “{offer.title}”?",
        body=body,
        button=f"{verb} offer",
        warning=warning,
        back=url_for("offers.detail", offer_id=offer.id),
    )
