"""The demo's triage step with the demo hub: contacts checked, device cases pushed and one
safeguarding referral sent to the demo world's local authority, all through the HTTP API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.cli.demo_hub import run_hub
from safehold.cli.demo_triage import run_triage_demo
from safehold.identity.prepare import prepare_member
from safehold.store.database import make_engine
from safehold.store.models import AuditEventRow, CaseRow
from tests.client.worlds import make_tiny_world


@pytest.mark.slow
def test_the_triage_demo_writes_cases_and_a_referral_into_the_demo_hub(tmp_path: Path) -> None:
    world = make_tiny_world(tmp_path)
    exchange = tmp_path / "exchange"
    for member_dir in sorted(world.members.iterdir()):
        prepare_member(member_dir, world.key, exchange / member_dir.name)
    run = run_hub(world.root / "world", exchange, tmp_path, world.key)
    run_triage_demo(tmp_path, serious=1, others=2, seed=3, hub=run, world_dir=world.root / "world")

    engine = make_engine(f"sqlite:///{run.hub_dir / 'hub.db'}")
    try:
        with Session(engine) as session:
            cases = session.scalars(select(CaseRow)).all()
            actions = set(session.scalars(select(AuditEventRow.action)).all())
    finally:
        engine.dispose()
    devices = [c for c in cases if c.payload["kind"] == "device"]
    referrals = [c for c in cases if c.payload["kind"] == "referral"]
    assert len(devices) == 3 and {c.member_id for c in devices} == {"police-1"}
    assert all(c.priority == c.payload["summary"]["score"] for c in devices)
    assert len(referrals) == 1 and referrals[0].addressed_to == "la-1"
    assert {"cases.write", "cases.read", "referrals.write", "registry.check_contacts"} <= actions
    first = next(c for c in devices if c.payload["summary"]["device_id"] == "device-000")
    assert first.payload["summary"]["counts"]["registry_matches"] == 1, "the planted person"
    assert sum(c.payload["summary"]["counts"]["registry_matches"] for c in devices) == 1
