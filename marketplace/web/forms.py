"""Web forms: they render GOV.UK components and carry the CSRF token.

The rules (lengths, known codes, dates) live in the services; a form only collects
values and shows the messages a service returns.
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Optional

from marketplace.services.errors import ValidationFailed
from marketplace.services.reference import ReferenceLists


def date_problem(day: str, month: str, year: str) -> str | None:
    """What is wrong with a GOV.UK day/month/year date, worded to follow its label.

    None when all three are blank (no date) or they make a real date: the service still
    decides whether the date is allowed (not in the past, say).
    """
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(parts.values()):
        return None
    missing = [name for name, value in parts.items() if not value]
    if missing:
        return "must include a " + " and ".join(missing)
    try:
        date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return "must be a real date"
    if len(parts["year"]) != 4:
        return "must include a year with 4 numbers, like 2027"
    return None


def date_label(label: str) -> str:
    """A date field's name for its error message: 'Needed by (optional)' reads 'Needed by'."""
    return label.removesuffix(" (optional)")


class LenientDateField(DateField):
    """A day/month/year date that keeps what was typed when it is not a real date."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, format="%d %m %Y", widget=GovDateInput(), validators=[Optional()], **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Accept all three parts blank as no date; otherwise parse, remembering a failure."""
        self.not_a_date = False
        self.problem = date_problem(*valuelist) if len(valuelist) == 3 else None
        if len(valuelist) != 3:
            # The widget shows day, month and year from raw_data: never leave it half-filled.
            self.raw_data = None
        if not valuelist or not any(part.strip() for part in valuelist):
            self.data = None
            return
        try:
            day, month, year = (int(part) for part in valuelist)
            self.data = date(year, month, day)
        except (TypeError, ValueError):
            self.data = None
            self.not_a_date = True

    def iso_value(self) -> str | None:
        """The date for the service: ISO text, or the raw text so the service can say it is wrong."""
        if getattr(self, "not_a_date", False) or getattr(self, "problem", None):
            return "not a date"
        return self.data.isoformat() if self.data else None


