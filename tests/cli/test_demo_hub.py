"""The demo's hub step, scored against the planted truth on a tiny world."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safehold.cli.demo_hub import registered_accounts, run_hub
from safehold.identity.prepare import prepare_member
from tests.client.worlds import make_tiny_world


def test_registry_checks_find_registered_people_and_nobody_else(tmp_path: Path) -> None:
    world = make_tiny_world(tmp_path)
    exchange = tmp_path / "exchange"
    for member_dir in sorted(world.members.iterdir()):
        prepare_member(member_dir, world.key, exchange / member_dir.name)
    run = run_hub(world.root / "world", exchange, tmp_path / "data", world.key)

    truth = registered_accounts(world.root / "world")
    assert truth.height > 0, "the tiny world must hold registered people with accounts"
    assert sum(c.registered for c in run.checks) == truth.height
    assert sum(c.found for c in run.checks) > 0
    assert all(c.false_matches == 0 for c in run.checks)
    assert all(c.found <= c.registered and c.matches == c.found for c in run.checks)
    assert all(r.acknowledged > 0 for r in run.submitted.values())
    registry_rows = sum(
        pl.read_parquet(p).height for p in exchange.glob("*/registry_entries.parquet")
    )
    assert run.stored["registry entries"] == registry_rows
    assert run.chain_ok and run.audit_events > len(run.submitted)


def test_registered_accounts_follow_registration_status(tmp_path: Path) -> None:
    world = make_tiny_world(tmp_path)
    root = world.root / "world"
    before = registered_accounts(root).height
    for path in root.glob("members/*/justice_records.parquet"):
        frame = pl.read_parquet(path).with_columns(status=pl.lit("expired"))
        frame.write_parquet(path)
    assert before > 0
    assert registered_accounts(root).height == 0
