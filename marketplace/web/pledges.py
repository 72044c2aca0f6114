"""Pages for pledges: make one, see one, and move it along its lifecycle."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from marketplace.downloads import evidence_response, read_upload
from marketplace.models import Measure, Offer, OrganisationKind, Pledge, Role, User
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.services import contracts as contracts_service
from marketplace.services import evidence as evidence_service
from marketplace.services import messages as messages_service
from marketplace.services import offer_requests
from marketplace.services import pledges as pledges_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import InvalidTransition, ValidationFailed
from marketplace.services.listings import is_owner, is_visible
from marketplace.services.measures import list_measures, measure_fits
from marketplace.services.needs import get_need
from marketplace.services.organisations import list_organisations_of_kind
from marketplace.web.forms import (
    AcceptEvidenceForm,
    ApproveForm,
    ConfirmDeliveryForm,
    ConfirmForm,
    DeliverForm,
    EvidenceForm,
    MessageForm,
    PledgeForm,
    ReasonForm,
    error_list,
    show_errors,
)
from marketplace.web.listing_pages import page_arg, pagination
from marketplace.web.people import send_message

bp = Blueprint("pledges", __name__)

_DONE = {
    "accept": "You accepted the pledge. The council will now check it.",
    "approve": "The pledge is approved and counts as a commitment.",
    "confirm": "Thank you. The pledge is confirmed as delivered.",
    "decline": "You declined the pledge.",
    "reject": "The pledge was rejected. The supplier has been told why.",
    "cancel": "Your pledge is cancelled.",
    "deliver": "Your delivery and its evidence have gone to the council to check.",
    "request-evidence": "The supplier has been asked for more evidence.",
    "accept-evidence": "The evidence is accepted. The group has been asked to confirm delivery.",
    "dispute": "The council has been told. An officer will look into it.",
}
_SIMPLE = {
    "accept": pledges_service.accept_pledge,
}
_WITH_REASON = {
    "decline": (pledges_service.decline_pledge, "Decline this pledge?", "Decline pledge", False),
    "reject": (pledges_service.reject_pledge, "Reject this pledge?", "Reject pledge", True),
    "cancel": (pledges_service.cancel_pledge, "Cancel your pledge?", "Cancel pledge", False),
    "request-evidence": (pledges_service.request_evidence, "Ask for more evidence", "Ask for more evidence", True),
    "dispute": (
        pledges_service.dispute_pledge,
        "Tell the council about a problem with this delivery",
        "Tell the council",
        True,
    ),
}
_REASON_HINTS = {
    "request-evidence": "Say what is missing. The supplier will see this",
    "dispute": "Say what did not happen or what the problem is. The council and the supplier will see this",
}


def _measure_label(measure: Measure) -> str:
    return f"{measure.name} ({measure.unit})"


def _fill_choices(form: PledgeForm, supplier_id: int | None, *, on_behalf: bool) -> dict[str, Measure]:
    """Fill the form's lists; returns the measure of each offer that has one, by the offer's id as the form sends it."""
    session = db_session()
    measures = list_measures(session, active_only=True)
    form.measure.choices = [SelectChoice("", "Select a measure")] + [
        SelectChoice(m.code, _measure_label(m)) for m in measures
    ]
    offers, contracts = pledges_service.pledge_sources(session, supplier_id) if supplier_id else ([], [])
    counted_in = {str(o.id): o.measure for o in offers if o.measure is not None}
    form.offer_id.choices = [SelectChoice("", "Not from an offer")] + [
        SelectChoice(
            str(o.id), f"{o.title}, counted in {_measure_label(o.measure)}" if o.measure is not None else o.title
        )
        for o in offers
    ]
    form.contract_id.choices = [SelectChoice("", "No contract")] + [
        SelectChoice(str(c.id), f"{c.reference} – {c.title}") for c in contracts
    ]
    if on_behalf:
        suppliers = list_organisations_of_kind(session, OrganisationKind.SUPPLIER)
        form.supplier_id.choices = [SelectChoice("", "Select a supplier")] + [
            SelectChoice(str(o.id), o.name) for o in suppliers
        ]
    return counted_in


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
    counted_in = _fill_choices(form, supplier_id, on_behalf=on_behalf)
    if not form.is_submitted() and request.args.get("offer_id", "").isdigit():
        form.offer_id.data = request.args["offer_id"]
    fits = True
    status = 200
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
        data = form.service_data(need.id, on_behalf=on_behalf, request_id=asked.id if asked else None)
        measure_code = _pledged_measure(session, data)
        fits = measure_fits(need.category.code, measure_code)
        try:
            if not fits and "yes" not in (form.measure_checked.data or []):
                # Ask again: first aid training valued as "£ of market rent" is not social value.
                raise ValidationFailed(
                    {"measure": f"This measure does not usually fit a {need.category.name.lower()} need. "
                     "Choose a measure that fits, or tick the box to say you have checked it"}
                )  # fmt: skip
            pledge = pledges_service.propose_pledge(session, actor, data)
        except ValidationFailed as error:
            show_errors(form, error)
            if str(form.offer_id.data or "") in counted_in and form.measure.errors:
                # The measure is not on the page while a measured offer is chosen: its offer is the problem.
                form.offer_id.errors, form.measure.errors = form.measure.errors, []
        except InvalidTransition as error:
            # A pledge the need or offer cannot take now (a repeat, more than is left): the form
            # stays as sent, with the reason in its error summary.
            form.form_errors.append(error.message)
            status = 409
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
        ask_measure_check=not fits,
        asked=asked,
        counted_in=counted_in,
        offer_measure=counted_in.get(str(form.offer_id.data or "")),
    ), status


def _offer_title(actor: User | None, pledge: Pledge) -> str:
    """The pledge's offer as the viewer may see it: a hidden offer's title stays hidden."""
    if pledge.offer is None:
        return "Not from an offer"
    if not is_visible(actor, pledge.offer):
        return "An offer that is not shown publicly"
    return pledge.offer.title


def _pledged_measure(session, data: dict[str, object]) -> str | None:
    """The measure a pledge would be counted in: its offer's, else the one chosen."""
    offer_id = data.get("offer_id")
    if isinstance(offer_id, int):
        offer = session.get(Offer, offer_id)
        if offer is not None and offer.measure_code:
            return offer.measure_code
    measure = data.get("measure")
    return measure if isinstance(measure, str) else None


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
    # How a contract stands against its target is between the council and its supplier.
    sees_progress = actor.is_officer or actor.organisation_id == pledge.supplier_id
    progress = (
        contracts_service.progress(session, [pledge.contract])[pledge.contract.id]
        if pledge.contract and sees_progress
        else None
    )
    is_group_member = actor.organisation_id == pledge.need.organisation_id
    return render_template(
        "pledges/detail.html",
        pledge=pledge,
        form=ConfirmForm(),
        is_group=actor.role is Role.COMMUNITY and is_owner(actor, pledge.need),
        is_supplier=actor.role is Role.SUPPLIER and actor.organisation_id == pledge.supplier_id,
        accept_form=AcceptEvidenceForm(),
        confirm_form=ConfirmDeliveryForm(),
        measure_fits=measure_fits(pledge.need.category_code, pledge.measure_code),
        contacts=pledges_service.contacts_for(session, actor, pledge),
        contacts_of=pledge.supplier.name if is_group_member else pledge.need.organisation.name,
        offer_title=_offer_title(actor, pledge),
        progress=progress,
        messages=messages_service.list_messages(session, about),
        message_form=message_form,
        message_action=url_for("pledges.post_message", pledge_id=pledge.id),
        errors=error_list(message_form),
    ), status


