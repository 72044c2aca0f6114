"""The rules on input, in one place: text, choices, dates, numbers, ids and sizes.

Services call these on what pages, the API and the CSV import hand them, so a title, a
date or an amount is judged the same way wherever it comes from. Each problem is a field
error with a message for a person and a machine-readable code (``FieldErrors.codes``), so
callers such as the CSV import and API clients act on the code, never on the wording.

Numbers are ``Decimal`` throughout: the API parses JSON numbers as ``Decimal`` (see
``api.parsing.json_body``), so ``0.1000000000000000001`` is refused for its decimal places
rather than rounded to 0.1 on the way through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from marketplace.formatting import number, pounds
from marketplace.services.errors import ValidationFailed

# Request bodies (forms, JSON, uploaded CSV files) the app accepts, in bytes.
MAX_BODY_BYTES = 1024 * 1024
# A CSV file to import: 1 MB leaves room in a request for the form's own fields.
MAX_UPLOAD_BYTES = 1_000_000
MAX_BODY_TEXT = "1 MB"
# The longest request line (method, address, protocol) answered, in bytes: gunicorn's largest
# limit (marketplace/gunicorn_conf.py). The search box (256 characters) and every API filter
# fit, even percent-encoded.
MAX_REQUEST_LINE = 8190
# The database's integer: an id beyond it can name no row.
MAX_ID = 2**31 - 1
# Amounts in a measure's unit (capacity, quantities).
MAX_AMOUNT = Decimal("1000000000")
PLACES = Decimal("0.01")


class Code:
    """Machine-readable codes of field errors (``FieldErrors.codes``, ``error.field_codes`` in the API)."""

    REQUIRED = "required"
    NOT_TEXT = "not_text"
    BAD_CHARACTERS = "bad_characters"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    UNKNOWN_CHOICE = "unknown_choice"
    NOT_A_LIST = "not_a_list"
    NOT_A_DATE = "not_a_date"
    IN_THE_PAST = "in_the_past"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    TOO_PRECISE = "too_precise"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_FIELD = "unknown_field"
    NEEDS_A_MEASURE = "needs_a_measure"
    INVALID = "invalid"


class FieldErrors(dict[str, str]):
    """Field name → message, collected while validating, with a code for each in ``codes``."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, str] = {}

    def add(self, field: str, code: str, message: str) -> None:
        """Record a problem with ``field``."""
        self[field] = message
        self.codes[field] = code

    def merge(self, error: ValidationFailed) -> None:
        """Add the fields (with their codes) of an error raised by another check."""
        for name, message in error.fields.items():
            self.add(name, error.codes.get(name, Code.INVALID), message)

    def code(self, field: str) -> str:
        """The code of ``field``'s problem (``invalid`` for one set without a code)."""
        return self.codes.get(field, Code.INVALID)

    def raise_if_any(self) -> None:
        """Raise ValidationFailed when any field failed."""
        if self:
            raise ValidationFailed(dict(self), codes={name: self.code(name) for name in self})


def bad_characters(text: str) -> bool:
    """True when ``text`` holds a NUL or a lone surrogate (half of a UTF-16 pair).

    No one types either; PostgreSQL cannot store a NUL and no UTF-8 encoder can write a lone
    surrogate, so letting one through would turn bad input into a server error.
    """
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def has_bad_text(value: object) -> bool:
    """True when a string, or any string inside a JSON-like value, has ``bad_characters``."""
    if isinstance(value, str):
        return bad_characters(value)
    if isinstance(value, dict):
        return any(has_bad_text(k) or has_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_bad_text(v) for v in value)
    return False


def cap(label: str) -> str:
    """``label`` as the start of a sentence."""
    return label[:1].upper() + label[1:]


def field_label(name: str) -> str:
    """A field's key as words to start a sentence with: ``supplier_id`` → "Supplier ID", ``per_page`` → "Per page".

    Error messages name the field in words; the key itself is in the error's ``fields``.
    """
    return cap(" ".join("ID" if word == "id" else word for word in name.split("_")))


# Text


def clean_text(data: Mapping[str, object], name: str, noun: str, lo: int, hi: int, errors: FieldErrors) -> str | None:
    """Validate a required plain-text field, trimming surrounding spaces.

    Args:
        noun: what the field is called in messages, e.g. ``title``.
    """
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(name, Code.REQUIRED, f"Enter a {noun}")
        return None
    if not isinstance(value, str):
        errors.add(name, Code.NOT_TEXT, f"{cap(noun)} must be text")
        return None
    value = value.strip()
    if bad_characters(value):
        errors.add(name, Code.BAD_CHARACTERS, f"{cap(noun)} must not contain control characters")
        return None
    if len(value) < lo:
        errors.add(name, Code.TOO_SHORT, f"{cap(noun)} must be {lo} characters or more")
    elif len(value) > hi:
        errors.add(name, Code.TOO_LONG, f"{cap(noun)} must be {hi} characters or fewer")
    else:
        return value
    return None


def clean_optional_text(data: Mapping[str, object], name: str, label: str, hi: int, errors: FieldErrors) -> str:
    """Validate an optional plain-text field; absent means empty."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, Code.NOT_TEXT, f"{cap(label)} must be text")
        return ""
    value = value.strip()
    if bad_characters(value):
        errors.add(name, Code.BAD_CHARACTERS, f"{cap(label)} must not contain control characters")
        return ""
    if len(value) > hi:
        errors.add(name, Code.TOO_LONG, f"{cap(label)} must be {hi} characters or fewer")
    return value


# Choices from reference lists


def clean_choice(
    data: Mapping[str, object],
    name: str,
    allowed: set[str],
    message: str,
    errors: FieldErrors,
    *,
    required: bool = True,
) -> str | None:
    """Validate a single choice from a reference list (missing or empty: None, an error if required)."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, Code.REQUIRED, message)
        return None
    if not isinstance(value, str) or value not in allowed:
        errors.add(name, Code.UNKNOWN_CHOICE, message)
        return None
    return value