class SignInForm(FlaskForm):
    """Email and password."""

    email = StringField("Email address", widget=GovTextInput())
    password = PasswordField("Password", widget=GovPasswordInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class RegisterForm(FlaskForm):
    """A person and their organisation."""

    role = RadioField(
        "What kind of organisation are you registering?",
        choices=[
            SelectChoice("community", "A community group, charity or voluntary organisation"),
            SelectChoice("supplier", "A supplier: a business holding or bidding for a council contract"),
        ],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    organisation_name = StringField("Organisation name", widget=GovTextInput())
    charity_number = StringField(
        "Charity number (optional)", widget=GovTextInput(), description="For a registered charity"
    )
    company_number = StringField("Company number (optional)", widget=GovTextInput(), description="From Companies House")
    name = StringField("Your full name", widget=GovTextInput())
    email = StringField("Email address", widget=GovTextInput())
    password = PasswordField("Create a password", widget=GovPasswordInput(), description="Use 8 characters or more")
    password_confirmation = PasswordField("Confirm your password", widget=GovPasswordInput())
    submit = SubmitField("Register", widget=GovSubmitInput())


def _choices(lists: ReferenceLists) -> dict[str, list[SelectChoice]]:
    return {
        "category": [SelectChoice(c.code, c.name) for c in lists.categories],
        "district": [SelectChoice(d.code, d.name) for d in lists.districts],
        "outcome": [SelectChoice(o.code, o.name) for o in lists.outcomes],
        "measure": [SelectChoice(m.code, f"{m.name} ({m.unit})") for m in lists.measures],
    }


class NeedForm(FlaskForm):
    """A community group's need."""

    title = StringField(
        "Title", widget=GovTextInput(), description="A short summary, like 'Room for our carers' group'"
    )
    description = StringField(
        "Describe what you need",
        widget=GovCharacterCount(),
        description="Who it is for, what difference it will make, and anything a supplier should know",
    )
    category = SelectField("Category", widget=GovSelect(), validate_choice=False)
    district = SelectField("District", widget=GovSelect(), validate_choice=False)
    outcomes = SelectMultipleField(
        "Which of the council's outcomes does it help?", widget=GovCheckboxesInput(), validate_choice=False
    )
    quantity = StringField(
        "How much or how often (optional)",
        widget=GovTextInput(),
        description="In your own words, like 'about 30 pallets' or 'one evening a month'",
    )
    needed_by = LenientDateField("Needed by (optional)", description="For example, 27 3 2027")
    submit = SubmitField("Save need", widget=GovSubmitInput())

    def set_choices(self, lists: ReferenceLists) -> NeedForm:
        """Fill the lists from the council's reference data."""
        choices = _choices(lists)
        self.category.choices = [SelectChoice("", "Select a category"), *choices["category"]]
        self.district.choices = [SelectChoice("", "Select a district"), *choices["district"]]
        self.outcomes.choices = choices["outcome"]
        return self

    def service_data(self) -> dict[str, object]:
        """The values in the shape the needs service expects."""
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "category": self.category.data or "",
            "district": self.district.data or "",
            "outcomes": list(self.outcomes.data or []),
            "quantity": self.quantity.data or "",
            "needed_by": self.needed_by.iso_value(),
        }


class OfferForm(FlaskForm):
    """A supplier's offer."""

    title = StringField(
        "Title", widget=GovTextInput(), description="A short summary, like 'Meeting room in Loughborough'"
    )
    description = StringField(
        "Describe what you can offer",
        widget=GovCharacterCount(),
        description="What it is, when it is available and any conditions",
    )
    category = SelectField("Category", widget=GovSelect(), validate_choice=False)
    districts = SelectMultipleField(
        "Which districts can you serve?", widget=GovCheckboxesInput(), validate_choice=False
    )
    outcomes = SelectMultipleField(
        "Which of the council's outcomes does it help? (optional)", widget=GovCheckboxesInput(), validate_choice=False
    )
    available_until = LenientDateField("Available until (optional)", description="For example, 31 12 2027")
    measure = SelectField(
        "How is it measured? (optional)",
        widget=GovSelect(),
        validate_choice=False,
        description="Pledges from this offer use up its capacity in this unit",
    )
    capacity = StringField(
        "How much is there, in that unit? (optional)",
        widget=GovTextInput(),
        description="A number, like 40 for 40 hours",
    )
    submit = SubmitField("Save offer", widget=GovSubmitInput())

    def set_choices(self, lists: ReferenceLists) -> OfferForm:
        """Fill the lists from the council's reference data."""
        choices = _choices(lists)
        self.category.choices = [SelectChoice("", "Select a category"), *choices["category"]]
        self.districts.choices = choices["district"]
        self.outcomes.choices = choices["outcome"]
        self.measure.choices = [SelectChoice("", "Not measured"), *choices["measure"]]
        return self

    def service_data(self) -> dict[str, object]:
        """The values in the shape the offers service expects."""
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "category": self.category.data or "",
            "districts": list(self.districts.data or []),
            "outcomes": list(self.outcomes.data or []),
            "available_until": self.available_until.iso_value(),
            "measure": self.measure.data or None,
            "capacity": (self.capacity.data or "").strip() or None,
        }


