"""The demo's screening step on a small world: alerts with reasons, scored, stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from safehold.cli.console import console
from safehold.cli.demo_klaxon import run_klaxon
from safehold.klaxon.alert_files import read_alerts
from safehold.synth.config import make_config
from safehold.synth.world import generate_world


def test_the_demo_screens_every_platform_and_scores_the_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = tmp_path / "world"
    generate_world(make_config(people=4000, seed=11, conversations=10), world)
    with console.capture() as captured:
        run_klaxon(world, tmp_path)
    output = captured.get()
    assert "Alerts against the planted approaches" in output
    assert "The five most severe alerts" in output
    assert "  - the sender" in output or "  - contact" in output
    stored = [read_alerts(p) for p in sorted((tmp_path / "demo-klaxon").glob("*/alerts.parquet"))]
    assert len(stored) == 6
    assert sum(a.height for a in stored) > 0
    assert all((a["reasons"].list.len() >= 1).all() for a in stored)
