"""Signing in and out, and registering."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import accounts
from marketplace.services.errors import ValidationFailed
from marketplace.web.forms import ConfirmForm, RegisterForm, SignInForm, error_list, show_errors

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only ever go back to a page of this site, never to another host."""
    if not target:
        return url_for("account.overview")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("account.overview")
    return target


def _start_session(user: accounts.User) -> None:
    # A fresh session at sign-in, so a session id planted before sign-in is worthless.
    session.clear()
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> object:
    """Sign in with email and password."""
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is not None:
            commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        form.email.errors = ["Enter the email address and password of your account"]
        form.password.errors = ["Enter the email address and password of your account"]
    return render_template("auth/sign_in.html", form=form, errors=error_list(form))


@bp.post("/sign-out")
def sign_out() -> object:
    """Sign out (a POST with a CSRF token, so another site cannot sign you out)."""
    form = ConfirmForm()
    if form.validate_on_submit():
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
            user = accounts.register(db_session(), registration)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            commit()
            _start_session(user)
            flash(
                f"Your account is ready. The council will check {user.organisation.name}; until then only "
                "your organisation and council officers can see what you post.",
                "success",
            )
            return redirect(url_for("account.overview"))
    return render_template("auth/register.html", form=form, errors=error_list(form))
