"""The habit behind finding 1 of issue 12: a log call must never raise in production.

The suite logs at INFO through the JSON formatter (tests/conftest.py), so a call that runs in
a test and would raise does raise. This test also reads every ``extra=`` in the code, so a
reserved name is caught even in a branch no test reaches.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
ROOTS = [Path(__file__).parents[2] / name for name in ("marketplace", "matching", "search_index")]


def _extra_keys() -> list[tuple[str, int, str]]:
    found = []
    for root in ROOTS:
        for path in root.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                        for key in keyword.value.keys:
                            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                                found.append((str(path), node.lineno, key.value))
    return found


def test_the_code_logs_structured_fields():
    assert len(_extra_keys()) > 10  # the scan reads the calls it is meant to read


def test_no_log_call_uses_a_name_the_logging_module_reserves():
    clashes = [f"{path}:{line}: {key}" for path, line, key in _extra_keys() if key in RESERVED]
    assert clashes == []


def test_a_reserved_name_raises_at_info_as_it_would_in_production(app):
    # The app fixture configures logging as production does (another test may have changed it).
    log = logging.getLogger("marketplace.test")
    with pytest.raises(KeyError):
        log.info("bulk import", extra={"created": 3})
