"""Cases and matched controls: every case account, and ``ratio`` control accounts per case from
the general population in the same age band, sex and platform size band, so that the study
compares behaviour rather than demographics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from safehold.research.errors import StudyError

MATCH_ON: tuple[str, ...] = ("age_band", "sex", "size_band")


@dataclass
class Cohort:
    frame: pl.DataFrame  # the study table: cases and controls, ``label`` 1 for cases
    cases: int
    controls: int
    people: int
    short_strata: list[dict[str, object]] = field(default_factory=list)


def build_cohort(accounts: pl.DataFrame, ratio: int, folds: int, seed: int) -> Cohort:
    """Matched case-control cohort; refuses when there are too few cases for the folds."""
    cases = accounts.filter(pl.col("is_case"))
    if cases.is_empty():
        raise StudyError("no case accounts in the data: a single-class study cannot be run")
    case_people = cases["person"].n_unique()
    if case_people < 2 * folds:
        raise StudyError(
            f"only {case_people} case people for {folds} folds; use fewer folds or a larger world"
        )
    case_set = cases["person"].unique()
    pool = accounts.filter(~pl.col("person").is_in(case_set.implode()))
    rng = np.random.default_rng(seed)
    need = cases.group_by(MATCH_ON).len().sort(MATCH_ON)
    chosen: list[pl.DataFrame] = []
    short: list[dict[str, object]] = []
    for row in need.iter_rows(named=True):
        stratum = pool.filter(*(pl.col(c) == row[c] for c in MATCH_ON))
        want = ratio * int(row["len"])
        if stratum.height < want:
            short.append({**{c: row[c] for c in MATCH_ON}, "wanted": want, "found": stratum.height})
        take = rng.choice(stratum.height, size=min(want, stratum.height), replace=False)
        chosen.append(stratum[np.sort(take)])
    controls = pl.concat(chosen) if chosen else pool.clear()
    if controls.is_empty():
        raise StudyError("no matching controls found: a single-class study cannot be run")
    frame = (
        pl.concat([cases, controls])
        .with_columns(label=pl.col("is_case").cast(pl.Int8))
        .drop("is_case")
    )
    return Cohort(
        frame=frame,
        cases=cases.height,
        controls=controls.height,
        people=frame["person"].n_unique(),
        short_strata=short,
    )
