"""The officer's area: dashboard and organisation verification."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from marketplace.clock import council_today
from marketplace.models import OrganisationKind, PledgeStatus, Role, Verification
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import audit as audit_service
from marketplace.services import chasing as chasing_service
from marketplace.services import contracts as contracts_service
from marketplace.services import measures as measures_service
from marketplace.services import needs as needs_service
from marketplace.services import organisations as organisations_service
from marketplace.services import pledges as pledges_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.measures import measure_fits
from marketplace.services.organisations import list_organisations_of_kind
from marketplace.services.reference import reference_lists
from marketplace.services.tasks import stuck_since, waiting_by_kind
from marketplace.web.forms import (
    AssistedNeedForm,
    ConfirmForm,
    ContractForm,
    MeasureForm,
    RejectForm,
    error_list,
    show_errors,
)
from marketplace.web.listing_pages import page_arg, pagination

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.get("")
def dashboard() -> str:
    """What needs an officer's attention: checks, approvals and groups nobody has helped yet."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    return render_template(
        "officer/dashboard.html",
        waiting=waiting_by_kind(session, actor),
        unhelped=needs_service.needs_without_pledges(session, actor, council_today(), limit=10),
        chasing=chasing_service.delivery_chasing(session, actor, council_today()),
        form=ConfirmForm(),
    )


@bp.post("/pledges/<int:pledge_id>/remind")
def remind(pledge_id: int) -> object:
    """One click: remind whoever has the pledge's next step."""
    if ConfirmForm().validate_on_submit():
        pledge, who = chasing_service.remind(db_session(), current_actor(), pledge_id, council_today())
        commit()
        flash(f"A reminder about “{pledge.need.title}” was sent to the {who}.", "success")
    return redirect(url_for("officer.dashboard"))


@bp.get("/organisations")
def organisations() -> str:
    """Organisations waiting for verification, with verify and reject."""
    session, actor = db_session(), current_actor()
    waiting = organisations_service.list_organisations(session, actor, verification=Verification.PENDING, per_page=100)
    rejected = organisations_service.list_organisations(
        session, actor, verification=Verification.REJECTED, per_page=100
    )
    return render_template("officer/organisations.html", waiting=waiting, rejected=rejected)


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int) -> str:
    """Everything an officer reads before verifying: who registered, their e-mail, what they posted, registers."""
    profile = organisations_service.organisation_profile(db_session(), current_actor(), organisation_id)
    return render_template("officer/organisation.html", profile=profile, form=ConfirmForm())


@bp.route("/organisations/<int:organisation_id>/verify", methods=["GET", "POST"])
def verify(organisation_id: int) -> object:
    """Ask for confirmation, then verify an organisation."""
    if request.method == "GET":
        require_role(current_actor(), Role.OFFICER)
        organisation = organisations_service.get_organisation(db_session(), organisation_id)
        if organisation.verification == Verification.VERIFIED:
            # A second tab or the back button: there is nothing left to confirm.
            flash(f"{organisation.name} is already verified.", "info")
            return redirect(url_for("officer.organisation", organisation_id=organisation_id))
        return render_template("officer/verify.html", organisation=organisation, form=ConfirmForm())
    if ConfirmForm().validate_on_submit():
        organisation = organisations_service.verify_organisation(db_session(), current_actor(), organisation_id)
        commit()
        flash(f"{organisation.name} is verified. What it posts is now public.", "success")
    return redirect(url_for("officer.organisations"))


@bp.route("/organisations/<int:organisation_id>/reject", methods=["GET", "POST"])
def reject(organisation_id: int) -> object:
    """Ask for a reason, then reject an organisation."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    organisation = organisations_service.get_organisation(session, organisation_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            organisations_service.reject_organisation(session, actor, organisation_id, form.reason.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"{organisation.name} has been rejected.", "success")
            return redirect(url_for("officer.organisations"))
    return render_template("officer/reject.html", form=form, errors=error_list(form), organisation=organisation)


@bp.get("/pledges")
def queue() -> str:
    """Accepted pledges waiting for approval, oldest first, with each contract's progress."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    page = pledges_service.list_pledges(
        session, actor, pledges_service.PledgeFilters(status="accepted"), 1, 100, oldest_first=True
    )
    contracts = [p.contract for p in page.items if p.contract is not None]
    return render_template(
        "officer/queue.html",
        page=page,
        progress=contracts_service.progress(session, contracts),
        form=ConfirmForm(),
        estimate=pledges_service.estimated_value,
        fits=measure_fits,
        reviews=pledges_service.evidence_to_review(session, actor),
    )


