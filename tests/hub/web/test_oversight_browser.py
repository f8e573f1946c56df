"""Oversight pages in a real browser (Debian's Chromium through Playwright) against a hub
served on 127.0.0.1 with synthetic data: the public transparency page shows DP figures with
their epsilon without signing in; a local authority records support on a referral; the
monitoring page warns below the pre-registered minimum. Wide and narrow; screenshots go to
test-results/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from safehold.hub.transparency import Quarter, publish
from safehold.hub.web.session import SESSION_COOKIE
from safehold.store.referrals import store_referral
from tests.databases import sqlite_url
from tests.hub.conftest import Hub, make_hub
from tests.hub.web.conftest import PASSWORD, SCREENSHOTS, add_web_user
from tests.hub.web.test_cases_pages import _referral
from tests.hub.web.test_monitoring_page import _alerts, released_model

WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


@dataclass
class LiveOversight:
    url: str
    hub: Hub
    referral: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveOversight]:
    from safehold.cli.background_server import serving
    from safehold.exchange.model_version import model_version

    directory: Path = tmp_path_factory.mktemp("oversight-hub")
    folder = released_model(directory / "model", minimum_ppv=0.5)
    hub = make_hub(directory, sqlite_url(directory), model_dirs=(folder,))
    _alerts(hub, "plat-a", model_version(folder), confirmed=2, dismissed=18)
    with Session(hub.engine) as session, session.begin():
        referral = store_referral(session, "police-1", _referral("r-live", "la-1")).case_id
    with Session(hub.engine) as session:
        publish(session, directory, Quarter(2026, 3), now=datetime(2026, 12, 1, tzinfo=UTC))
    add_web_user(hub, "sally", "local_authority")
    add_web_user(hub, "rita", "platform")
    try:
        with serving(hub.client.app) as url:  # type: ignore[arg-type]
            yield LiveOversight(url, hub, referral)
    finally:
        hub.client.close()
        hub.engine.dispose()


@pytest.fixture
def new_page(chromium: Browser) -> Iterator[object]:
    contexts = []

    def make(viewport: dict[str, int] = WIDE) -> Page:
        context = chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _fits(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _sign_in(page: Page, live: LiveOversight, username: str, target: str) -> None:
    page.goto(live.url + target)
    expect(page).to_have_url(re.compile(r"/signin"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".username")).to_have_text(username)


@pytest.mark.slow
@pytest.mark.parametrize(("viewport", "name"), [(WIDE, "wide"), (NARROW, "narrow")])
def test_transparency_shows_dp_figures_with_their_epsilon_without_sign_in(
    live: LiveOversight, new_page: object, viewport: dict[str, int], name: str
) -> None:
    page: Page = new_page(viewport)  # type: ignore[operator]
    page.goto(live.url + "/transparency")
    expect(page).to_have_url(live.url + "/transparency")  # no sign-in redirect
    assert not any(c["name"] == SESSION_COOKIE for c in page.context.cookies())
    expect(page.get_by_role("heading", name="Transparency")).to_be_visible()
    release = page.locator("section.release[data-quarter='2026Q3']")
    expect(release).to_be_visible()
    figures = release.locator("tr.figure")
    expect(figures).to_have_count(15)
    for label in ("registry checks", "alerts raised", "decisions: dismiss", "large platforms"):
        row = release.locator(f"tr.figure[data-label='{label}']")
        expect(row.locator(".value")).to_have_text(re.compile(r"^\d[\d,]*$"))
        expect(row.locator(".epsilon")).to_contain_text("ε = 0.5")
        expect(row.locator(".accuracy")).to_have_text(re.compile(r"^± \d+"))
    first = [figures.nth(i).locator(".value").inner_text() for i in range(15)]
    page.reload()
    assert [figures.nth(i).locator(".value").inner_text() for i in range(15)] == first
    _fits(page)
    _shot(page, f"transparency-{name}.png")


@pytest.mark.slow
def test_a_local_authority_records_support_in_the_browser(
    live: LiveOversight, new_page: object
) -> None:
    page: Page = new_page()  # type: ignore[operator]
    _sign_in(page, live, "sally", "/cases")
    expect(page.locator("#section-referral tr.row")).to_have_count(1)
    page.locator("#section-referral tr.row a").click()
    expect(page).to_have_url(live.url + f"/cases/{live.referral}")
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_label("liaison with the child's school").check()
    page.get_by_label(re.compile("^Note")).fill("Spoke with the designated safeguarding lead.")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status").filter(has_text="Support recorded.")).to_be_visible()
    expect(page.locator("#support-history")).to_contain_text("designated safeguarding lead")
    expect(page.locator("#case-status")).to_have_text("in progress")
    _shot(page, "case-support.png")


@pytest.mark.slow
@pytest.mark.parametrize(("viewport", "name"), [(WIDE, "wide"), (NARROW, "narrow")])
def test_monitoring_warns_below_the_preregistered_minimum(
    live: LiveOversight, new_page: object, viewport: dict[str, int], name: str
) -> None:
    page: Page = new_page(viewport)  # type: ignore[operator]
    _sign_in(page, live, "rita", "/monitoring")
    expect(page.locator("#precision-warning")).to_contain_text("below the pre-registered minimum")
    expect(page.locator("[data-figure='decided']")).to_have_text("20")
    expect(page.locator("#by-week svg.chart")).to_be_visible()
    _fits(page)
    _shot(page, f"monitoring-{name}.png")
