"""Finding 13 of issue 12: one helper says quantities with their units and plurals."""

from __future__ import annotations

from decimal import Decimal

from marketplace.formatting import a_or_an, amount, count, number, plural, pounds


def test_amounts_in_money_units_put_the_pound_sign_first():
    assert amount(480, "£ of market rent") == "£480 of market rent"
    assert amount(Decimal("1200.5"), "£") == "£1,200.50"
    assert pounds(Decimal("16.93")) == "£16.93"


def test_amounts_in_other_units_agree_with_their_number():
    assert amount(2, "hour") == "2 hours"
    assert amount(1, "hour") == "1 hour"
    assert amount(Decimal("1.00"), "week") == "1 week"
    assert amount(Decimal("2.5"), "tonne CO2e") == "2.50 tonnes CO2e"
    assert amount(3, "day of use") == "3 days of use"
    assert amount(40, "hours") == "40 hours"


def test_counts_and_articles():
    assert count(1, "row") == "1 row"
    assert count(1000, "problem") == "1,000 problems"
    assert count(2, "person") == "2 people"
    assert count(3, "delivery") == "3 deliveries"
    assert a_or_an("officer") == "an officer"
    assert a_or_an("supplier") == "a supplier"
    assert plural("box", 2) == "boxes"
    assert number(Decimal("2000.00")) == "2,000"