@bp.get("/pledges/all")
def all_pledges() -> str:
    """Every pledge, filtered by status or supplier, or only the stuck ones."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    errors = []
    status = request.args.get("status") or None
    statuses = [s.value for s in PledgeStatus]
    if status is not None and status not in (*statuses, "stuck"):
        errors.append({"text": f"Unknown status: {status[:40]}", "href": "#status"})
        status = None
    raw_supplier = request.args.get("supplier_id") or ""
    supplier_id = int(raw_supplier) if raw_supplier.isdigit() and len(raw_supplier) < 10 else None
    if raw_supplier and supplier_id is None:
        errors.append({"text": "Select a supplier from the list", "href": "#supplier_id"})
    page_number, wrong = page_arg()
    errors += wrong
    filters = pledges_service.PledgeFilters(
        status=status if status != "stuck" else None,
        supplier_id=supplier_id,
        unchanged_before=stuck_since() if status == "stuck" else None,
    )
    page = pledges_service.list_pledges(session, actor, filters, page_number, 50)
    return render_template(
        "officer/pledges.html",
        page=page,
        statuses=statuses,
        status=status,
        suppliers=list_organisations_of_kind(session, OrganisationKind.SUPPLIER),
        supplier_id=supplier_id,
        errors=errors,
        pagination=pagination(page, "officer.all_pledges"),
    )


@bp.get("/audit")
def audit() -> str:
    """The audit log, filterable by action and record."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    actions = audit_service.audit_actions(session)
    action = request.args.get("action") or None
    entity = request.args.get("entity_type") or None
    errors = []
    if action is not None and action not in actions:
        errors.append({"text": f"Unknown action: {action[:60]}", "href": "#action"})
        action = None
    if entity is not None and entity not in ENTITY_TYPES:
        errors.append({"text": f"Unknown record type: {entity[:60]}", "href": "#entity_type"})
        entity = None
    page_number, wrong = page_arg()
    errors += wrong
    page = audit_service.list_audit(
        session, actor, action=action, entity_type=entity, entity_id=request.args.get("entity_id") or None,
        page=page_number,
    )  # fmt: skip
    return render_template(
        "officer/audit.html",
        page=page,
        sentences=audit_service.audit_sentences(session, page.items),
        actions=actions,
        entity_types=ENTITY_TYPES,
        action=action,
        entity_type=entity,
        errors=errors,
        pagination=pagination(page, "officer.audit"),
    )


ENTITY_TYPES = ("pledge", "contract", "measure", "organisation", "request")


@bp.route("/needs/new", methods=["GET", "POST"])
def assisted_need() -> object:
    """Post a need on a group's behalf, when it asked by phone or e-mail."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    form = AssistedNeedForm().set_choices(reference_lists(session))
    form.organisation_id.choices = [SelectChoice("", "Select a community group")] + [
        SelectChoice(str(o.id), o.name) for o in list_organisations_of_kind(session, OrganisationKind.COMMUNITY)
    ]
    if form.validate_on_submit():
        data = form.service_data()
        raw = form.organisation_id.data
        data["organisation_id"] = int(raw) if raw and str(raw).isdigit() else None
        try:
            need = needs_service.post_need(session, actor, data, council_today())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"The need has been posted for {need.organisation.name}.", "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    return render_template("officer/assisted_need.html", form=form, errors=error_list(form))


@bp.route("/contracts")
def contracts() -> str:
    """Every contract, with progress against its social value target."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    page = contracts_service.list_contracts(session, actor, per_page=100)
    return render_template(
        "contracts/list.html", page=page, progress=contracts_service.progress(session, page.items), officer=True
    )


