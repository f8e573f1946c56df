"""A hub on a throwaway database (SQLite and PostgreSQL), with members and keys per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safehold.exchange import Member, MemberKind, SizeBand
from safehold.hub.app import create_app
from safehold.hub.settings import HubSettings
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member, issue_key

SETUP = Actor("test-setup", "operator")

MEMBERS: dict[str, Member] = {
    "plat-a": Member(
        member_id="plat-a", name="Platform A", kind=MemberKind.PLATFORM, size_band=SizeBand.LARGE
    ),
    "plat-b": Member(
        member_id="plat-b", name="Platform B", kind=MemberKind.PLATFORM, size_band=SizeBand.SMALL
    ),
    "police-1": Member(member_id="police-1", name="Police", kind=MemberKind.POLICE),
    "probation-1": Member(member_id="probation-1", name="Probation", kind=MemberKind.PROBATION),
    "court-1": Member(member_id="court-1", name="Court", kind=MemberKind.COURT),
    "la-1": Member(member_id="la-1", name="Local authority", kind=MemberKind.LOCAL_AUTHORITY),
    "research-1": Member(member_id="research-1", name="Research team", kind=MemberKind.RESEARCH),
}

ROLE_MEMBER: dict[str, str | None] = {
    "operator": None,
    "auditor": None,
    "platform": "plat-a",
    "police": "police-1",
    "probation": "probation-1",
    "court": "court-1",
    "local_authority": "la-1",
    "researcher": "research-1",
}
"""One member (or none, for coalition staff) per role, whose key the role's tests use."""


@dataclass
class Hub:
    """A running hub app plus API keys: ``keys[role]`` and ``member_keys[member_id]``."""

    client: TestClient
    engine: Engine
    settings: HubSettings
    keys: dict[str, str] = field(default_factory=dict)
    member_keys: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None = None, member: str | None = None) -> dict[str, str]:
        key = self.member_keys[member] if member else self.keys[str(role)]
        return {"Authorization": f"Bearer {key}"}

    def session(self) -> Session:
        return Session(self.engine)


def make_hub(data_dir: Path, database_url: str, **overrides: object) -> Hub:
    settings = HubSettings(data_dir=data_dir, database_url=database_url, **overrides)  # type: ignore[arg-type]
    engine = make_engine(database_url)
    app = create_app(settings, engine)
    hub = Hub(client=TestClient(app), engine=engine, settings=settings)
    with Session(engine) as session, session.begin():
        for member in MEMBERS.values():
            add_member(session, member, SETUP)
        for member_id in MEMBERS:
            hub.member_keys[member_id] = issue_key(session, SETUP, member_id).plaintext
        for role, member_id in ROLE_MEMBER.items():
            if member_id is None:
                hub.keys[role] = issue_key(session, SETUP, role=role).plaintext
            else:
                hub.keys[role] = hub.member_keys[member_id]
    return hub


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    built = make_hub(tmp_path, database_url)
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()