class TokenForm(FlaskForm):
    """Name a new API token."""

    name = StringField("Token name", widget=GovTextInput(), description="So you can recognise it, like 'CRM sync'")
    submit = SubmitField("Create token", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token."""


class RejectForm(FlaskForm):
    """Why an organisation is rejected."""

    reason = StringField(
        "Reason (optional)", widget=GovTextArea(), description="The organisation's members will see this"
    )


def show_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Put a service's field messages on the form's fields."""
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if isinstance(field, LenientDateField) and getattr(field, "problem", None):
            # The GOV.UK date pattern: name the missing part rather than the service's wording.
            field.errors = [f"{date_label(str(field.label.text))} {field.problem}"]
        elif field is not None:
            field.errors = [message]
        else:
            form.form_errors.append(message)


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """The GOV.UK error summary's list, linking each message to its field's first input."""
    items = []
    for field in form:
        if field.errors:
            anchor = f"{field.id}-day" if isinstance(field, DateField) else field.id
            items.append({"text": field.errors[0], "href": f"#{anchor}"})
    items.extend({"text": message, "href": "#main-content"} for message in form.form_errors)
    return items


class PledgeForm(FlaskForm):
    """A supplier's pledge against a need."""

    offer_id = SelectField("From which of your offers? (optional)", widget=GovSelect(), validate_choice=False)
    contract_id = SelectField(
        "Against which of your contracts? (optional)",
        widget=GovSelect(),
        validate_choice=False,
        description="The pledge counts towards that contract's social value target once approved",
    )
    measure = SelectField(
        "How is it measured?",
        widget=GovSelect(),
        validate_choice=False,
        description="Not needed when you pledge from an offer that has a measure: the offer's is used",
    )
    quantity = StringField("How much, in that unit?", widget=GovTextInput(), description="A number, like 40")
    message = StringField(
        "Message to the group (optional)", widget=GovTextArea(), description="What you will do, and when"
    )
    supplier_id = SelectField("Which supplier is this pledge from?", widget=GovSelect(), validate_choice=False)
    deliver_by = LenientDateField(
        "When will you deliver it by? (optional)",
        description="The council sets the deliver-by date when it approves your pledge. For example, 27 3 2027",
    )
    measure_checked = SelectMultipleField(
        "Measure check",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice("yes", "I have checked: this measure is the fair way to value this help")],
        validate_choice=False,
    )
    submit = SubmitField("Make pledge", widget=GovSubmitInput())

    def service_data(self, need_id: int, *, on_behalf: bool, request_id: int | None = None) -> dict[str, object]:
        """The values in the shape the pledges service expects (``request_id``: made from a group's request)."""
        data: dict[str, object] = {
            "need_id": need_id,
            "measure": self.measure.data or None,
            "quantity": (self.quantity.data or "").strip(),
            "message": self.message.data or "",
        }
        deliver_by = self.deliver_by.iso_value()
        if deliver_by:
            data["deliver_by"] = deliver_by
        for name in ("offer_id", "contract_id") + (("supplier_id",) if on_behalf else ()):
            raw = getattr(self, name).data
            if raw:
                data[name] = int(raw) if str(raw).isdigit() else raw
        if request_id is not None:
            data["request_id"] = request_id
        return data


class DeliverForm(FlaskForm):
    """What the supplier delivered."""

    evidence = StringField(
        "What did you deliver?",
        widget=GovTextArea(),
        description="For example the dates, hours, items or a reference the group can check",
    )
    actual_quantity = StringField(
        "Actual quantity (optional)",
        widget=GovTextInput(),
        description="Only if it differs from what you pledged. More than approved goes to the council to approve; "
        "less is recorded as a partial delivery",
    )
    declaration = SelectMultipleField(
        "Declaration",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice("yes", "I declare this contribution is not reported as social value against any other "
                              "contract, nor to any other council or public body")],
        validate_choice=False,
    )  # fmt: skip


class ApproveForm(FlaskForm):
    """An officer's approval: the date the pledge is to be delivered by."""

    deliver_by = LenientDateField("Deliver by", description="For example, 27 3 2027")


class AcceptEvidenceForm(FlaskForm):
    """An officer accepts delivery evidence, deciding any reported increase."""

    accept_change = RadioField(
        "The supplier reported more than was approved. Approve the new quantity?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("yes", "Yes, approve the reported quantity"),
            SelectChoice("no", "No, the approved quantity stands"),
        ],
        validate_choice=False,
    )


class ConfirmDeliveryForm(FlaskForm):
    """The group confirms delivery and says whether its need is now met."""

    need_met = RadioField(
        "Is your need now met?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("yes", "Yes, the need is met: take it off the marketplace"),
            SelectChoice("no", "No, we still need help"),
        ],
        validate_choice=False,
    )


class EvidenceForm(FlaskForm):
    """Evidence files: photos, PDFs, office documents."""


class ReasonForm(FlaskForm):
    """A reason for a decision."""

    reason = StringField("Reason", widget=GovTextArea())


class ContractForm(FlaskForm):
    """A council contract."""

    reference = StringField("Contract reference", widget=GovTextInput(), description="For example LCC-2026-0142")
    title = StringField("Title", widget=GovTextInput())
    supplier_id = SelectField("Supplier", widget=GovSelect(), validate_choice=False)
    value = StringField("Contract value (£)", widget=GovTextInput())
    start_date = LenientDateField("Start date")
    end_date = LenientDateField("End date")
    social_value_target = StringField(
        "Social value target (£, optional)",
        widget=GovTextInput(),
        description="Contracts over £50,000 should have one",
    )
    submit = SubmitField("Save contract", widget=GovSubmitInput())

    def service_data(self) -> dict[str, object]:
        """The values in the shape the contracts service expects."""
        supplier = self.supplier_id.data
        return {
            "reference": self.reference.data or "",
            "title": self.title.data or "",
            "supplier_id": int(supplier) if supplier and str(supplier).isdigit() else None,
            "value": (self.value.data or "").strip(),
            "start_date": self.start_date.iso_value() or "",
            "end_date": self.end_date.iso_value() or "",
            "social_value_target": (self.social_value_target.data or "").strip() or None,
        }


