"""Behaviour features for every account, in the exchange format's units."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.exchange import behaviour_features
from safehold.synth.behaviour_model import (
    GROUP_FACTOR_LOADING,
    GROUPS,
    MODELS,
    deprivation_shift,
    group_index,
    loading_matrix,
    noise_scale,
    offender_shift,
    vulnerable_shift,
)
from safehold.synth.config import WorldConfig
from safehold.synth.population import Population


def latent_scores(
    config: WorldConfig,
    population: Population,
    person: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Returns (z, residual): z includes every shift; residual is z minus the demographic
    shifts, i.e. what distinguishes groups within a matched stratum (used for the Bayes check)."""
    people = population.people
    n_people = people.height
    group_factors = rng.standard_normal((n_people, len(GROUPS)), dtype=np.float32)
    z = population.traits[person] @ loading_matrix().T.astype(np.float32)
    z += GROUP_FACTOR_LOADING * group_factors[person][:, group_index()]
    z += rng.standard_normal(z.shape, dtype=np.float32) * noise_scale().astype(np.float32)
    offender = people["is_offender"].to_numpy()[person]
    vulnerable = people["is_vulnerable_child"].to_numpy()[person]
    z[offender] += offender_shift(config.effect).astype(np.float32)
    z[vulnerable] += vulnerable_shift(config.vulnerable_effect).astype(np.float32)
    residual = z.copy()
    child = people["is_child"].to_numpy()[person]
    step = ((3 - people["deprivation_quintile"].to_numpy()[person]) / 2.0).astype(np.float32)
    z[child] += np.array([m.child_shift for m in MODELS], dtype=np.float32)
    z += step[:, None] * deprivation_shift(config.selection_bias).astype(np.float32)
    return z, residual


def _transform(
    z: npt.NDArray[np.float32], config: WorldConfig
) -> dict[str, npt.NDArray[np.generic]]:
    columns: dict[str, npt.NDArray[np.generic]] = {}
    infos = {f.name: f for f in behaviour_features()}
    for j, model in enumerate(MODELS):
        x = model.mu + model.scale * z[:, j]
        info = infos[model.name]
        if model.transform == "count":
            value: npt.NDArray[np.generic] = np.maximum(np.floor(np.exp(x) - 0.5), 0)
        elif model.transform == "fraction":
            value = np.round(1.0 / (1.0 + np.exp(-x)), 4)
        elif model.transform == "positive":
            value = np.round(np.exp(x), 2)
        elif model.transform == "period_days":
            value = np.clip(
                np.round(config.period_days / (1.0 + np.exp(-x))), 1, config.period_days
            )
        elif model.transform == "account_days":
            value = np.round(np.exp(x)) + config.period_days
        else:  # pragma: no cover - guarded by the model table
            raise ValueError(f"unknown transform {model.transform}")
        value = np.clip(value, info.minimum, info.maximum)
        columns[model.name] = (
            value.astype(np.int32)
            if info.is_integer
            else value.astype(np.float64)  # 0.9004 stays 0.9004 on the wire
        )
    return columns


def generate_behaviour(
    config: WorldConfig, population: Population, accounts: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, npt.NDArray[np.float32]]:
    """Behaviour rows aligned with ``accounts``, and the residual latent scores (truth only)."""
    person = accounts["person_id"].to_numpy()
    z, residual = latent_scores(config, population, person, rng)
    people = population.people
    frame = pl.DataFrame(
        {
            "account_id": accounts["account_id"],
            "period_start": config.period_month,
            "period_days": np.full(person.size, config.period_days, dtype=np.int16),
            "age_band": accounts["age_band"],
            "sex": people["sex"].to_numpy()[person],
            "deprivation_quintile": people["deprivation_quintile"].to_numpy()[person],
            **_transform(z, config),
        }
    )
    return frame, residual