def clean_choices(
    data: Mapping[str, object],
    name: str,
    allowed: set[str],
    message: str,
    errors: FieldErrors,
    *,
    required: bool,
) -> list[str] | None:
    """Validate a list of choices from a reference list, keeping their order without repeats."""
    value = data.get(name)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(name, Code.NOT_A_LIST, f"{field_label(name)} must be a list of codes")
        return None
    unknown = [v for v in value if v not in allowed]
    if unknown:
        errors.add(name, Code.UNKNOWN_CHOICE, f"{message} (not known: {', '.join(unknown[:5])})")
        return None
    if required and not value:
        errors.add(name, Code.REQUIRED, message)
        return None
    return list(dict.fromkeys(value))


# Dates


def parse_date(value: object, name: str, label: str, errors: FieldErrors, *, required: bool = False) -> date | None:
    """A date given as a ``date`` or ISO text (YYYY-MM-DD); blank is None (or an error when required).

    Args:
        label: the date's name in messages, e.g. ``the needed-by date``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(name, Code.REQUIRED, f"Enter {label}")
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            errors.add(name, Code.NOT_A_DATE, f"{cap(label)} must be a real date, like 2027-03-31")
            return None
    errors.add(name, Code.NOT_A_DATE, f"{cap(label)} must be a date, like 2027-03-31")
    return None


def clean_future_date(
    data: Mapping[str, object], name: str, label: str, today: date, errors: FieldErrors
) -> date | None:
    """Validate an optional date given as a ``date`` or ``YYYY-MM-DD``; it may not be in the past."""
    value = parse_date(data.get(name), name, f"the {label}" if not label.startswith("the ") else label, errors)
    if value is not None and value < today:
        errors.add(name, Code.IN_THE_PAST, f"{cap(label)} must be today or in the future")
        return None
    return value


# Numbers


@dataclass(frozen=True)
class Amount:
    """What a number field may hold and how its messages read."""

    label: str  # as it starts a sentence: "The quantity", "Capacity", "The contract value"
    example: str = "40"
    money: bool = False  # pounds: "£" may be typed, and messages say "£"
    zero_allowed: bool = False  # 0 is allowed (else it must be more than 0)
    maximum: Decimal = MAX_AMOUNT
    missing: str = ""  # the message when a required value is absent

    def say(self, value: Decimal) -> str:
        """``value`` as the messages write it."""
        return pounds(value) if self.money else number(value)


def clean_decimal(
    value: object, name: str, spec: Amount, errors: FieldErrors, *, required: bool = False
) -> Decimal | None:
    """A number with at most 2 decimal places within ``spec``'s range; blank is None (or an error when required).

    Accepts a ``Decimal`` or ``int`` (JSON numbers, as ``api.parsing.json_body`` reads them)
    or text as typed in a form or a spreadsheet (``1,200``; ``£1,200`` for money). Not-a-number
    and infinity are not numbers.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(name, Code.REQUIRED, spec.missing or f"Enter {spec.label[:1].lower()}{spec.label[1:]}")
        return None
    not_a_number = f"{spec.label} must be a number{' of pounds' if spec.money else ''}, like {spec.example}"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        errors.add(name, Code.NOT_A_NUMBER, not_a_number)
        return None
    text = str(value).strip().replace(",", "")
    if spec.money:
        text = text.removeprefix("£")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.add(name, Code.NOT_A_NUMBER, not_a_number)
        return None
    if not amount.is_finite():
        errors.add(name, Code.NOT_A_NUMBER, not_a_number)
        return None
    if spec.zero_allowed and not Decimal(0) <= amount <= spec.maximum:
        errors.add(
            name,
            Code.OUT_OF_RANGE,
            f"{spec.label} must be between {spec.say(Decimal(0))} and {spec.say(spec.maximum)}",
        )
        return None
    if not spec.zero_allowed and amount <= 0:
        errors.add(name, Code.OUT_OF_RANGE, f"{spec.label} must be more than {spec.say(Decimal(0))}")
        return None
    if amount > spec.maximum:
        errors.add(name, Code.OUT_OF_RANGE, f"{spec.label} must be {spec.say(spec.maximum)} or less")
        return None
    if amount != amount.quantize(PLACES):
        errors.add(
            name, Code.TOO_PRECISE, f"{spec.label} can have at most 2 decimal places{' (pence)' if spec.money else ''}"
        )
        return None
    return amount


# Ids and fields


def row_id(value: object) -> int | None:
    """An id sent as JSON: a whole number (not true or false), else None.

    One too large for the database's integer becomes 0, which no row has: "no such item",
    not an overflow inside the database driver.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -MAX_ID <= value <= MAX_ID else 0


def local_path(target: object) -> str | None:
    """A path on this site to come back to (``/needs/5?x=1``), or None for anything else.

    Only a path that starts with a single slash and names no scheme or host: a link to
    another site, or ``//evil.example``, would make sign-in an open redirect.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or len(target) > 2000:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def unknown_fields(data: Mapping[str, object], known: set[str], errors: FieldErrors) -> None:
    """Name fields a client sent that do not exist, so typos are not silently ignored."""
    for name in data:
        if name not in known:
            errors.add(name, Code.UNKNOWN_FIELD, "This field is not known or cannot be changed")
