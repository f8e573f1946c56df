"""Acceptance: in worlds with no planted effect (``--effect 0``, default selection bias), at
least 17 studies in 20 seeds report "no distinctive signal", and none releases a model.

Each world is small (10,000 people, about 40 case people) to keep the suite quick; a
permutation test's false-alarm rate does not depend on size, and at this size a world's
selection bias (known offenders are more often from deprived areas, whose behaviour differs
a little) stays below what the study can detect, as it should for a null world."""

from __future__ import annotations

from pathlib import Path

import pytest

from safehold.research.study import NO_SIGNAL, run_study
from safehold.synth.config import make_config
from safehold.synth.world import generate_world
from tests.research.conftest import write_prereg

pytestmark = pytest.mark.slow


def test_twenty_null_worlds_mostly_find_nothing_and_release_nothing(tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, folds=3, permutations=39, bootstrap=50)
    verdicts, released = [], []
    for seed in range(20):
        world = tmp_path / f"null-{seed}"
        config = make_config(
            people=10_000, seed=100 + seed, effect=0.0, conversations=0, contacts_per_account=0.0
        )
        generate_world(config, world)
        result = run_study(world, prereg)
        verdicts.append(result.summary["verdict"])
        released.append(result.gate.released)
    assert sum(v == NO_SIGNAL for v in verdicts) >= 17, verdicts
    assert not any(released)