@bp.post("/pledges/<int:pledge_id>/<any(accept):action>")
def simple_action(pledge_id: int, action: str) -> object:
    """Accept, from a button on the pledge page."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _SIMPLE[action](db_session(), current_actor(), pledge_id)
    commit()
    flash(_DONE[action], "success")
    return redirect(url_for("pledges.detail", pledge_id=pledge_id))


@bp.route(
    "/pledges/<int:pledge_id>/<any(decline, reject, cancel, 'request-evidence', dispute):action>",
    methods=["GET", "POST"],
)
def with_reason(pledge_id: int, action: str) -> object:
    """Decline, reject, cancel, ask for more evidence or dispute, with a reason (required for the last three)."""
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
        hint=_REASON_HINTS.get(action),
        errors=error_list(form),
    )


@bp.route("/pledges/<int:pledge_id>/approve", methods=["GET", "POST"])
def approve(pledge_id: int) -> object:
    """An officer approves an accepted pledge, fixing the date it is to be delivered by."""
    session, actor = db_session(), current_actor()
    _, pledge = pledges_service.pledge_for_step(session, actor, pledge_id, "approve")
    form = ApproveForm()
    if not form.is_submitted():
        form.deliver_by.data = pledge.deliver_by or pledge.need.needed_by
    if form.validate_on_submit():
        try:
            pledges_service.approve_pledge(session, actor, pledge_id, form.deliver_by.iso_value())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(_DONE["approve"], "success")
            return redirect(url_for("pledges.detail", pledge_id=pledge_id))
    return render_template(
        "pledges/approve.html",
        form=form,
        pledge=pledge,
        estimated=pledges_service.estimated_value(pledge),
        measure_fits=measure_fits(pledge.need.category_code, pledge.measure_code),
        errors=error_list(form),
    )


@bp.post("/pledges/<int:pledge_id>/accept-evidence")
def accept_evidence(pledge_id: int) -> object:
    """An officer accepts the delivery evidence, deciding any reported increase."""
    session, actor = db_session(), current_actor()
    form = AcceptEvidenceForm()
    if not form.validate_on_submit():
        abort(400)
    choice = {"yes": True, "no": False}.get(form.accept_change.data or "")
    try:
        pledges_service.accept_evidence(session, actor, pledge_id, choice)
    except ValidationFailed as error:
        flash(next(iter(error.fields.values()), error.message), "error")
        return redirect(url_for("pledges.detail", pledge_id=pledge_id))
    commit()
    flash(_DONE["accept-evidence"], "success")
    return redirect(url_for("pledges.detail", pledge_id=pledge_id))


@bp.post("/pledges/<int:pledge_id>/confirm")
def confirm(pledge_id: int) -> object:
    """The group confirms delivery, saying whether its need is now met."""
    form = ConfirmDeliveryForm()
    if not form.validate_on_submit():
        abort(400)
    pledges_service.confirm_pledge(db_session(), current_actor(), pledge_id, form.need_met.data == "yes")
    commit()
    flash(_DONE["confirm"] + (" Your need is now shown as met." if form.need_met.data == "yes" else ""), "success")
    return redirect(url_for("pledges.detail", pledge_id=pledge_id))


@bp.route("/pledges/<int:pledge_id>/evidence", methods=["GET", "POST"])
def evidence(pledge_id: int) -> object:
    """The pledge's evidence files; its supplier adds photos, PDFs and documents here."""
    session, actor = db_session(), current_actor()
    pledge = pledges_service.get_pledge(session, actor, pledge_id)
    is_supplier = actor.role is Role.SUPPLIER and actor.organisation_id == pledge.supplier_id
    form = EvidenceForm()
    errors: list[dict[str, str]] = []
    if form.is_submitted():
        pledges_service.pledge_for_step(session, actor, pledge_id, "deliver")
        if not form.validate_on_submit():
            abort(400)
        sent = [read_upload(f) for f in request.files.getlist("file") if f.filename]
        try:
            if not sent:
                raise ValidationFailed({"file": "Choose one or more files to add"})
            evidence_service.add_evidence_files(session, actor, pledge_id, sent, app_state().config.evidence_path)
        except ValidationFailed as error:
            errors = [{"text": message, "href": "#file"} for message in error.fields.values()]
        else:
            commit()
            flash(f"{len(sent)} file{'s' if len(sent) != 1 else ''} added.", "success")
            return redirect(url_for("pledges.evidence", pledge_id=pledge_id))
    return render_template(
        "pledges/evidence.html",
        form=form,
        pledge=pledge,
        is_supplier=is_supplier,
        can_add=is_supplier
        and pledge.status.value in ("approved", "delivered")
        and pledge.evidence_review != "accepted",
        errors=errors,
        accepted=evidence_service.ACCEPTED_WORDS,
    )


