"""`safehold demo` end to end on a small world: it must keep working as the README says."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safehold.cli.main import app


def test_demo_generates_prepares_and_checks(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path), "--people", "2000"])
    assert result.exit_code == 0, result.output
    world = tmp_path / "demo-world"
    assert json.loads((world / "world.json").read_text())["counts"]["people"] == 2000
    assert (tmp_path / "coalition.key").stat().st_mode & 0o777 == 0o600
    assert (world / "exchange" / "police-1" / "registry_entries.parquet").exists()
    assert "Bayes-optimal AUROC" in result.output
    assert "none of the raw emails" in result.output
    # A second run reuses the key rather than replacing it.
    again = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path), "--people", "2000"])
    assert again.exit_code == 0, again.output
    assert "Using the coalition key" in again.output


def test_demo_refuses_impossible_sizes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path), "--people", "10"])
    assert result.exit_code == 2
    assert "people" in result.output
    assert not (tmp_path / "demo-world").exists()
