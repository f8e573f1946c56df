"""Bad input through `safehold research run`: each a clear error naming the input and the
fix, exit code 2, and no output folder at all (nothing half-written)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from tests.research.conftest import write_prereg

pytestmark = pytest.mark.slow


def _run(world: Path, prereg: Path, out: Path) -> Any:
    return CliRunner().invoke(
        app,
        ["research", "run", "--world", str(world), "--prereg", str(prereg), "--out", str(out)],
    )


def _refused(world: Path, prereg: Path, tmp_path: Path, *expected: str) -> None:
    out = tmp_path / "out"
    result = _run(world, prereg, out)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for words in expected:
        assert words in text, text
    assert not out.exists(), "nothing may be written when the study refuses"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")], "no staging left"


def test_missing_prereg(strong_world: Path, tmp_path: Path) -> None:
    _refused(strong_world, tmp_path / "absent.yaml", tmp_path, "absent.yaml", "not found")


def test_feature_not_in_the_data_dictionary(strong_world: Path, tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, features=["messages_sent", "shoe_size"])
    _refused(strong_world, prereg, tmp_path, "shoe_size", "not in the data dictionary")


def test_too_few_cases_for_the_folds(strong_world: Path, tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, folds=20)
    world = tmp_path / "world"
    shutil.copytree(strong_world, world)
    truth = world / "truth" / "justice_records.parquet"
    pl.read_parquet(truth).head(12).write_parquet(truth)  # a dozen records: too few people
    _refused(world, prereg, tmp_path, "case people for 20 folds", "fewer folds")


def test_single_class_label(strong_world: Path, tmp_path: Path) -> None:
    world = tmp_path / "world"
    shutil.copytree(strong_world, world)
    truth = world / "truth" / "justice_records.parquet"
    pl.read_parquet(truth).clear().write_parquet(truth)  # no case at all
    _refused(world, write_prereg(tmp_path), tmp_path, "single-class")
