"""Web UI fixtures: a hub (tests.hub.conftest) with users per role, signed-in clients, and
synthetic alerts for the platform members."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safehold.store.alerts import NewAlert, add_alerts
from safehold.store.models import AlertRow
from safehold.store.users import add_user
from tests.conftest import skipped_because
from tests.databases import sqlite_url

if TYPE_CHECKING:
    from playwright.sync_api import Browser
from tests.hub.conftest import ROLE_MEMBER, Hub, make_hub

PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class SignedIn:
    """A TestClient with a live session, and the CSRF token its pages carry."""

    client: TestClient
    csrf: str
    username: str

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        form = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


def add_web_user(
    hub: Hub, username: str, role: str, member_id: str | None = None, password: str = PASSWORD
) -> int:
    """A user of ``member_id`` (default: the role's member in tests.hub.conftest)."""
    member = member_id if member_id is not None else ROLE_MEMBER[role]
    with Session(hub.engine) as session, session.begin():
        return add_user(session, username, password, member, None if member else role).user_id


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(hub: Hub, username: str, password: str = PASSWORD) -> SignedIn:
    """A fresh client (own cookies) signed in as ``username`` through the real form."""
    client = TestClient(hub.client.app)
    page = client.get("/signin")
    assert page.status_code == 200
    answer = client.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    home = client.get("/", follow_redirects=True)
    return SignedIn(client, csrf_of(home.text), username)


def synthetic_alerts(
    hub: Hub, member_id: str, count: int = 3, sender: str = "email:1:" + "a" * 64
) -> list[str]:
    """Alerts shaped as the screening engine stores them, with conversation evidence that
    describes grooming patterns only (synthetic)."""
    alerts = [
        NewAlert(
            alert_id=hashlib.sha256(f"{member_id}/{sender}/{i}".encode()).hexdigest(),
            severity=5 - (i % 3),
            payload={
                "sender": sender,
                "recipient": f"username:1:{'c' * 60}{i:04d}",
                "window_start": "2026-11-30T00:00:00+00:00",
                "window_end": "2026-12-01T00:00:00+00:00",
                "rules": ["flagged_sender", "first_contact"] if i % 2 == 0 else ["fan_out"],
                "reasons": [f"synthetic reason {i}: sender contacted a child for the first time"],
                "rule_severities": [5, 2] if i % 2 == 0 else [4],
                "first_event_id": f"ev-{i}",
                "first_event_at": "2026-11-30T10:00:00+00:00",
                "last_event_at": "2026-11-30T22:00:00+00:00",
                "events": 3,
                "model": {"band": "high", "score": 0.91, "top_reasons": ["many new contacts"]},
                "evidence": [
                    {
                        "from": "sender",
                        "sent_at": "2026-11-30T10:00:00+00:00",
                        "text": "this is our secret, do not tell your parents",
                        "pattern": "secrecy",
                    },
                    {
                        "from": "sender",
                        "sent_at": "2026-11-30T10:05:00+00:00",
                        "text": "let's move to another app",
                        "pattern": "moving off-platform",
                    },
                ],
            },
        )
        for i in range(count)
    ]
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with Session(hub.engine) as session, session.begin():
        add_alerts(session, member_id, alerts)
        for i, alert in enumerate(alerts):  # oldest first: alert i was raised i minutes in
            row = session.get(AlertRow, alert.alert_id)
            assert row is not None
            row.created_at = start + timedelta(minutes=i)
    return [a.alert_id for a in alerts]


@pytest.fixture
def web_hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub on SQLite (web behaviour does not depend on the database)."""
    built = make_hub(tmp_path, sqlite_url(tmp_path))
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()


# --- a real browser (Debian's Chromium, driven by Playwright) ---------------------------

CHROMIUM = Path(os.environ.get("SAFEHOLD_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-results" / "screenshots"
NO_CHROMIUM = "Chromium is not installed at"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Chromium from the system's packages (browsers are never downloaded). Missing:
    the test is skipped loudly, or fails under SAFEHOLD_REQUIRE_SERVICES=1 (CI)."""
    if not CHROMIUM.exists():
        message = f"{NO_CHROMIUM} {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("SAFEHOLD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} and SAFEHOLD_REQUIRE_SERVICES=1")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = skipped_because(terminalreporter, NO_CHROMIUM)
    if skipped:
        terminalreporter.write_sep(
            "!",
            f"{len(skipped)} BROWSER TESTS SKIPPED: Chromium not installed",
            red=True,
            bold=True,
        )
        for line in skipped:
            terminalreporter.write_line(f"  {line}")


@dataclass
class LiveHub:
    """A hub served by uvicorn on 127.0.0.1, with users and synthetic alerts."""

    url: str
    hub: Hub
    alerts: dict[str, list[str]]


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    from safehold.cli.background_server import serving

    directory = tmp_path_factory.mktemp("live-hub")
    hub = make_hub(directory, sqlite_url(directory))
    for name, role, member in (
        ("rita", "platform", "plat-a"),
        ("sam", "platform", "plat-a"),
        ("bea", "platform", "plat-b"),
        ("audrey", "auditor", None),
    ):
        add_web_user(hub, name, role, member)
    alerts = {
        "plat-a": synthetic_alerts(hub, "plat-a", count=5),
        "plat-b": synthetic_alerts(hub, "plat-b", count=2, sender="email:1:" + "b" * 64),
    }
    try:
        with serving(hub.client.app) as url:  # type: ignore[arg-type]
            yield LiveHub(url, hub, alerts)
    finally:
        hub.engine.dispose()
