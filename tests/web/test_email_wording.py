"""One word for email everywhere people read it: "email", as the GOV.UK style guide writes it.

Pages, messages, the emails themselves and the command line's help all say "email"; API
field names and routes were always ``email`` and stay as they are.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
from click.testing import CliRunner

from marketplace.cli import main
from tests.conftest import PASSWORD
from tests.web.conftest import emails_to

ROOT = Path(__file__).resolve().parents[2]
HYPHENATED = re.compile(r"e-mail", re.IGNORECASE)
_LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _read_by_people(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of a module that are not docstrings or log messages (those are for developers)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        documented = isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body
        if documented and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            hidden.add(id(body[0].value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "log"
            and node.func.attr in _LOG_CALLS
        ):
            hidden.update(id(sub) for arg in node.args for sub in ast.walk(arg))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in hidden
    ]


def test_no_template_says_e_mail():
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if HYPHENATED.search(line)
    ]
    assert found == []


def test_no_message_or_email_text_says_e_mail():
    found = []
    for path in sorted((ROOT / "marketplace").rglob("*.py")):
        if "migrations" in path.parts:
            continue  # the schema's history, never shown
        for node in _read_by_people(ast.parse(path.read_text(encoding="utf-8"))):
            if HYPHENATED.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    assert found == []


def test_no_command_help_says_e_mail():
    runner = CliRunner()
    commands = [[]] + [[name] for name in main.commands]
    commands += [[group, name] for group, command in main.commands.items() if isinstance(command, click.Group)
                 for name in command.commands]  # fmt: skip
    for words in commands:
        result = runner.invoke(main, [*words, "--help"])
        assert result.exit_code == 0, result.output
        assert not HYPHENATED.search(result.output), (words, result.output)


def test_the_confirmation_email_and_the_page_it_leads_to_say_email(browser, session):
    form = {"role": "community", "organisation_name": "Blaby Book Club", "name": "Robin Ash",
            "email": "robin@example.org", "password": PASSWORD, "password_confirmation": PASSWORD}  # fmt: skip
    browser.submit("/register", form)
    (mail,) = emails_to(session, "robin@example.org")
    assert mail.subject == "Confirm your email address"
    assert not HYPHENATED.search(mail.body)
    link = re.search(r"https?://\S+/confirm-email/\S+", mail.body).group(0)
    page = browser.client.get(link).get_data(as_text=True)
    assert "Your email address is confirmed" in page and not HYPHENATED.search(page)
