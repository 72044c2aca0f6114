"""The signed-in area: overview, your needs, your offers, API tokens, your data and closing the account."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SelectChoice, SubmitField

from marketplace.models import Role, User
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import accounts, personal_data
from marketplace.services.accounts import require_role
from marketplace.services.digest import ALERT_FREQUENCIES, set_digest, set_offer_alerts
from marketplace.services.errors import ValidationFailed
from marketplace.services.needs import list_own_needs
from marketplace.services.notifications import EMAIL_PREFERENCES, set_email_preference
from marketplace.services.offers import list_own_offers
from marketplace.services.tasks import tasks_for
from marketplace.web.forms import (
    CloseAccountForm,
    ConfirmForm,
    EmailPreferenceForm,
    TokenForm,
    error_list,
    show_errors,
)
from marketplace.web.listing_pages import PER_PAGE, page_arg, pagination

bp = Blueprint("account", __name__, url_prefix="/account")

_ANY_ROLE = (Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)


class DigestForm(FlaskForm):
    """A supplier's daily e-mail of new needs that fit their offers: on or off."""

    digest = RadioField(
        "Do you want a daily email of new needs that fit your offers?",
        choices=[
            SelectChoice("on", "Yes, email me once a day when new needs fit our open offers"),
            SelectChoice("off", "No"),
        ],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save email setting", widget=GovSubmitInput())


def _digest_form(user: User) -> DigestForm | None:
    if user.role is not Role.SUPPLIER:
        return None
    return DigestForm(formdata=None, data={"digest": "on" if user.digest_enabled else "off"})


class AlertsForm(FlaskForm):
    """A group's e-mail of new offers that fit its open needs: off, daily or weekly."""

    offer_alerts = RadioField(
        "Do you want an email of new offers that fit your group's open needs?",
        choices=[
            SelectChoice("daily", "Yes, once a day when new offers fit"),
            SelectChoice("weekly", "Yes, once a week"),
            SelectChoice("off", "No"),
        ],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save alert setting", widget=GovSubmitInput())


def _alerts_form(user: User) -> AlertsForm | None:
    if user.role is not Role.COMMUNITY:
        return None
    return AlertsForm(formdata=None, data={"offer_alerts": user.offer_alerts})


@bp.post("/alerts")
def alerts_setting() -> object:
    """A group member chooses how often to hear of new offers that fit the group's open needs."""
    actor = require_role(current_actor(), Role.COMMUNITY)
    form = AlertsForm()
    if form.validate_on_submit() and form.offer_alerts.data in ALERT_FREQUENCIES:
        set_offer_alerts(db_session(), actor, form.offer_alerts.data)
        commit()
        flash(
            "You will not get emails of fitting offers."
            if form.offer_alerts.data == "off"
            else f"You will get a {form.offer_alerts.data} email when new offers fit your group's needs.",
            "success",
        )
        return redirect(url_for("account.overview"))
    form.offer_alerts.errors = ["Select how often you want the email of fitting offers"]
    return _overview(actor, alerts_form=form, errors=error_list(form)), 400


def _preference_form(user: User, formdata: object = None) -> EmailPreferenceForm:
    form = EmailPreferenceForm(formdata=formdata, data={"email_preference": user.email_preference})
    form.email_preference.choices = [SelectChoice(value, text) for value, text in EMAIL_PREFERENCES.items()]
    return form


def _overview(actor: User, **forms: object) -> str:
    return render_template(
        "account/overview.html",
        user=actor,
        form=ConfirmForm(),
        digest_form=forms.get("digest_form", _digest_form(actor)),
        preference_form=forms.get("preference_form", _preference_form(actor)),
        alerts_form=forms.get("alerts_form", _alerts_form(actor)),
        tasks=tasks_for(db_session(), actor),
        errors=forms.get("errors"),
    )


@bp.get("")
def overview() -> str:
    """The person's home: what is waiting for them, their organisation and where to go next."""
    actor = require_role(current_actor(), *_ANY_ROLE)
    return _overview(actor)


@bp.post("/email-preference")
def email_preference() -> object:
    """Choose which e-mails about your work you get: each event, a daily summary, or essential only."""
    actor = require_role(current_actor(), *_ANY_ROLE)
    form = _preference_form(actor, request.form)
    if form.validate_on_submit() and form.email_preference.data in EMAIL_PREFERENCES:
        set_email_preference(db_session(), actor, form.email_preference.data)
        commit()
        flash(f"Saved. You will get: {EMAIL_PREFERENCES[form.email_preference.data].lower()}.", "success")
        return redirect(url_for("account.overview"))
    form.email_preference.errors = ["Select which emails you want to get"]
    return _overview(actor, preference_form=form, errors=error_list(form)), 400


@bp.post("/digest")
def digest_setting() -> object:
    """A supplier switches the daily digest of fitting new needs on or off."""
    # Only suppliers have the digest: others are refused before their form is even read.
    actor = require_role(current_actor(), Role.SUPPLIER)
    form = DigestForm()
    if form.validate_on_submit() and form.digest.data in ("on", "off"):
        set_digest(db_session(), actor, form.digest.data == "on")
        commit()
        flash(
            "You will get a daily email when new needs fit your offers."
            if form.digest.data == "on"
            else "You will not get the daily email of new needs.",
            "success",
        )
        return redirect(url_for("account.overview"))
    if form.digest.data not in ("on", "off"):
        form.digest.errors = ["Select whether you want the daily email"]
    return _overview(actor, digest_form=form, errors=error_list(form)), 400


@bp.get("/needs")
def my_needs() -> str:
    """All of the group's needs, whatever their status."""
    number, errors = page_arg()
    page = list_own_needs(db_session(), current_actor(), number, PER_PAGE)
    return render_template(
        "account/needs.html", page=page, pagination=pagination(page, "account.my_needs"), errors=errors
    )


@bp.get("/offers")
def my_offers() -> str:
    """All of the supplier's offers, whatever their status."""
    number, errors = page_arg()
    page = list_own_offers(db_session(), current_actor(), number, PER_PAGE)
    return render_template(
        "account/offers.html", page=page, pagination=pagination(page, "account.my_offers"), errors=errors
    )


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> object:
    """Create and revoke API tokens; a new token is shown once."""
    session = db_session()
    actor = require_role(current_actor(), *_ANY_ROLE)
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _, new_token = accounts.create_token(session, actor, form.name.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            form = TokenForm(formdata=None)
    return render_template(
        "account/tokens.html",
        form=form,
        errors=error_list(form),
        tokens=accounts.list_tokens(session, actor),
        new_token=new_token,
        revoke_form=ConfirmForm(),
    )


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> object:
    """Revoke one of your tokens."""
    actor = require_role(current_actor(), *_ANY_ROLE)
    if ConfirmForm().validate_on_submit():
        token = accounts.revoke_token(db_session(), actor, token_id)
        commit()
        flash(f"The token “{token.name}” has been revoked. Programs using it can no longer sign in.", "success")
    return redirect(url_for("account.tokens"))


@bp.get("/data")
def download_data() -> Response:
    """Everything we hold about the signed-in person, as a JSON file to keep."""
    actor = require_role(current_actor(), *_ANY_ROLE)
    data = personal_data.personal_data(db_session(), actor)
    response = Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-marketplace-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/close", methods=["GET", "POST"])
def close() -> object:
    """Close the account: the person's details are erased, their organisation's records kept."""
    actor = require_role(current_actor(), *_ANY_ROLE)
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            personal_data.close_account(db_session(), actor, form.password.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            logout_user()
            session.clear()
            flash("Your account is closed and your personal details have been erased.", "success")
            return redirect(url_for("pages.start"))
    return render_template("account/close.html", form=form, errors=error_list(form), user=actor)
