"""A released model's scores as klaxon flags, and the model's part in each alert: the
accounts flagged for review become model flags, an alert they fire carries the model's band,
score, reasons and version to the hub, and the hub's monitoring counts it under that
version."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.hub.monitoring import NO_MODEL, alert_fact
from safehold.klaxon.engine import screen
from safehold.klaxon.model_flags import (
    ModelScoresError,
    model_flags_from_scores,
    with_model_context,
)
from safehold.klaxon.rules import load_rules
from safehold.klaxon.webhook import alert_body
from safehold.store.models import AlertRow
from safehold.synth.config import make_config
from safehold.synth.world import generate_world
from tests.conftest import sqlite_url
from tests.hub.conftest import make_hub
from tests.klaxon.builders import T0, event, flags, hours, prepared

VERSION = "0123456789ab"


def _scores(path: Path, rows: list[tuple[str, float, str, str]], version: str = VERSION) -> Path:
    pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "score": [r[1] for r in rows],
            "band": [r[2] for r in rows],
            "reasons": [r[3] for r in rows],
            "model_version": [version] * len(rows),
        }
    ).write_csv(path)
    return path


def test_only_accounts_flagged_for_review_become_model_flags(tmp_path: Path) -> None:
    path = _scores(
        tmp_path / "scores.csv",
        [
            ("a1", 0.91, "flag for review", "night_share: contacts at night; fan_out: many"),
            ("a2", 0.10, "no flag", ""),
            ("a3", 0.75, "flag for review", ""),
        ],
    )
    senders, version = model_flags_from_scores(path)
    assert version == VERSION
    assert senders["account"].to_list() == ["a1", "a3"]
    assert set(senders["source"]) == {"model"} and set(senders["band"]) == {"high"}
    reasons = senders["reasons"].to_list()
    assert reasons[0] == [
        f"released model {VERSION} flags this account for review",
        "night_share: contacts at night",
        "fan_out: many",
    ]
    assert reasons[1] == [f"released model {VERSION} flags this account for review"]


def test_a_bad_scores_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    pl.DataFrame({"account_id": ["a"], "score": [0.5]}).write_csv(missing)
    with pytest.raises(ModelScoresError, match=r"missing column.*band"):
        model_flags_from_scores(missing)
    empty = tmp_path / "empty.csv"
    empty.write_text(
        "account_id,score,band,reasons,model_version\n"
        f"a1,0.9,flag for review,x,{VERSION}\na2,,no flag,,{VERSION}\n"
    )
    with pytest.raises(ModelScoresError, match="line 3: score is empty"):
        model_flags_from_scores(empty)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "account_id,score,band,reasons,model_version\n"
        f"a1,0.9,flag for review,x,{VERSION}\na2,0.9,flag for review,x,ffffffffffff\n"
    )
    with pytest.raises(ModelScoresError, match="2 model versions"):
        model_flags_from_scores(mixed)


def test_an_alert_the_model_fired_carries_its_band_score_reasons_and_version(
    tmp_path: Path,
) -> None:
    fs = flags(
        tmp_path / "flags",
        registry=("reg",),
        model={"modeled": "high", "quiet": "low"},
        model_version=VERSION,
    )
    rows = [event(s, f"kid-{s}", T0 + hours(i)) for i, s in enumerate(("reg", "modeled", "quiet"))]
    rules = load_rules()
    alerts = screen(prepared(rows), fs, rules)
    explained = with_model_context(alerts, fs, rules)
    assert explained.height == alerts.height and explained.drop("model").equals(alerts)
    by_sender = {r["sender"]: r["model"] for r in explained.iter_rows(named=True)}
    assert by_sender["reg"] is None  # a registry match: no model part
    assert by_sender["modeled"] == {
        "band": "high",
        "score": 0.9,
        "version": VERSION,
        "top_reasons": ["model band high"],
    }
    assert "quiet" not in by_sender  # band low does not fire the default rules


def test_the_hub_stores_the_model_part_and_monitoring_counts_it_by_version(
    tmp_path: Path,
) -> None:
    member = "plat-a"
    fs = flags(
        tmp_path / "flags", model={"modeled": "high"}, member_id=member, model_version=VERSION
    )
    rules = load_rules()
    alerts = with_model_context(
        screen(prepared([event("modeled", "kid", T0)]), fs, rules), fs, rules
    )
    hub = make_hub(tmp_path / "hub", sqlite_url(tmp_path))
    try:
        answer = hub.client.post(
            "/v1/alerts",
            content=alert_body(alerts),
            headers={**hub.headers(member=member), "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        body = json.loads(alert_body(alerts))
        body["alerts"][0]["model"]["version"] = "not-a-version"
        refused = hub.client.post("/v1/alerts", json=body, headers=hub.headers(member=member))
        assert refused.status_code == 422
        with hub.session() as session:
            row = session.scalars(select(AlertRow)).one()
        assert row.payload["model"]["version"] == VERSION
        fact = alert_fact(row.alert_id, row.member_id, row.created_at, row.status, row.payload)
        assert fact.model_version == VERSION != NO_MODEL
    finally:
        hub.client.close()
        hub.engine.dispose()


def test_klaxon_flags_takes_member_scores(tmp_path: Path) -> None:
    world = tmp_path / "world"
    generate_world(make_config(people=1500, seed=5, conversations=0), world)
    member = "plat-large-1"
    accounts = pl.read_parquet(world / "members" / member / "accounts.parquet")["account_id"]
    scores = _scores(
        tmp_path / "scores.csv",
        [(a, 0.95, "flag for review", "fan_out: many") for a in accounts.head(3).to_list()],
    )
    out = tmp_path / "flags"
    result = CliRunner().invoke(
        app,
        ["klaxon", "flags", "--world", str(world), "--member", member, "--out", str(out),
         "--model-scores", str(scores)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"model {VERSION} flags 3 of the senders" in " ".join(result.output.split())
    manifest = json.loads((out / "flags.json").read_text())
    assert manifest["model_version"] == VERSION
    written = pl.read_parquet(out / "sender_flags.parquet").filter(pl.col("source") == "model")
    assert sorted(written["account"].to_list()) == sorted(accounts.head(3).to_list())
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id\nx\n")
    refused = CliRunner().invoke(
        app,
        ["klaxon", "flags", "--world", str(world), "--member", member, "--out",
         str(tmp_path / "other"), "--model-scores", str(bad)],
    )  # fmt: skip
    assert refused.exit_code != 0 and "missing column" in refused.output
    assert not (tmp_path / "other").exists()
