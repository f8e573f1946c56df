"""Web UI fixtures: a hub (tests.hub.conftest) with users per role, signed-in clients, and
synthetic alerts for the platform members."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safehold.store.alerts import NewAlert, add_alerts
from safehold.store.models import AlertRow
from safehold.store.users import add_user
from tests.databases import sqlite_url
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
