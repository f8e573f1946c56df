"""The issue's acceptance, in a real browser: headless Chromium (Debian's package, driven by
Playwright) against a hub served by uvicorn on 127.0.0.1 with synthetic alerts.

Screenshots of the queue and of an alert page, wide and narrow, go to
test-results/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.hub.web.conftest import PASSWORD, SCREENSHOTS, LiveHub

pytestmark = pytest.mark.slow

WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


@pytest.fixture
def page_factory(chromium: Browser) -> Iterator[object]:
    contexts = []

    def make(viewport: dict[str, int] = WIDE) -> Page:
        context = chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _sign_in(page: Page, live: LiveHub, username: str, target: str = "/") -> None:
    page.goto(live.url + target)
    expect(page).to_have_url(re.compile(r"/signin"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".username")).to_have_text(username)


def _no_horizontal_overflow(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_sign_in_claim_reveal_decide_and_find_it_in_the_audit_view(
    live_hub: LiveHub, page_factory: object
) -> None:
    make = page_factory
    page: Page = make()  # type: ignore[operator]
    _sign_in(page, live_hub, "rita", "/alerts")
    expect(page.get_by_role("heading", name=re.compile("Alert queue"))).to_be_visible()
    rows = page.locator("tr[data-row]")
    expect(rows).to_have_count(5)
    expect(page.locator(".keys")).to_contain_text("next alert")
    _shot(page, "queue.png")

    # keyboard: j selects the first (most severe, oldest) alert, Enter opens it
    first_href = rows.first.get_attribute("data-href")
    page.keyboard.press("j")
    expect(rows.first).to_have_class(re.compile("current"))
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_hub.url + str(first_href))
    alert_id = str(first_href).rsplit("/", 1)[1]

    evidence = page.locator("#evidence")
    expect(evidence).not_to_contain_text("our secret")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#claim")).to_contain_text("rita")
    page.get_by_role("button", name="Reveal evidence").click()
    expect(page.locator("#evidence")).to_contain_text("this is our secret")
    _shot(page, "alert-revealed.png")

    police = page.get_by_label("Police member (escalate)")
    expect(police).to_be_hidden()
    page.get_by_label("Escalate to police").check()
    expect(police).to_be_visible()
    page.get_by_label("Warn the sender").check()
    expect(police).to_be_hidden()
    page.get_by_label("Rationale (required)").fill("Synthetic review: secrecy and moving apps.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".decision .kind")).to_have_text("Warn the sender")
    expect(page.locator(".decision .dstatus")).to_have_text("final")

    auditor: Page = make()  # type: ignore[operator]
    _sign_in(auditor, live_hub, "audrey", "/audit")
    auditor.get_by_label("Action").fill("decision.")
    auditor.get_by_role("button", name="Search").click()
    row = auditor.locator("#audit tbody tr").filter(has_text="user:rita").first
    expect(row).to_contain_text("decision.record")
    expect(row).to_contain_text(alert_id[:24])
    expect(row).to_contain_text("Synthetic review: secrecy and moving apps.")
    auditor.get_by_role("button", name="Verify the hash chain").click()
    expect(auditor.locator("#verify-result")).to_contain_text("Chain intact")


def test_a_reviewer_of_another_member_sees_none_of_its_alerts(
    live_hub: LiveHub, page_factory: object
) -> None:
    page: Page = page_factory()  # type: ignore[operator]
    _sign_in(page, live_hub, "bea", "/alerts?status=all")
    listed = page.locator("tr[data-row]")
    expect(listed).to_have_count(2)
    hrefs = {listed.nth(i).get_attribute("data-href") for i in range(2)}
    assert hrefs == {f"/alerts/{a}" for a in live_hub.alerts["plat-b"]}
    for alert_id in live_hub.alerts["plat-a"][:2]:
        response = page.goto(f"{live_hub.url}/alerts/{alert_id}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name=re.compile("Not found"))).to_be_visible()


def test_a_form_posted_without_its_csrf_token_is_refused(
    live_hub: LiveHub, page_factory: object
) -> None:
    page: Page = page_factory()  # type: ignore[operator]
    alert_id = live_hub.alerts["plat-a"][-1]
    _sign_in(page, live_hub, "sam", f"/alerts/{alert_id}")
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())"
    )
    with page.expect_response(re.compile(r"/claim$")) as answer:
        page.get_by_role("button", name="Claim").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("security token")
    page.goto(f"{live_hub.url}/alerts/{alert_id}")
    expect(page.locator("#claim")).to_contain_text("Nobody is working this alert")


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "390x844"])
def test_pages_fit_the_screen_and_keep_their_controls(
    live_hub: LiveHub, page_factory: object, viewport: dict[str, int]
) -> None:
    page: Page = page_factory(viewport)  # type: ignore[operator]
    label = f"{viewport['width']}"
    _sign_in(page, live_hub, "sam", "/alerts")
    _no_horizontal_overflow(page)
    for control in (
        page.get_by_role("button", name="Filter"),
        page.get_by_role("button", name="Sign out"),
        page.locator("tr[data-row] a.open").first,
        page.get_by_role("button", name="Claim").first,
    ):
        expect(control).to_be_visible()
    _shot(page, f"queue-{label}.png")
    page.locator("tr[data-row] a.open").nth(1).click()
    expect(page.get_by_role("heading", name=re.compile("Why it was raised"))).to_be_visible()
    _no_horizontal_overflow(page)
    expect(page.get_by_role("button", name="Claim")).to_be_visible()
    expect(page.get_by_role("heading", name="Conversation evidence")).to_be_visible()
    _shot(page, f"alert-{label}.png")

    auditor: Page = page_factory(viewport)  # type: ignore[operator]
    _sign_in(auditor, live_hub, "audrey", "/audit")
    _no_horizontal_overflow(auditor)
    expect(auditor.get_by_role("button", name="Verify the hash chain")).to_be_visible()
    expect(auditor.get_by_role("button", name="Search")).to_be_visible()
    _shot(auditor, f"audit-{label}.png")
