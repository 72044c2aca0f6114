"""Signing in and out, and registering."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from marketplace.request_scope import commit, current_actor, db_session, link_settings
from marketplace.services import account_links, accounts
from marketplace.services.account_links import AlreadyConfirmed, LinkNotValid
from marketplace.services.errors import ValidationFailed
from marketplace.validation import local_path
from marketplace.web.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    RegisterForm,
    ResetPasswordForm,
    SignInForm,
    error_list,
    show_errors,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only ever go back to a page of this site, never to another host."""
    return local_path(target) or url_for("account.overview")


def come_back_to() -> str | None:
    """The page of this site the visitor started from (``?next=``), if it is one."""
    return local_path(request.args.get("next"))


def start_session(user: accounts.User) -> None:
    """Sign the person in, in a fresh session."""
    # A fresh session at sign-in, so a session id planted before sign-in is worthless.
    session.clear()
    login_user(user)
    # Changing the password changes this, which ends every other session (see load_user).
    session[PASSWORD_FINGERPRINT] = accounts.password_fingerprint(user)
    # Signing out changes this, which ends every copy of this session's cookie (see load_user).
    session[SESSION_VERSION] = user.session_version


PASSWORD_FINGERPRINT = "password_fingerprint"
SESSION_VERSION = "session_version"
SIGN_IN_FAILED = "Email address or password is not correct"
REGISTERED_EMAIL = "registered_email"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> object:
    """Sign in with email and password."""
    form = SignInForm()
    if form.validate_on_submit():
        email, password = (form.email.data or "").strip(), form.password.data or ""
        if not email or not password:
            # The GOV.UK sign-in pattern: say what is missing, field by field.
            if not email:
                form.email.errors = ["Enter your email address"]
            if not password:
                form.password.errors = ["Enter your password"]
            return render_template("auth/sign_in.html", form=form, errors=error_list(form))
        try:
            user = accounts.authenticate(db_session(), email, password)
        except accounts.JoinNotAnswered as waiting:
            # The right password, so saying so reveals nothing; no account exists until the members answer.
            if waiting.join.confirmed_at is None:
                account_links.send_join_confirmation(
                    db_session(), link_settings(), waiting.join, come_back_to=come_back_to()
                )
                commit()
                return render_template(
                    "auth/check_email.html", email=waiting.join.email, reminder=True, next=come_back_to()
                )
            form.email.errors = [waiting.message]
            return render_template("auth/sign_in.html", form=form, errors=error_list(form))
        if user is not None and user.email_confirmed_at is None:
            # Only someone who knows the password gets here, so saying so reveals nothing.
            account_links.send_confirmation(db_session(), link_settings(), user, come_back_to=come_back_to())
            commit()
            return render_template("auth/check_email.html", email=user.email, reminder=True, next=come_back_to())
        if user is not None:
            commit()
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        # Said once, and never which of the two was wrong: that would tell who has an account.
        form.email.errors = [SIGN_IN_FAILED]
    return render_template("auth/sign_in.html", form=form, errors=error_list(form))


@bp.post("/sign-out")
def sign_out() -> object:
    """Sign out (a POST with a CSRF token, so another site cannot sign you out)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        actor = current_actor()
        if actor is not None:
            accounts.end_sessions(db_session(), actor)
            commit()
        logout_user()
        session.clear()
        flash("You have signed out.", "success")
    return redirect(url_for("pages.start"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> object:
    """Register a person and their organisation."""
    if current_actor() is not None:
        return redirect(url_for("account.overview"))
    form = RegisterForm()
    if form.validate_on_submit():
        registration = accounts.Registration(
            name=form.name.data or "",
            email=form.email.data or "",
            password=form.password.data or "",
            password_confirmation=form.password_confirmation.data or "",
            role=form.role.data or "",
            organisation_name=form.organisation_name.data or "",
            charity_number=form.charity_number.data or "",
            company_number=form.company_number.data or "",
        )
        try:
            account_links.start_registration(db_session(), link_settings(), registration, come_back_to=come_back_to())
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            session[REGISTERED_EMAIL] = accounts.normalise_email(registration.email)
            return redirect(url_for("auth.check_email", next=come_back_to()))
    return render_template("auth/register.html", form=form, errors=error_list(form))


@bp.get("/register/check-your-email")
def check_email() -> object:
    """After registering: the same words whether or not the address already had an account."""
    email = session.get(REGISTERED_EMAIL)
    if not email:
        return redirect(url_for("auth.register"))
    return render_template("auth/check_email.html", email=email, reminder=False, next=come_back_to())


@bp.get("/confirm-email/<token>")
def confirm_email(token: str) -> object:
    """Open the link from the confirmation e-mail: the address is confirmed; the person then signs in.

    The page reads the same for a new organisation and for a request to join one that
    exists (whose members decide), so it never tells a stranger that an organisation exists.
    Nobody is signed in here for the same reason: the header would differ.
    """
    try:
        confirmed = account_links.confirm_email(db_session(), link_settings(), token)
    except AlreadyConfirmed as error:
        # Opened again (from the e-mail, or the browser's history): still on the way somewhere.
        signed_in, back = current_actor() is not None, come_back_to()
        onward = _safe_next(back) if signed_in else url_for("auth.sign_in", next=back)
        return render_template(
            "auth/already_confirmed.html", message=error.message, onward=onward, signed_in=signed_in, next=back
        )
    except LinkNotValid as error:
        return render_template("auth/link_not_valid.html", message=error.message, reset=False), 400
    commit()
    organisation = confirmed.organisation.name
    return render_template("auth/confirmed.html", email=confirmed.email, organisation=organisation, next=come_back_to())


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> object:
    """Ask for a link to reset a forgotten password."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        try:
            account_links.request_password_reset(db_session(), link_settings(), email)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            return render_template("auth/reset_sent.html", email=accounts.normalise_email(email))
    return render_template("auth/forgot_password.html", form=form, errors=error_list(form))


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> object:
    """Choose a new password from the link in the reset e-mail."""
    settings = link_settings()
    try:
        account_links.user_for_reset_token(db_session(), settings, token)
    except LinkNotValid as error:
        return render_template("auth/link_not_valid.html", message=error.message, reset=True), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = account_links.reset_password(
                db_session(), settings, token, form.password.data or "", form.password_confirmation.data or ""
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            start_session(user)
            flash("Your password has been changed and you are signed in.", "success")
            return redirect(url_for("account.overview"))
    return render_template("auth/reset_password.html", form=form, errors=error_list(form))
