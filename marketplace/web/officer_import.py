"""The officer's bulk import: upload a CSV of needs or offers, see what was created or every row's problems."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovRadioInput, GovSubmitInput
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import FileField, RadioField, SelectChoice, SubmitField

from marketplace.clock import council_today
from marketplace.models import Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import bulk_import
from marketplace.services.accounts import require_role
from marketplace.services.errors import DomainError
from marketplace.services.reference import reference_lists
from marketplace.validation import MAX_BODY_TEXT

bp = Blueprint("officer_import", __name__, url_prefix="/officer/import")


class ImportForm(FlaskForm):
    """Which kind of listing the file holds, and the file."""

    kind = RadioField(
        "What does the file hold?",
        choices=[
            SelectChoice("needs", "Needs, posted for community groups"),
            SelectChoice("offers", "Offers, posted for suppliers"),
        ],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    file = FileField(
        "CSV file",
        widget=GovFileInput(),
        description=f"Save the spreadsheet as 'CSV UTF-8'. Up to {bulk_import.MAX_ROWS:,} rows and {MAX_BODY_TEXT}.",
    )
    submit = SubmitField("Import", widget=GovSubmitInput())


def _page(form: ImportForm, failure: bulk_import.ImportFailed | None = None) -> str:
    """The upload form, with the problems of the last file when there were any."""
    session = db_session()
    errors = [
        {"text": message, "href": f"#{form[name].id}"} for name in ("kind", "file") for message in form[name].errors
    ]
    rows: list[bulk_import.Problem] = []
    if failure is not None:
        rows = [p for p in failure.problems if p.row is not None]
        errors += [{"text": p.message, "href": "#file"} for p in failure.problems if p.row is None]
        if rows:
            errors.append({"text": failure.message, "href": "#row-problems"})
        for message in [p.message for p in failure.problems if p.row is None][:1]:
            form.file.errors = [message]
        if rows and not form.file.errors:
            form.file.errors = ["Correct the rows listed below, then upload the file again"]
    return render_template(
        "officer/import.html",
        form=form,
        errors=errors,
        failure=failure,
        rows=rows[: bulk_import.MAX_PROBLEMS],
        hidden_rows=max(0, len(rows) - bulk_import.MAX_PROBLEMS),
        row_count=len({p.row for p in rows}),
        kinds=(bulk_import.NEEDS, bulk_import.OFFERS),
        lists=reference_lists(session),
    )


@bp.route("", methods=["GET", "POST"])
def upload() -> object:
    """Upload a CSV file of needs or offers; all of it is imported, or none with every problem listed."""
    actor = current_actor()
    require_role(actor, Role.OFFICER)
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form)
    if form.kind.data not in bulk_import.KINDS:
        form.kind.errors = ["Select whether the file holds needs or offers"]
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        form.file.errors = ["Select a CSV file"]
    if form.kind.errors or form.file.errors:
        return _page(form)
    try:
        result = bulk_import.import_csv(
            db_session(), actor, form.kind.data, upload.read(), council_today(), filename=upload.filename
        )
    except bulk_import.ImportFailed as failure:
        return _page(form, failure)
    commit()
    return redirect(url_for("officer_import.result", audit_id=result.audit_id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> object:
    """A file over the limit is refused before it is read: say so on the form, not on an error page."""
    try:
        require_role(current_actor(), Role.OFFICER)
    except DomainError as refused:
        # An error handler must not raise (that would be a 500): the app's handler answers instead.
        return current_app.handle_user_exception(refused)
    form = ImportForm(formdata=None)
    form.file.errors = [
        f"The file must be {MAX_BODY_TEXT} or smaller. Split it into files of up to {bulk_import.MAX_ROWS:,} rows"
    ]
    return _page(form), 413


@bp.get("/<int:audit_id>")
def result(audit_id: int) -> str:
    """What one import created, with links to each item."""
    past = bulk_import.get_import(db_session(), current_actor(), audit_id)
    return render_template("officer/import_result.html", past=past)


@bp.get("/<any(needs, offers):kind>-template.csv")
def template(kind: str) -> Response:
    """A CSV file with the columns and one example row, to fill in."""
    require_role(current_actor(), Role.OFFICER)
    return Response(
        # Excel reads a file without a byte-order mark as the local code page, not UTF-8.
        "\ufeff" + bulk_import.template_csv(kind),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'},
    )
