from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from safehold.research.cohort import MATCH_ON, build_cohort
from safehold.research.errors import StudyError
from safehold.research.evaluation import grouped_folds, ppv_at_prevalence
from safehold.research.prereg import Outcome
from safehold.research.world_data import load_study_inputs


def test_controls_are_matched_and_never_cases(strong_world: Path) -> None:
    inputs = load_study_inputs(strong_world, Outcome.CONVICTED_OFFENDER)
    cohort = build_cohort(inputs.accounts, ratio=3, folds=5, seed=1)
    frame = cohort.frame
    per_stratum = (
        frame.group_by([*MATCH_ON, "label"])
        .len()
        .pivot("label", index=list(MATCH_ON), values="len")
    )
    full = per_stratum.filter(
        ~pl.struct(MATCH_ON).is_in(
            pl.DataFrame(cohort.short_strata).select(MATCH_ON).to_struct().implode()
            if cohort.short_strata
            else pl.Series([], dtype=pl.Struct({c: pl.String for c in MATCH_ON})).implode()
        )
    )
    assert (full["0"] == 3 * full["1"]).all()
    case_people = set(frame.filter(pl.col("label") == 1)["person"])
    control_people = set(frame.filter(pl.col("label") == 0)["person"])
    assert case_people and not case_people & control_people
    # Sources are blinded: tokens name only the size band.
    assert set(frame["platform"]) <= {
        f"{b}-{i}" for b in ("large", "medium", "small") for i in (1, 2, 3)
    }


def test_too_few_cases_for_the_folds_and_single_class_are_refused(strong_world: Path) -> None:
    accounts = load_study_inputs(strong_world, Outcome.CONVICTED_OFFENDER).accounts
    few = accounts.filter(~pl.col("is_case") | (pl.col("person") < 2000))
    with pytest.raises(StudyError, match="case people for 20 folds"):
        build_cohort(few, ratio=2, folds=20, seed=0)
    with pytest.raises(StudyError, match="single-class"):
        build_cohort(accounts.with_columns(is_case=pl.lit(False)), ratio=2, folds=3, seed=0)


def test_grouped_folds_keep_each_person_in_one_fold_and_spread_cases() -> None:
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 500, 3000)
    y = (groups % 7 == 0).astype(int)
    fold = grouped_folds(y, groups, 5, seed=2)
    for g in np.unique(groups):
        assert np.unique(fold[groups == g]).size == 1
    case_people_per_fold = [np.unique(groups[(fold == k) & (y == 1)]).size for k in range(5)]
    assert max(case_people_per_fold) - min(case_people_per_fold) <= 1


def test_ppv_follows_bayes_rule() -> None:
    # 1% prevalence, half the cases caught, 10% of others flagged: 0.005 / (0.005 + 0.099).
    assert ppv_at_prevalence(0.5, 0.1, 0.01) == pytest.approx(0.005 / 0.104)
    assert ppv_at_prevalence(0.0, 0.0, 0.01) == 0.0


def test_missing_world_parts_are_named(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="not a folder"):
        load_study_inputs(tmp_path / "none", Outcome.CONVICTED_OFFENDER)
    (tmp_path / "members").mkdir()
    with pytest.raises(StudyError, match=r"neither world\.json nor enclave\.json"):
        load_study_inputs(tmp_path, Outcome.CONVICTED_OFFENDER)
    (tmp_path / "world.json").write_text("{}")
    with pytest.raises(StudyError, match="no platform member"):
        load_study_inputs(tmp_path, Outcome.CONVICTED_OFFENDER)