class MeasureForm(FlaskForm):
    """A social value measure."""

    code = StringField(
        "Code", widget=GovTextInput(), description="Lower-case words joined by hyphens; cannot change later"
    )
    name = StringField("Name", widget=GovTextInput())
    unit = StringField("Unit", widget=GovTextInput(), description="For example hour, week or £ of market value")
    proxy_value = StringField(
        "£ proxy value per unit (optional)",
        widget=GovTextInput(),
        description="Leave empty to count it in units only. A change applies to pledges approved from now on",
    )
    source = StringField("Source of the proxy value", widget=GovTextArea())
    outcomes = SelectMultipleField("Outcomes it serves", widget=GovCheckboxesInput(), validate_choice=False)
    active = RadioField(
        "Can suppliers use it?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No, retire it")],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save measure", widget=GovSubmitInput())


class AssistedNeedForm(NeedForm):
    """A need an officer posts for a community group that got in touch by phone or e-mail."""

    organisation_id = SelectField("Which community group is it for?", widget=GovSelect(), validate_choice=False)


class ForgotPasswordForm(FlaskForm):
    """The address to send a password reset link to."""

    email = StringField("Email address", widget=GovTextInput())
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField("New password", widget=GovPasswordInput(), description="Use 8 characters or more")
    password_confirmation = PasswordField("Confirm your new password", widget=GovPasswordInput())
    submit = SubmitField("Change password", widget=GovSubmitInput())


class CloseAccountForm(FlaskForm):
    """The current password, so a borrowed signed-in browser cannot close the account."""

    password = PasswordField("Your current password", widget=GovPasswordInput())
    submit = SubmitField("Close my account", widget=GovSubmitInput())


class AskForOfferForm(FlaskForm):
    """A group asks a supplier for an offer, for one of its needs."""

    need_id = SelectField("Which of your needs is this for?", widget=GovSelect(), validate_choice=False)
    message = StringField(
        "What do you need from this offer?",
        widget=GovTextArea(),
        description="For example how much, when and where. The supplier will see this",
    )
    submit = SubmitField("Send request", widget=GovSubmitInput())


class MessageForm(FlaskForm):
    """A message on a pledge or a request."""

    body = StringField(
        "Your message",
        widget=GovTextArea(),
        description="Plain text. Everyone taking part in this, and council officers, can read it",
    )
    submit = SubmitField("Send message", widget=GovSubmitInput())


class InviteForm(FlaskForm):
    """Invite a colleague by e-mail."""

    email = StringField(
        "Their email address",
        widget=GovTextInput(),
        description="We will email them a link to join. It works for 7 days",
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class JoinForm(FlaskForm):
    """Accept an invitation: a name and a password."""

    name = StringField("Your full name", widget=GovTextInput())
    password = PasswordField("Create a password", widget=GovPasswordInput(), description="Use 8 characters or more")
    password_confirmation = PasswordField("Confirm your password", widget=GovPasswordInput())
    submit = SubmitField("Join", widget=GovSubmitInput())


class EmailPreferenceForm(FlaskForm):
    """Which e-mails a person gets about their work."""

    email_preference = RadioField(
        "Which emails about pledges, requests and messages do you want?",
        choices=[],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save email choice", widget=GovSubmitInput())


class SavedSearchForm(FlaskForm):
    """Save a search: its words and filters ride as hidden fields; the person picks how often."""

    q = HiddenField()
    kind = HiddenField()
    category = HiddenField()
    district = HiddenField()
    outcome = HiddenField()
    frequency = RadioField(
        "How often do you want an email of new results?",
        choices=[
            SelectChoice("daily", "Daily"),
            SelectChoice("weekly", "Weekly"),
        ],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Save this search", widget=GovSubmitInput())
