"""The Content-Security-Policy allows no inline script, and the pages still work under it."""

from playwright.sync_api import Page, expect


def test_pages_run_their_scripts_with_no_policy_violation(page: Page, demo) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('Content Security Policy: ' + e.violatedDirective))"
    )
    for path in ("/", f"/needs/{demo.public_need}", "/search?q=room", "/forgot-password"):
        page.goto(path)
        # The GOV.UK body-class script ran (from a file), so components style themselves for JavaScript.
        expect(page.locator("body")).to_have_class("govuk-template__body js-enabled govuk-frontend-supported")
    assert violations == []