def _contract_form(form: ContractForm) -> ContractForm:
    suppliers = list_organisations_of_kind(db_session(), OrganisationKind.SUPPLIER)
    form.supplier_id.choices = [SelectChoice("", "Select a supplier")] + [
        SelectChoice(str(o.id), o.name) for o in suppliers
    ]
    return form


@bp.route("/contracts/new", methods=["GET", "POST"])
def new_contract() -> object:
    """Register a contract."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    form = _contract_form(ContractForm())
    if form.validate_on_submit():
        try:
            contract = contracts_service.create_contract(session, actor, form.service_data())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"Contract {contract.reference} is registered.", "success")
            return redirect(url_for("officer.contracts"))
    return render_template("contracts/form.html", form=form, errors=error_list(form), contract=None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
def edit_contract(contract_id: int) -> object:
    """Change a contract."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    contract = contracts_service.get_contract(session, actor, contract_id)
    form = _contract_form(ContractForm())
    if form.validate_on_submit():
        try:
            contracts_service.update_contract(session, actor, contract_id, form.service_data())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"Contract {contract.reference} is updated.", "success")
            return redirect(url_for("officer.contracts"))
    elif not form.is_submitted():
        form.reference.data, form.title.data = contract.reference, contract.title
        form.supplier_id.data = str(contract.supplier_id)
        form.value.data = f"{contract.value:f}"
        form.start_date.data, form.end_date.data = contract.start_date, contract.end_date
        target = contract.social_value_target
        form.social_value_target.data = f"{target:f}" if target is not None else ""
    return render_template("contracts/form.html", form=form, errors=error_list(form), contract=contract)


@bp.get("/measures")
def measures() -> str:
    """The social value measures and their proxy values."""
    require_role(current_actor(), Role.OFFICER)
    return render_template("officer/measures.html", measures=measures_service.list_measures(db_session()))


def _measure_form(form: MeasureForm) -> MeasureForm:
    form.outcomes.choices = [SelectChoice(o.code, o.name) for o in reference_lists(db_session()).outcomes]
    return form


def _measure_data(form: MeasureForm, *, new: bool) -> dict[str, object]:
    data: dict[str, object] = {
        "name": form.name.data or "",
        "unit": form.unit.data or "",
        "proxy_value": (form.proxy_value.data or "").strip() or None,
        "source": form.source.data or "",
        "outcomes": list(form.outcomes.data or []),
        "active": form.active.data != "no",
    }
    if new:
        data["code"] = (form.code.data or "").strip()
    return data


@bp.route("/measures/new", methods=["GET", "POST"])
def new_measure() -> object:
    """Add a measure."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    form = _measure_form(MeasureForm())
    if form.validate_on_submit():
        try:
            measure = measures_service.create_measure(session, actor, _measure_data(form, new=True))
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"The measure “{measure.name}” is added.", "success")
            return redirect(url_for("officer.measures"))
    elif not form.is_submitted():
        form.active.data = "yes"
    return render_template("officer/measure_form.html", form=form, errors=error_list(form), measure=None)


@bp.route("/measures/<code>/edit", methods=["GET", "POST"])
def edit_measure(code: str) -> object:
    """Change a measure; a new proxy value applies to pledges approved from now on."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    measure = measures_service.get_measure(session, code)
    form = _measure_form(MeasureForm())
    if form.validate_on_submit():
        try:
            measures_service.update_measure(session, actor, code, _measure_data(form, new=False))
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"The measure “{measure.name}” is updated.", "success")
            return redirect(url_for("officer.measures"))
    elif not form.is_submitted():
        form.name.data, form.unit.data, form.source.data = measure.name, measure.unit, measure.source
        form.proxy_value.data = f"{measure.proxy_value:f}" if measure.proxy_value is not None else ""
        form.outcomes.data = [o.code for o in measure.outcomes]
        form.active.data = "yes" if measure.active else "no"
    return render_template("officer/measure_form.html", form=form, errors=error_list(form), measure=measure)
