"""Pages that move people along: asking for an offer, requests, messages, your team and joining it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from marketplace.models import Role
from marketplace.request_scope import commit, current_actor, db_session, link_settings
from marketplace.services import messages as messages_service
from marketplace.services import offer_requests, teams
from marketplace.services.account_links import LinkNotValid
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.offers import get_offer
from marketplace.services.pledges import offer_remaining
from marketplace.web.auth import start_session
from marketplace.web.forms import (
    AskForOfferForm,
    ConfirmForm,
    InviteForm,
    JoinForm,
    MessageForm,
    ReasonForm,
    error_list,
    show_errors,
)
from marketplace.web.listing_pages import page_arg, pagination

bp = Blueprint("people", __name__)


@bp.route("/offers/<int:offer_id>/ask", methods=["GET", "POST"])
def ask(offer_id: int) -> object:
    """A group says what it needs from an offer; the supplier gets a request."""
    session = db_session()
    actor = require_role(current_actor(), Role.COMMUNITY)
    offer = get_offer(session, actor, offer_id)
    needs = offer_requests.open_needs_of(session, actor)
    form = AskForOfferForm()
    form.need_id.choices = [SelectChoice("", "Select a need")] + [SelectChoice(str(n.id), n.title) for n in needs]
    if not form.is_submitted() and request.args.get("need_id", "").isdigit():
        form.need_id.data = request.args["need_id"]
    if form.validate_on_submit():
        raw = form.need_id.data or ""
        data = {"need_id": int(raw) if raw.isdigit() else None, "message": form.message.data or ""}
        try:
            item = offer_requests.ask_for_offer(session, actor, offer.id, data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(
                f"Your request has been sent to {offer.organisation.name}. We will email you when they answer.",
                "success",
            )
            return redirect(url_for("people.request_detail", request_id=item.id))
    status = 422 if form.errors else 200
    return render_template(
        "requests/ask.html",
        form=form,
        offer=offer,
        needs=needs,
        remaining=offer_remaining(session, offer),
        errors=error_list(form),
    ), status


def _request_page(item, message_form: MessageForm, status: int = 200) -> tuple[str, int]:
    session, actor = db_session(), current_actor()
    about = messages_service.conversation(session, actor, request_id=item.id)
    return render_template(
        "requests/detail.html",
        item=item,
        is_supplier=actor.role is Role.SUPPLIER and actor.organisation_id == item.offer.organisation_id,
        messages=messages_service.list_messages(session, about),
        message_form=message_form,
        message_action=url_for("people.request_message", request_id=item.id),
        remaining=offer_remaining(session, item.offer),
        errors=error_list(message_form),
    ), status


@bp.get("/requests/<int:request_id>")
def request_detail(request_id: int) -> object:
    """One request: what the group asked, its answer, and the messages about it."""
    item = offer_requests.get_request(db_session(), current_actor(), request_id)
    return _request_page(item, MessageForm(formdata=None))


@bp.post("/requests/<int:request_id>/messages")
def request_message(request_id: int) -> object:
    """Write a message on a request."""
    about = messages_service.conversation(db_session(), current_actor(), request_id=request_id)
    sent, form = send_message(about)
    if sent:
        return redirect(url_for("people.request_detail", request_id=request_id, _anchor="messages"))
    assert about.request is not None
    return _request_page(about.request, form, 422)


def send_message(about: messages_service.Conversation) -> tuple[bool, MessageForm]:
    """Post the message form to a conversation: whether it was sent, and the form (with any errors)."""
    form = MessageForm()
    if form.validate_on_submit():
        try:
            messages_service.post_message(db_session(), current_actor(), about, form.body.data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash("Your message has been sent.", "success")
            return True, form
    return False, form


@bp.route("/requests/<int:request_id>/decline", methods=["GET", "POST"])
def decline_request(request_id: int) -> object:
    """The supplier declines a request, saying why."""
    session, actor = db_session(), current_actor()
    _, item = offer_requests.supplier_request(session, actor, request_id, "decline")
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            offer_requests.decline_request(session, actor, request_id, form.reason.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"You declined the request. {item.organisation.name} has been told why.", "success")
            return redirect(url_for("people.request_detail", request_id=request_id))
    return render_template("requests/decline.html", form=form, item=item, errors=error_list(form)), (
        422 if form.errors else 200
    )


@bp.get("/account/requests")
def my_requests() -> str:
    """Requests for offers the person's organisation made or received."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER)
    page_number, errors = page_arg()
    page = offer_requests.list_requests(db_session(), actor, page_number, 20)
    return render_template(
        "requests/mine.html", page=page, pagination=pagination(page, "people.my_requests"), errors=errors
    )


@bp.route("/account/team", methods=["GET", "POST"])
def team() -> object:
    """Who is in the organisation; invite a colleague; answer requests to join."""
    session = db_session()
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = teams.invite(session, link_settings(), actor, actor.organisation_id, form.email.data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            flash(f"We have emailed an invitation to {invitation.email}. The link works for 7 days.", "success")
            return redirect(url_for("people.team"))
    return render_template(
        "account/team.html",
        form=form,
        members=teams.list_members(session, actor, actor.organisation_id),
        joining=teams.join_requests(session, actor, actor.organisation_id),
        confirm=ConfirmForm(),
        errors=error_list(form),
    ), (422 if form.errors else 200)


@bp.post("/account/team/members/<int:user_id>/remove")
def remove_member(user_id: int) -> object:
    """Remove someone from the organisation (never its last member)."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER)
    if ConfirmForm().validate_on_submit():
        member = teams.remove_member(db_session(), actor, actor.organisation_id, user_id)
        commit()
        flash(f"{member.name} has been removed and can no longer sign in.", "success")
    return redirect(url_for("people.team"))


@bp.post("/account/team/requests/<int:join_id>/<any(admit, refuse):answer>")
def answer_join(join_id: int, answer: str) -> object:
    """Let someone who asked to join in, or refuse."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    if ConfirmForm().validate_on_submit():
        join = teams.answer_join_request(db_session(), link_settings(), actor, join_id, let_in=answer == "admit")
        commit()
        flash(
            f"{join.name} is now a member and has been told by email."
            if answer == "admit"
            else f"You refused {join.name}'s request. They have been told by email.",
            "success",
        )
    return redirect(url_for("people.team") if not actor.is_officer else url_for("officer.dashboard"))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str) -> object:
    """Open an invitation link: choose a name and password, and you are a member."""
    session = db_session()
    settings = link_settings()
    try:
        invitation = teams.invitation_for_token(session, settings, token)
    except LinkNotValid as error:
        return render_template("auth/link_not_valid.html", message=error.message, reset=False), 400
    form = JoinForm()
    if form.validate_on_submit():
        try:
            user = teams.accept_invitation(
                session,
                settings,
                token,
                form.name.data or "",
                form.password.data or "",
                form.password_confirmation.data or "",
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            start_session(user)
            flash(f"Welcome to {user.organisation.name}. You are signed in.", "success")
            return redirect(url_for("account.overview"))
    return render_template("account/join.html", form=form, invitation=invitation, errors=error_list(form)), (
        422 if form.errors else 200
    )
