"""Pages for needs: browse, detail, post, edit and withdraw."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from marketplace.clock import council_today
from marketplace.models import Role
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.services import needs as needs_service
from marketplace.services import pledges as pledges_service
from marketplace.services import suggestions as suggestions_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import is_owner
from marketplace.services.reference import reference_lists
from marketplace.web.forms import ConfirmForm, NeedForm, error_list, show_errors
from marketplace.web.listing_pages import PER_PAGE, pagination, read_browse_args
from marketplace.web.suggestions import SUGGESTIONS_SHOWN, suggested

bp = Blueprint("needs", __name__, url_prefix="/needs")


@bp.get("")
def browse() -> str:
    """Open needs, with filters and paging."""
    session = db_session()
    lists = reference_lists(session)
    filters, page_number, errors = read_browse_args(lists, needs_service.NEED_STATUSES)
    page = needs_service.list_needs(session, current_actor(), filters, page_number, PER_PAGE)
    return render_template(
        "needs/browse.html",
        page=page,
        filters=filters,
        lists=lists,
        statuses=sorted(needs_service.NEED_STATUSES),
        errors=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        pagination=pagination(page, "needs.browse"),
    )


@bp.get("/<int:need_id>")
def detail(need_id: int) -> str:
    """One need."""
    actor = current_actor()
    session = db_session()
    need = needs_service.get_need_to_show(session, actor, need_id)
    suggestions = suggested(
        lambda: suggestions_service.offers_for_need(
            session, app_state().suggestions, actor, need.id, SUGGESTIONS_SHOWN, council_today()
        ),
        show=actor is not None,
    )
    pledges = pledges_service.pledges_to_need(session, actor, need, 50)
    return render_template(
        "needs/detail.html",
        need=need,
        owner=is_owner(actor, need),
        form=ConfirmForm(),
        suggestions=suggestions,
        pledges=pledges,
    )


@bp.post("/<int:need_id>/met")
def mark_met(need_id: int) -> object:
    """The group says the need has been met."""
    if ConfirmForm().validate_on_submit():
        needs_service.mark_need_met(db_session(), current_actor(), need_id)
        commit()
        flash("Your need is marked as met. Thank you for letting everyone know.", "success")
    return redirect(url_for("needs.detail", need_id=need_id))


@bp.route("/new", methods=["GET", "POST"])
def new() -> object:
    """Post a need."""
    session = db_session()
    require_role(current_actor(), Role.COMMUNITY)
    form = NeedForm().set_choices(reference_lists(session))
    if form.validate_on_submit():
        try:
            need = needs_service.post_need(session, current_actor(), form.service_data(), council_today())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash("Your need has been posted.", "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    return render_template("needs/form.html", form=form, errors=error_list(form), need=None)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
def edit(need_id: int) -> object:
    """Change a need."""
    session, actor = db_session(), current_actor()
    need = needs_service.get_own_need(session, actor, need_id)
    form = NeedForm().set_choices(reference_lists(session))
    if form.validate_on_submit():
        try:
            needs_service.edit_need(session, actor, need_id, form.service_data(), council_today())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash("Your changes have been saved.", "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    elif not form.is_submitted():
        form.title.data = need.title
        form.description.data = need.description
        form.category.data = need.category_code
        form.district.data = need.district_code
        form.outcomes.data = [o.code for o in need.outcomes]
        form.quantity.data = need.quantity
        form.needed_by.data = need.needed_by
    return render_template("needs/form.html", form=form, errors=error_list(form), need=need)


@bp.route("/<int:need_id>/withdraw", methods=["GET", "POST"])
def withdraw(need_id: int) -> object:
    """Ask, then withdraw a need."""
    session, actor = db_session(), current_actor()
    need = needs_service.get_own_need(session, actor, need_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        needs_service.withdraw_need(session, actor, need_id)
        commit()
        flash("Your need has been withdrawn.", "success")
        return redirect(url_for("account.my_needs"))
    return render_template(
        "confirm.html",
        form=form,
        title=f"Withdraw “{need.title}”?",
        body="Suppliers will no longer see this need. This cannot be undone.",
        button="Withdraw need",
        warning=True,
        back=url_for("needs.detail", need_id=need.id),
    )
