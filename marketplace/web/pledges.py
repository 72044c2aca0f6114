"""Pages for pledges: make one, see one, and move it along its lifecycle."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from marketplace.models import OrganisationKind, Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import contracts as contracts_service
from marketplace.services import messages as messages_service
from marketplace.services import offer_requests
from marketplace.services import pledges as pledges_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import is_owner
from marketplace.services.measures import list_measures
from marketplace.services.needs import get_need
from marketplace.services.organisations import list_organisations_of_kind
from marketplace.services.paging import check_paging
from marketplace.web.forms import (
    ConfirmForm,
    DeliverForm,
    MessageForm,
    PledgeForm,
    ReasonForm,
    error_list,
    show_errors,
)
from marketplace.web.listing_pages import pagination
from marketplace.web.people import send_message

bp = Blueprint("pledges", __name__)

_DONE = {
    "accept": "You accepted the pledge. The council will now check it.",
    "approve": "The pledge is approved and counts as a commitment.",
    "confirm": "Thank you. The pledge is confirmed as delivered.",
    "decline": "You declined the pledge.",
    "reject": "The pledge was rejected. The supplier has been told why.",
    "cancel": "Your pledge is cancelled.",
    "deliver": "The group has been asked to confirm delivery.",
}
_SIMPLE = {
    "accept": pledges_service.accept_pledge,
    "approve": pledges_service.approve_pledge,
    "confirm": pledges_service.confirm_pledge,
}
_WITH_REASON = {
    "decline": (pledges_service.decline_pledge, "Decline this pledge?", "Decline pledge", False),
    "reject": (pledges_service.reject_pledge, "Reject this pledge?", "Reject pledge", True),
    "cancel": (pledges_service.cancel_pledge, "Cancel your pledge?", "Cancel pledge", False),
}


def _fill_choices(form: PledgeForm, supplier_id: int | None, *, on_behalf: bool) -> None:
    session = db_session()
    measures = list_measures(session, active_only=True)
    form.measure.choices = [SelectChoice("", "Select a measure")] + [
        SelectChoice(m.code, f"{m.name} ({m.unit})") for m in measures
    ]
    offers, contracts = pledges_service.pledge_sources(session, supplier_id) if supplier_id else ([], [])
    form.offer_id.choices = [SelectChoice("", "Not from an offer")] + [SelectChoice(str(o.id), o.title) for o in offers]
    form.contract_id.choices = [SelectChoice("", "No contract")] + [
        SelectChoice(str(c.id), f"{c.reference} – {c.title}") for c in contracts
    ]
    if on_behalf:
        suppliers = list_organisations_of_kind(session, OrganisationKind.SUPPLIER)
        form.supplier_id.choices = [SelectChoice("", "Select a supplier")] + [
            SelectChoice(str(o.id), o.name) for o in suppliers
        ]


@bp.route("/needs/<int:need_id>/pledge", methods=["GET", "POST"])
def new(need_id: int) -> object:
    """Pledge against a need (a supplier, or an officer recording one for a supplier)."""
    session = db_session()
    actor = require_role(current_actor(), Role.SUPPLIER, Role.OFFICER)
    need = get_need(session, actor, need_id)
    on_behalf = actor.is_officer
    form = PledgeForm()
    chosen_supplier = request.form.get("supplier_id") if on_behalf else actor.organisation_id
    supplier_id = int(chosen_supplier) if chosen_supplier and str(chosen_supplier).isdigit() else None
    _fill_choices(form, supplier_id, on_behalf=on_behalf)
    if not form.is_submitted() and request.args.get("offer_id", "").isdigit():
        form.offer_id.data = request.args["offer_id"]
    # Turning a group's request into a pledge: the offer and the message start from the request.
    raw_request = request.values.get("request_id", "")
    asked = None
    if raw_request.isdigit() and len(raw_request) < 10:
        _, asked = offer_requests.supplier_request(session, actor, int(raw_request), "pledge from")
        if asked.need_id != need.id:
            return redirect(url_for("pledges.new", need_id=asked.need_id, request_id=asked.id))
        if not form.is_submitted():
            form.offer_id.data = str(asked.offer_id)
    if form.validate_on_submit():
        try:
            pledge = pledges_service.propose_pledge(
                session,
                actor,
                form.service_data(need.id, on_behalf=on_behalf, request_id=asked.id if asked else None),
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"Your pledge has been sent to {need.organisation.name}.", "success")
            return redirect(url_for("pledges.detail", pledge_id=pledge.id))
    measures = list_measures(session, active_only=True)
    return render_template(
        "pledges/form.html",
        form=form,
        need=need,
        errors=error_list(form),
        on_behalf=on_behalf,
        measures=measures,
        asked=asked,
    )


@bp.get("/pledges/<int:pledge_id>")
def detail(pledge_id: int) -> object:
    """One pledge: what, who, its value and its history, with the actions the viewer may take."""
    return _detail_page(pledge_id, MessageForm(formdata=None))


@bp.post("/pledges/<int:pledge_id>/messages")
def post_message(pledge_id: int) -> object:
    """Write a message on a pledge."""
    about = messages_service.conversation(db_session(), current_actor(), pledge_id=pledge_id)
    sent, form = send_message(about)
    if sent:
        return redirect(url_for("pledges.detail", pledge_id=pledge_id, _anchor="messages"))
    return _detail_page(pledge_id, form, 422)


def _detail_page(pledge_id: int, message_form: MessageForm, status: int = 200) -> tuple[str, int]:
    session = db_session()
    actor = current_actor()
    pledge = pledges_service.get_pledge(session, actor, pledge_id)
    about = messages_service.Conversation(pledge, None)
    progress = contracts_service.progress(session, [pledge.contract])[pledge.contract.id] if pledge.contract else None
    is_group_member = actor.organisation_id == pledge.need.organisation_id
    return render_template(
        "pledges/detail.html",
        pledge=pledge,
        form=ConfirmForm(),
        is_group=actor.role is Role.COMMUNITY and is_owner(actor, pledge.need),
        is_supplier=actor.role is Role.SUPPLIER and actor.organisation_id == pledge.supplier_id,
        contacts=pledges_service.contacts_for(session, actor, pledge),
        contacts_of=pledge.supplier.name if is_group_member else pledge.need.organisation.name,
        progress=progress,
        messages=messages_service.list_messages(session, about),
        message_form=message_form,
        message_action=url_for("pledges.post_message", pledge_id=pledge.id),
        errors=error_list(message_form),
    ), status


@bp.post("/pledges/<int:pledge_id>/<any(accept, approve, confirm):action>")
def simple_action(pledge_id: int, action: str) -> object:
    """Accept, approve or confirm, from a button on the pledge page."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _SIMPLE[action](db_session(), current_actor(), pledge_id)
    commit()
    flash(_DONE[action], "success")
    return redirect(url_for("pledges.detail", pledge_id=pledge_id))


