"""`safehold demo` end to end on a small world: it must keep working as the README says."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safehold.cli.main import app


def test_demo_generates_prepares_and_checks(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--data-dir", str(tmp_path), "--people", "2000", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    world = tmp_path / "demo-world"
    assert json.loads((world / "world.json").read_text())["counts"]["people"] == 2000
    assert (tmp_path / "coalition.key").stat().st_mode & 0o777 == 0o600
    assert (world / "exchange" / "police-1" / "registry_entries.parquet").exists()
    assert "Bayes-optimal AUROC" in result.output
    assert "none of the raw emails" in result.output
    assert "hash chain intact" in result.output
    assert "rank with average precision 1.00" in result.output
    # 2,000 people hold too few known offenders for a study: the demo says so and goes on.
    assert "Study skipped: only" in result.output
    _check_demo_hub(tmp_path)
    _check_demo_web(tmp_path, result.output)
    # The public transparency page has a release to show (the quarter so far).
    assert "Published transparency releases for" in result.output
    assert list((tmp_path / "demo-hub" / "transparency").glob("*Q*-to-date.json"))
    # A second run reuses the key rather than replacing it.
    again = CliRunner().invoke(
        app, ["demo", "--data-dir", str(tmp_path), "--people", "2000", "--no-serve"]
    )
    assert again.exit_code == 0, again.output
    assert "Using the coalition key" in again.output


def test_demo_refuses_impossible_sizes(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--data-dir", str(tmp_path), "--people", "10", "--no-serve"]
    )
    assert result.exit_code == 2
    assert "people" in result.output
    assert not (tmp_path / "demo-world").exists()


def _check_demo_hub(data_dir: Path) -> None:
    """The hub holds exactly what the members prepared, and the audit chain verifies."""
    import polars as pl
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from safehold.store import audit
    from safehold.store.database import make_engine
    from safehold.store.models import BatchRow, EnclaveRecordRow, RegistryEntryRow

    exchange = data_dir / "demo-world" / "exchange"
    prepared_files = list(exchange.glob("*/*.parquet"))
    registry_rows = sum(
        pl.scan_parquet(p).select(pl.len()).collect().item()
        for p in exchange.glob("*/registry_entries.parquet")
    )
    engine = make_engine(f"sqlite:///{data_dir / 'demo-hub' / 'hub.db'}")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(RegistryEntryRow)) == registry_rows
        assert session.scalar(select(func.count()).select_from(EnclaveRecordRow)) > 0
        assert session.scalar(select(func.count()).select_from(BatchRow)) >= len(prepared_files)
        assert audit.verify(session).ok
    engine.dispose()


def _check_demo_web(data_dir: Path, output: str) -> None:
    """The klaxon's alerts are in the hub's queue (pseudonymised), every role has a sign-in,
    and a platform reviewer signs in and sees their own platform's alerts only."""
    import re

    import polars as pl
    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from safehold.hub.app import create_app
    from safehold.hub.settings import HubSettings
    from safehold.store.database import make_engine
    from safehold.store.models import AlertRow

    hub_dir = data_dir / "demo-hub"
    url = f"sqlite:///{hub_dir / 'hub.db'}"
    engine = make_engine(url)
    with Session(engine) as session:
        stored = {(a.member_id, a.alert_id): a for a in session.scalars(select(AlertRow))}
    engine.dispose()
    raised = {
        (p.parent.name, alert_id)
        for p in (data_dir / "demo-klaxon").glob("*/alerts.parquet")
        for alert_id in pl.read_parquet(p)["alert_id"].to_list()
    }
    assert raised and set(stored) == raised
    sample = next(iter(stored.values()))
    assert sample.payload["sender"].startswith("account:1:")
    assert sample.member_id not in sample.payload["sender"], "no raw account id in the hub"
    assert "Not serving (--no-serve)" in output
    lines = [ln.split("\t") for ln in (hub_dir / "demo-sign-ins.txt").read_text().splitlines()]
    assert {ln[2] for ln in lines} >= {"platform", "police", "local_authority", "auditor"}
    username, password, _, member_id = next(ln for ln in lines if ln[2] == "platform")
    assert password in output
    app = create_app(HubSettings(data_dir=hub_dir, database_url=url))
    with TestClient(app) as client:
        form = client.get("/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        queue = client.post(
            "/signin",
            data={"username": username, "password": password, "csrf_token": token.group(1)},
        )
        assert queue.status_code == 200 and "Alert queue" in queue.text
        shown = set(re.findall(r'data-href="/alerts/([0-9a-f]+)"', queue.text))
        mine = {a for m, a in stored if m == member_id}
        assert shown and shown <= mine
