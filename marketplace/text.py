"""Small checks on text that arrives from people and programs."""

from __future__ import annotations

from decimal import Decimal

from marketplace.services.errors import ValidationFailed


def contains_nul(value: object) -> bool:
    """True when a string, or any string inside a JSON-like value, holds a NUL character.

    No one types them, PostgreSQL cannot store them, and one reaching a query would turn
    bad input into a server error.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


def refuse_nul(*values: object) -> None:
    """Raise a clear validation error when any value holds a NUL character.

    Raises:
        ValidationFailed: naming the problem.
    """
    if any(contains_nul(value) for value in values):
        raise ValidationFailed(
            {"input": "Text must not contain NUL characters"}, "Text must not contain NUL characters."
        )


def number(value: Decimal | float | int) -> str:
    """A number with thousands separators and no needless decimals: 2,000 or 16.93."""
    text = f"{Decimal(str(value)):,.2f}"
    return text[:-3] if text.endswith(".00") else text


def amount(value: Decimal | float | int, unit: str) -> str:
    """An amount in a measure's unit, as a person would say it: £480 of market rent, 2.5 hours."""
    text = number(value)
    if unit.startswith("£"):
        return f"£{text}{unit[1:]}"
    first, _, rest = unit.partition(" ")
    if Decimal(str(value)) != 1 and not first.endswith("s"):
        first += "s"
    return f"{text} {first}{' ' + rest if rest else ''}"
