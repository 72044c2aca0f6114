"""The officer's area: dashboard and organisation verification."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from marketplace.models import Role, Verification
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import organisations as organisations_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.web.forms import ConfirmForm, RejectForm, error_list, show_errors

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.get("")
def dashboard() -> str:
    """What needs an officer's attention."""
    require_role(current_actor(), Role.OFFICER)
    return render_template("officer/dashboard.html", waiting=organisations_service.count_waiting(db_session()))


@bp.get("/organisations")
def organisations() -> str:
    """Organisations waiting for verification, with verify and reject."""
    session, actor = db_session(), current_actor()
    waiting = organisations_service.list_organisations(session, actor, verification=Verification.PENDING, per_page=100)
    rejected = organisations_service.list_organisations(
        session, actor, verification=Verification.REJECTED, per_page=100
    )
    return render_template("officer/organisations.html", waiting=waiting, rejected=rejected, form=ConfirmForm())


@bp.post("/organisations/<int:organisation_id>/verify")
def verify(organisation_id: int) -> object:
    """Verify an organisation."""
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
