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


def _keep_justice_records(world: Path, per_agency: int) -> None:
    """Cut each agency's justice records (what the study links from) and the truth to match."""
    kept = []
    for path in sorted((world / "members").glob("*/justice_records.parquet")):
        records = pl.read_parquet(path).head(per_agency)
        records.write_parquet(path)
        kept.append(records.select(pl.lit(path.parent.name).alias("member_id"), "record_id"))
    truth = world / "truth" / "justice_records.parquet"
    both = pl.read_parquet(truth).join(pl.concat(kept), on=["member_id", "record_id"], how="semi")
    both.write_parquet(truth)


def test_missing_prereg(strong_world: Path, tmp_path: Path) -> None:
    _refused(strong_world, tmp_path / "absent.yaml", tmp_path, "absent.yaml", "not found")


def test_feature_not_in_the_data_dictionary(strong_world: Path, tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, features=["messages_sent", "shoe_size"])
    _refused(strong_world, prereg, tmp_path, "shoe_size", "not in the data dictionary")


def test_too_few_cases_for_the_folds(strong_world: Path, tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, folds=20)
    world = tmp_path / "world"
    shutil.copytree(strong_world, world)
    _keep_justice_records(world, 6)  # a few records per agency: too few people to link
    _refused(world, prereg, tmp_path, "case people for 20 folds", "fewer folds")


def test_single_class_label(strong_world: Path, tmp_path: Path) -> None:
    """With no case to link, the outcome would have a single class: refused before any
    linkage (a cohort without case accounts is refused too: test_cohort_and_evaluation)."""
    world = tmp_path / "world"
    shutil.copytree(strong_world, world)
    _keep_justice_records(world, 0)
    _refused(
        world, write_prereg(tmp_path), tmp_path,
        "no convicted_offender cohort labels", "nothing to link the cases from",
    )  # fmt: skip