@bp.route("/pledges/<int:pledge_id>/<any(decline, reject, cancel):action>", methods=["GET", "POST"])
def with_reason(pledge_id: int, action: str) -> object:
    """Decline, reject or cancel, with a reason (required to reject)."""
    session, actor = db_session(), current_actor()
    # Only the party whose step it is sees the form.
    _, pledge = pledges_service.pledge_for_step(session, actor, pledge_id, action)
    service, title, button, required = _WITH_REASON[action]
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            service(session, actor, pledge_id, form.reason.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(_DONE[action], "success")
            return redirect(url_for("pledges.detail", pledge_id=pledge_id))
    return render_template(
        "pledges/reason.html",
        form=form,
        pledge=pledge,
        title=title,
        button=button,
        required=required,
        errors=error_list(form),
    )


@bp.route("/pledges/<int:pledge_id>/deliver", methods=["GET", "POST"])
def deliver(pledge_id: int) -> object:
    """The supplier marks its pledge delivered, with evidence."""
    session, actor = db_session(), current_actor()
    _, pledge = pledges_service.pledge_for_step(session, actor, pledge_id, "deliver")
    form = DeliverForm()
    if form.validate_on_submit():
        try:
            pledges_service.deliver_pledge(
                session, actor, pledge_id, form.evidence.data or "", form.actual_quantity.data
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(_DONE["deliver"], "success")
            return redirect(url_for("pledges.detail", pledge_id=pledge_id))
    return render_template("pledges/deliver.html", form=form, pledge=pledge, errors=error_list(form))


@bp.get("/account/pledges")
def mine() -> str:
    """Pledges a supplier made, or a group received."""
    actor = require_role(current_actor(), Role.SUPPLIER, Role.COMMUNITY)
    try:
        page_number = check_paging(request.args.get("page"), None)[0]
    except ValidationFailed:
        page_number = 1
    page = pledges_service.list_pledges(db_session(), actor, pledges_service.PledgeFilters(), page_number, 20)
    return render_template("pledges/mine.html", page=page, pagination=pagination(page, "pledges.mine"))