@bp.get("/evidence/<int:evidence_id>")
def download_evidence(evidence_id: int) -> object:
    """One evidence file, as a download, to the pledge's parties and officers only."""
    return evidence_response(evidence_service.get_evidence(db_session(), current_actor(), evidence_id))


@bp.route("/pledges/<int:pledge_id>/deliver", methods=["GET", "POST"])
def deliver(pledge_id: int) -> object:
    """The supplier marks its pledge delivered, with evidence."""
    session, actor = db_session(), current_actor()
    _, pledge = pledges_service.pledge_for_step(session, actor, pledge_id, "deliver")
    form = DeliverForm()
    if form.validate_on_submit():
        try:
            pledges_service.deliver_pledge(
                session,
                actor,
                pledge_id,
                form.evidence.data or "",
                form.actual_quantity.data,
                "yes" in (form.declaration.data or []),
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(_DONE["deliver"], "success")
            return redirect(url_for("pledges.detail", pledge_id=pledge_id))
    elif not form.is_submitted() and pledge.evidence:
        form.evidence.data = pledge.evidence  # sending it again: start from what was said
    return render_template("pledges/deliver.html", form=form, pledge=pledge, errors=error_list(form))


@bp.get("/account/pledges")
def mine() -> str:
    """Pledges a supplier made, or a group received."""
    actor = require_role(current_actor(), Role.SUPPLIER, Role.COMMUNITY)
    page_number, errors = page_arg()
    page = pledges_service.list_pledges(db_session(), actor, pledges_service.PledgeFilters(), page_number, 20)
    return render_template("pledges/mine.html", page=page, pagination=pagination(page, "pledges.mine"), errors=errors)
