"""Numbers, amounts and counts in words, the one way pages, e-mails, messages and CSV files say them.

``amount(480, "£ of market rent")`` is "£480 of market rent", ``amount(2, "hour")`` is
"2 hours", ``count(1, "row")`` is "1 row" and ``a_or_an("officer")`` is "an officer".
Nothing here imports Flask or the database, so services use it as freely as templates.
"""

from __future__ import annotations

from decimal import Decimal

# Plurals that adding "s" gets wrong, for the units and nouns the marketplace uses.
_IRREGULAR = {"person": "people", "child": "children", "day of use": "days of use", "tonne CO2e": "tonnes CO2e"}


def number(value: Decimal | float | int) -> str:
    """A number with thousands separators and no needless decimals: 2,000 or 16.93."""
    text = f"{Decimal(str(value)):,.2f}"
    return text[:-3] if text.endswith(".00") else text


def plural(noun: str, n: Decimal | float | int) -> str:
    """``noun`` as it reads after the number ``n``: hour, hours; week of use, weeks of use."""
    if Decimal(str(n)) == 1:
        return noun
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    first, space, rest = noun.partition(" ")
    if first.endswith("s") or not first:
        return noun
    if first.endswith(("ch", "sh", "x", "z")):
        first += "es"
    elif first.endswith("y") and first[-2:-1] not in ("a", "e", "i", "o", "u"):
        first = first[:-1] + "ies"
    else:
        first += "s"
    return f"{first}{space}{rest}"


def count(n: int, noun: str) -> str:
    """A whole count with its noun: 1 row, 2 rows, 1,000 problems."""
    return f"{n:,} {plural(noun, n)}"


def amount(value: Decimal | float | int, unit: str) -> str:
    """An amount in a measure's unit, as a person would say it: £480 of market rent, 1 hour, 40 hours.

    A unit that starts with £ is money: the sign goes before the number.
    """
    if unit.startswith("£"):
        return f"£{number(value)}{unit[1:]}"
    return f"{number(value)} {plural(unit, value)}".rstrip()


def pounds(value: Decimal | float | int) -> str:
    """A sum of money: £1,200 or £16.93."""
    return f"£{number(value)}"


def a_or_an(noun: str) -> str:
    """The noun with its indefinite article: an officer, a supplier, a community group."""
    article = "an" if noun[:1].lower() in ("a", "e", "i", "o", "u") else "a"
    return f"{article} {noun}"
