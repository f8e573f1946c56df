"""The klaxon on a small synthetic world, through the CLI: flags, screening, replay,
and the scores against the planted approaches."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.klaxon.alert_files import read_alerts
from safehold.synth.config import make_config
from safehold.synth.world import generate_world

runner = CliRunner()
MEMBER = "plat-large-1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("klaxon") / "world"
    generate_world(make_config(people=4000, seed=11, conversations=20), out)
    return out


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_screen_writes_alerts_with_reasons_and_a_replay_adds_none(
    world: Path, tmp_path: Path
) -> None:
    flags = tmp_path / "flags"
    _invoke(
        "klaxon", "flags", "--world", str(world), "--member", MEMBER, "--out", str(flags),
        "--conversations",
    )  # fmt: skip
    assert pl.read_parquet(flags / "conversation_risk.parquet").height > 0
    manifest = json.loads((flags / "flags.json").read_text())
    assert "synthetic" in manifest["provenance"]["registry"]
    events = world / "members" / MEMBER / "contact_events.parquet"
    out = tmp_path / "alerts.parquet"
    args = ("klaxon", "screen", str(events), "--flags", str(flags), "--out", str(out))
    first = _invoke(*args, "--now", "2026-04-01")
    alerts = read_alerts(out)
    assert alerts.height > 0
    assert f"{alerts.height:,} new" in first.replace("\n", " ")
    assert (alerts["reasons"].list.len() >= 1).all()
    assert alerts["alert_id"].n_unique() == alerts.height
    second = _invoke(*args, "--now", "2026-04-01")
    assert "0 new, 0 updated" in second.replace("\n", " ")
    assert read_alerts(out).equals(alerts)


def test_screen_refuses_skewed_events_and_bad_rules(world: Path, tmp_path: Path) -> None:
    flags = tmp_path / "flags"
    _invoke("klaxon", "flags", "--world", str(world), "--member", MEMBER, "--out", str(flags))
    events = world / "members" / MEMBER / "contact_events.parquet"
    out = tmp_path / "alerts.parquet"
    result = runner.invoke(
        app,
        [
            "klaxon",
            "screen",
            str(events),
            "--flags",
            str(flags),
            "--out",
            str(out),
            "--now",
            "2025-01-01",
        ],
    )
    assert result.exit_code == 2
    assert "too far in the future" in result.output
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nwindow: 7d\nalert_at: 0\nrules: []\n")
    result = runner.invoke(
        app,
        [
            "klaxon",
            "screen",
            str(events),
            "--flags",
            str(flags),
            "--out",
            str(out),
            "--rules",
            str(rules),
        ],
    )
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert not out.exists()


def test_the_world_command_scores_alerts_against_the_planted_truth(
    world: Path, tmp_path: Path
) -> None:
    output = _invoke("klaxon", "world", str(world), "--out", str(tmp_path / "run"))
    assert "recall" in output
    figures = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert figures["alerts_without_reason"] == 0
    # The default rules find most planted approaches with few false alerts on this world;
    # the bounds are loose on purpose (a small world), the exact figures are in the README.
    assert figures["recall"] >= 0.6
    assert figures["precision"] >= 0.6
    per_member = pl.concat(
        read_alerts(p) for p in sorted((tmp_path / "run").glob("*/alerts.parquet"))
    )
    assert per_member.height == figures["alerts"]
