"""Small checks on text that arrives from people and programs."""

from __future__ import annotations

from marketplace.services.errors import ValidationFailed
from marketplace.validation import Code, has_bad_text


def refuse_nul(*values: object) -> None:
    """Raise a clear validation error when any value holds a NUL character (or a lone surrogate).

    No one types them, PostgreSQL cannot store them, and one reaching a query would turn
    bad input into a server error. ``marketplace.validation.has_bad_text`` is the rule.

    Raises:
        ValidationFailed: naming the problem.
    """
    if any(has_bad_text(value) for value in values):
        raise ValidationFailed(
            {"input": "Text must not contain NUL characters"},
            "Text must not contain NUL characters.",
            codes={"input": Code.BAD_CHARACTERS},
        )
