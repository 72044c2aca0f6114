"""Saved searches: save the search page's query and filters, list them, delete them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from marketplace.models import SavedSearch
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import saved_searches
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.web.forms import ConfirmForm, SavedSearchForm, error_list, show_errors

bp = Blueprint("saved_searches", __name__, url_prefix="/account/saved-searches")

FIELDS = ("q", *saved_searches.FILTERS)


def _listed(searches: list[SavedSearch]) -> list[dict[str, object]]:
    session = db_session()
    return [
        {
            "saved": saved,
            "described": saved_searches.describe(session, saved),
            "href": saved_searches.search_path(saved),
            "frequency": saved_searches.FREQUENCY_LABELS[saved.frequency],
        }
        for saved in searches
    ]


@bp.get("")
def mine() -> str:
    """The person's saved searches, with how often each is e-mailed and a way to delete it."""
    actor = current_actor()
    found = saved_searches.list_saved_searches(db_session(), actor)
    return render_template("account/saved_searches.html", searches=_listed(found), form=ConfirmForm())


@bp.route("/new", methods=["GET", "POST"])
def new() -> object:
    """Save the search just made (its words and filters come from the search page's address)."""
    session, actor = db_session(), current_actor()
    require_role(actor, *saved_searches.ROLES)
    form = SavedSearchForm()
    if not form.is_submitted():
        for name in FIELDS:
            getattr(form, name).data = request.args.get(name, "")
    if form.validate_on_submit():
        try:
            saved = saved_searches.save_search(
                session, actor, {name: getattr(form, name).data for name in (*FIELDS, "frequency")}
            )
        except ValidationFailed as error:
            show_errors(form, error)
            # The words and filters are hidden fields from the search's address: say what is
            # wrong with them at the top, as there is no field on this page to correct.
            for name in FIELDS:
                field = getattr(form, name)
                form.form_errors.extend(field.errors)
                field.errors = []
        else:
            commit()
            words = saved_searches.describe(session, saved).words
            when = "once a day" if saved.frequency == "daily" else "once a week"
            flash(f"Search saved: {words}. We will email you {when} when something new matches it.", "success")
            return redirect(url_for("saved_searches.mine"))
    preview = saved_searches.unsaved(actor, {name: getattr(form, name).data for name in FIELDS})
    status = 422 if form.is_submitted() else 200
    return render_template(
        "account/save_search.html",
        form=form,
        errors=error_list(form),
        described=saved_searches.describe(session, preview),
        back=saved_searches.search_path(preview),
    ), status


@bp.post("/<int:saved_search_id>/delete")
def delete(saved_search_id: int) -> object:
    """Stop a saved search and its e-mails."""
    session, actor = db_session(), current_actor()
    require_role(actor, *saved_searches.ROLES)
    if ConfirmForm().validate_on_submit():
        saved = saved_searches.delete_saved_search(session, actor, saved_search_id)
        words = saved_searches.describe(session, saved).words
        commit()
        flash(f"Deleted your saved search for {words}. You will get no more emails about it.", "success")
    return redirect(url_for("saved_searches.mine"))
