"""Small populations and accounts from the real generators, for the component tests."""

from __future__ import annotations

import numpy as np

from safehold.synth.config import make_config
from safehold.synth.population import Population, generate_population


def small_population(
    n: int, *, seed: int, child_share: float, offender_rate: float, known_share: float
) -> Population:
    """A population with enough offenders (and known ones) for rates to be checked."""
    config = make_config(
        people=n,
        seed=seed,
        child_share=child_share,
        offender_rate=offender_rate,
        known_share=known_share,
        selection_bias=0.0,
    )
    return generate_population(config, np.random.default_rng(seed))
