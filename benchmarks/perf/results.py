"""One benchmark figure beside its same-run yardstick, and how the suite prints them."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A goal from the performance issue, on the figure itself or on its ratio to the yardstick."""

    bound: float
    at_most: bool = True
    on_ratio: bool = False

    def met(self, value: float, ratio: float | None) -> bool:
        """Whether the figure (or its ratio) is on the right side of the bound."""
        measured = ratio if self.on_ratio else value
        if measured is None or math.isnan(measured):
            return False
        return measured <= self.bound if self.at_most else measured >= self.bound

    def describe(self, unit: str) -> str:
        """Plain words for the table and the JSON, like '<= 20 ms' or 'ratio >= 0.25'."""
        sign = "<=" if self.at_most else ">="
        if self.on_ratio:
            return f"ratio {sign} {self.bound:g}"
        return f"{sign} {self.bound:g} {unit}".strip()


@dataclass(frozen=True)
class Result:
    """A measured figure; `yardstick` is the same quantity for the reference measured in the same run."""

    name: str
    value: float
    unit: str
    yardstick: float | None = None
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        """The figure divided by its yardstick (how many times the reference), when there is one."""
        if self.yardstick is None or self.yardstick == 0:
            return None
        return self.value / self.yardstick

    @property
    def met(self) -> bool | None:
        """True or False against the target; None when the figure has no target."""
        return None if self.target is None else self.target.met(self.value, self.ratio)

    def as_json(self) -> dict[str, object]:
        """The shape `marketplace bench --json` prints for each figure."""
        return {
            "name": self.name,
            "value": _rounded(self.value),
            "unit": self.unit,
            "yardstick": None if self.yardstick is None else _rounded(self.yardstick),
            "ratio": None if self.ratio is None else _rounded(self.ratio),
            "target": None if self.target is None else self.target.describe(self.unit),
            "met": self.met,
        }


def _rounded(number: float) -> float:
    return round(number, 4) if abs(number) < 1000 else round(number, 1)


def results_json(results: Iterable[Result]) -> str:
    """`{"results": [...]}` as printed by `--json`."""
    return json.dumps({"results": [result.as_json() for result in results]}, indent=2)


def results_table(results: Iterable[Result]) -> str:
    """One plain-text table: each figure, its yardstick, the ratio, the target and whether it is met."""
    header = ("Figure", "Value", "Yardstick", "Ratio", "Target", "Met")
    rows = [header]
    for result in results:
        rows.append(
            (
                result.name,
                f"{_figure(result.value)} {result.unit}".strip(),
                "" if result.yardstick is None else f"{_figure(result.yardstick)} {result.unit}".strip(),
                "" if result.ratio is None else f"{result.ratio:.2f}",
                "" if result.target is None else result.target.describe(result.unit),
                {True: "yes", False: "NO", None: ""}[result.met],
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _figure(number: float) -> str:
    if number >= 100:
        return f"{number:,.0f}"
    if number >= 10:
        return f"{number:.1f}"
    return f"{number:.2f}"
