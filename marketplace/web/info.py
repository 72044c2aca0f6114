"""The pages about the service itself: accessibility statement, privacy notice, cookies, help, the API guide
and feedback, and the officer's pages to change that wording and read the feedback.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import HiddenField, RadioField, SelectChoice, StringField, SubmitField

from marketplace.models import Role
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.services import site_pages
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.web.forms import error_list, show_errors
from marketplace.web.listing_pages import page_arg, pagination

bp = Blueprint("info", __name__)


class FeedbackForm(FlaskForm):
    """The GOV.UK feedback survey: a rating and what could be better."""

    satisfaction = RadioField(
        "Overall, how do you feel about this service?",
        choices=[SelectChoice(value, words) for value, words in site_pages.SATISFACTION],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    comments = StringField(
        "How could we improve this service?",
        widget=GovTextArea(),
        description="Do not include personal or financial information, like your email address or bank details.",
    )
    page = HiddenField()
    submit = SubmitField("Send feedback", widget=GovSubmitInput())


class PageTextForm(FlaskForm):
    """An officer's wording of an information page."""

    body = StringField("Wording of the page", widget=GovTextArea())
    submit = SubmitField("Save page", widget=GovSubmitInput())


def _show(slug: str) -> str:
    config = app_state().config
    page = site_pages.get_page(db_session(), slug, council=config.council_name, service=config.service_name)
    return render_template("info/page.html", page=page)


@bp.get("/accessibility-statement")
def accessibility_statement() -> str:
    """The accessibility statement the 2018 regulations ask for."""
    return _show("accessibility-statement")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice: what is held, why, who sees it, how long, and people's rights."""
    return _show("privacy")


@bp.get("/cookies")
def cookies() -> str:
    """The cookies the service sets: essential ones only."""
    return _show("cookies")


@bp.get("/help")
def help_page() -> str:
    """Help and how to contact the social value team."""
    return _show("help")


@bp.get("/api-documentation")
def api_documentation() -> str:
    """A readable page about the API, linking its OpenAPI document."""
    return render_template("info/api.html")


@bp.route("/feedback", methods=["GET", "POST"])
def feedback() -> str:
    """The phase banner's feedback form; sending it stores it for officers and says thank you."""
    form = FeedbackForm()
    if request.method == "GET":
        came_from = request.referrer or ""
        host = request.host_url
        form.page.data = "/" + came_from[len(host) :] if came_from.startswith(host) else ""
    if form.validate_on_submit():
        try:
            site_pages.send_feedback(db_session(), form.satisfaction.data, form.comments.data, form.page.data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            return render_template("info/feedback_sent.html")
    return render_template("info/feedback.html", form=form, errors=error_list(form))


@bp.get("/officer/feedback")
def officer_feedback() -> str:
    """What people said about the service, newest first."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    number, errors = page_arg()
    page = site_pages.list_feedback(session, actor, number, 20)
    return render_template(
        "info/officer_feedback.html",
        page=page,
        words=site_pages.SATISFACTION_WORDS,
        pagination=pagination(page, "info.officer_feedback"),
        errors=errors,
    )


@bp.get("/officer/pages")
def officer_pages() -> str:
    """The information pages an officer can reword."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    config = app_state().config
    pages = [
        site_pages.get_page(session, slug, council=config.council_name, service=config.service_name)
        for slug in site_pages.PAGES
    ]
    return render_template("info/officer_pages.html", pages=pages)


@bp.route("/officer/pages/<slug>", methods=["GET", "POST"])
def officer_page_edit(slug: str) -> object:
    """Change a page's wording, or empty it to put the shipped wording back."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    if slug not in site_pages.PAGES:
        abort(404)
    config = app_state().config
    page = site_pages.get_page(session, slug, council=config.council_name, service=config.service_name)
    form = PageTextForm()
    if request.method == "GET":
        form.body.data = page.text
    if form.validate_on_submit():
        try:
            saved = site_pages.save_page(session, actor, slug, form.body.data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            if saved is None:
                flash(f"{page.kind.title} shows the wording the service ships with.", "success")
            else:
                flash(f"{page.kind.title} is changed.", "success")
            return redirect(url_for("info.officer_pages"))
    return render_template("info/officer_page_edit.html", form=form, page=page, errors=error_list(form))
