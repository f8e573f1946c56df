"""JSON Schema export and the generated data dictionary."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.exchange.dictionary import render_data_dictionary
from safehold.exchange.schema_export import EXPORTED_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_schema_export_writes_one_file_per_type(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "export", str(tmp_path / "schemas")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert files == sorted(f"{t.__name__}.schema.json" for t in EXPORTED_TYPES)
    behaviour = json.loads((tmp_path / "schemas" / "BehaviourRecord.schema.json").read_text())
    assert behaviour["additionalProperties"] is False
    assert behaviour["$id"].endswith(":BehaviourRecord")
    night = behaviour["properties"]["night_activity_share"]
    assert night["x-unit"] == "fraction"


def test_data_dictionary_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert committed == render_data_dictionary(), (
        "docs/data-dictionary.md is stale: run `make dictionary`"
    )


def test_dictionary_check_command_detects_staleness(tmp_path: Path) -> None:
    stale = tmp_path / "dd.md"
    stale.write_text("# old\n")
    runner = CliRunner()
    assert (
        runner.invoke(app, ["schema", "dictionary", "--out", str(stale), "--check"]).exit_code == 1
    )
    assert runner.invoke(app, ["schema", "dictionary", "--out", str(stale)]).exit_code == 0
    assert (
        runner.invoke(app, ["schema", "dictionary", "--out", str(stale), "--check"]).exit_code == 0
    )
