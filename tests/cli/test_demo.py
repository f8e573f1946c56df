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
