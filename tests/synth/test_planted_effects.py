"""The planted offender and vulnerable-child effects are there when asked for and absent at 0.

Offenders are compared with controls matched on age band and sex (as the study will), so age
differences between the groups cannot masquerade as an effect."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from safehold.synth.accounts import generate_accounts
from safehold.synth.bayes import bayes_auroc, rank_auroc, sample_bayes_auroc
from safehold.synth.behaviour import generate_behaviour
from safehold.synth.behaviour_model import MODELS, offender_shift
from safehold.synth.config import make_config
from safehold.synth.population import generate_population
from safehold.synth.roster import platforms

FEATURES = [m.name for m in MODELS]


@cache
def _world(effect: float, vulnerable_effect: float) -> tuple[pl.DataFrame, npt.NDArray[np.float32]]:
    config = make_config(people=60_000, seed=11, effect=effect, vulnerable_effect=vulnerable_effect)
    rng = np.random.default_rng(11)
    population = generate_population(config, rng)
    accounts = generate_accounts(population, platforms(), rng)
    behaviour, residual = generate_behaviour(config, population, accounts, rng)
    truth = population.people.select(
        "person_id", "age_band", "sex", "is_child", "is_offender", "is_vulnerable_child"
    )
    frame = (
        behaviour.with_columns(accounts["person_id"])
        .drop("age_band", "sex")
        .join(truth, on="person_id", how="left", maintain_order="left")
    )
    return frame, residual


def _matched(
    frame: pl.DataFrame, case: str, pool: pl.Expr, seed: int = 3
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cases and an equal number of controls from the same age band and sex."""
    cases = frame.filter(pl.col(case))
    controls = frame.filter(pool & ~pl.col(case)).sample(fraction=1.0, shuffle=True, seed=seed)
    controls = controls.with_columns(rank=pl.int_range(pl.len()).over("age_band", "sex"))
    wanted = cases.group_by("age_band", "sex").len()
    controls = controls.join(wanted, on=["age_band", "sex"]).filter(pl.col("rank") < pl.col("len"))
    return cases, controls


def _z(auroc: float, n1: int, n2: int) -> float:
    """Normal approximation to the Mann-Whitney statistic, in standard errors from 0.5."""
    return (auroc - 0.5) / math.sqrt((n1 + n2 + 1) / (12.0 * n1 * n2))


def _feature_z(cases: pl.DataFrame, controls: pl.DataFrame) -> dict[str, float]:
    return {
        f: _z(
            rank_auroc(cases[f].to_numpy(), controls[f].to_numpy()), cases.height, controls.height
        )
        for f in FEATURES
    }


def test_offender_effect_is_present_when_planted() -> None:
    frame, _ = _world(0.5, 0.6)
    cases, controls = _matched(frame, "is_offender", ~pl.col("is_child"))
    assert cases.height > 300
    z = _feature_z(cases, controls)
    for model in MODELS:
        if model.offender == 0 or float((frame[model.name] == 0).mean()) > 0.8:
            continue  # counts that are mostly zero lose their power to ties; see the latent test
        needed = 4.0 if abs(model.offender) == 1 else 2.0
        seen = np.sign(model.offender) * z[model.name]
        assert seen > needed, f"{model.name}: planted effect not visible (z={z[model.name]:.1f})"
    unaffected = [m.name for m in MODELS if m.offender == 0]
    assert max(abs(z[n]) for n in unaffected) < 4


def test_latent_shift_equals_the_planted_effect_for_every_feature() -> None:
    frame, residual = _world(0.5, 0.6)
    offender = frame["is_offender"].to_numpy()
    controls = ~offender & ~frame["is_child"].to_numpy()
    expected = offender_shift(0.5)
    for j, model in enumerate(MODELS):
        a, b = residual[offender, j], residual[controls, j]
        se = math.sqrt(a.var() / a.size + b.var() / b.size)
        assert abs((a.mean() - b.mean()) - expected[j]) < 4 * se, model.name


def test_no_offender_effect_beyond_chance_at_zero() -> None:
    frame, _ = _world(0.0, 0.6)
    cases, controls = _matched(frame, "is_offender", ~pl.col("is_child"))
    z = _feature_z(cases, controls)
    # Bonferroni over all features at a family-wise 0.001: |z| > 4.0.
    assert max(abs(v) for v in z.values()) < 4.0, {
        k: round(v, 1) for k, v in z.items() if abs(v) > 3
    }


def test_vulnerable_child_effect_is_present_and_absent_at_zero() -> None:
    for effect, expect_signal in ((0.6, True), (0.0, False)):
        frame, _ = _world(0.5, effect)
        cases, controls = _matched(frame, "is_vulnerable_child", pl.col("is_child"))
        z = _feature_z(cases, controls)
        if expect_signal:
            assert z["night_activity_share"] > 4 and z["contact_age_gap_years"] > 4
        else:
            assert max(abs(v) for v in z.values()) < 4.0


@pytest.mark.parametrize("effect", [0.0, 0.25, 0.5])
def test_bayes_auroc_matches_the_sample(effect: float) -> None:
    frame, residual = _world(effect, 0.6)
    offender = frame["is_offender"].to_numpy()
    controls = ~offender & ~frame["is_child"].to_numpy()
    analytic = bayes_auroc(offender_shift(effect))
    sample = sample_bayes_auroc(residual, offender_shift(effect), offender, controls)
    assert abs(analytic - sample) < 0.03
    if effect == 0:
        assert analytic == 0.5
    else:
        assert analytic > 0.6


def test_bayes_auroc_grows_with_effect() -> None:
    values = [bayes_auroc(offender_shift(e)) for e in (0.0, 0.1, 0.3, 0.6, 1.0)]
    assert values == sorted(values) and values[0] == 0.5 and values[-1] < 1.0


def test_rank_auroc_handles_ties() -> None:
    assert rank_auroc(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.5
    assert rank_auroc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    rng = np.random.default_rng(0)
    cases, controls = rng.integers(0, 5, 300).astype(float), rng.integers(0, 4, 400).astype(float)
    pairwise = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
    assert rank_auroc(cases, controls) == pytest.approx(pairwise.mean(), abs=1e-12)


@pytest.mark.parametrize("bias", [0.0, 0.8])
def test_selection_bias_drives_who_is_known_not_who_offends(bias: float) -> None:
    config = make_config(people=400_000, seed=4, selection_bias=bias)
    people = generate_population(config, np.random.default_rng(4)).people.filter(
        ~pl.col("is_child")
    )
    by_quintile = (
        people.group_by("deprivation_quintile")
        .agg(
            offending=pl.col("is_offender").mean(),
            known=pl.col("known_offender").sum() / pl.col("is_offender").sum(),
            offenders=pl.col("is_offender").sum(),
        )
        .sort("deprivation_quintile")
    )
    offending = by_quintile["offending"].to_numpy()
    known = by_quintile["known"].to_numpy()
    n = by_quintile["offenders"].to_numpy()
    # Offending does not depend on deprivation, whatever the bias.
    assert offending.max() - offending.min() < 0.003
    se = math.sqrt(0.25 / n[0] + 0.25 / n[-1])
    gap = known[0] - known[-1]
    if bias == 0:
        assert abs(gap) < 4 * se
    else:
        assert gap > 0.3
