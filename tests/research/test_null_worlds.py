"""Acceptance: in worlds with no planted effect (``--effect 0``, default selection bias), at
least 17 studies in 20 seeds report "no distinctive signal", and none releases a model.

Each world is small (6,000 people, about 25 case people) to keep the suite quick, and the
worlds are studied two at a time in separate processes (a study is mostly single-threaded
Python and NumPy); a permutation test's false-alarm rate does not depend on size, and at
this size a world's selection bias (known offenders are more often from deprived areas,
whose behaviour differs a little) stays below what the study can detect, as it should for
a null world."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from safehold.research.study import NO_SIGNAL, run_study
from safehold.synth.config import make_config
from safehold.synth.world import generate_world
from tests.research.conftest import write_prereg

pytestmark = pytest.mark.slow


def _study_null_world(folder: Path, seed: int, prereg: Path) -> tuple[str, bool]:
    world = folder / f"null-{seed}"
    config = make_config(
        people=6_000, seed=100 + seed, effect=0.0, conversations=0, contacts_per_account=0.0
    )
    generate_world(config, world)
    result = run_study(world, prereg)
    return str(result.summary["verdict"]), result.gate.released


def test_twenty_null_worlds_mostly_find_nothing_and_release_nothing(tmp_path: Path) -> None:
    prereg = write_prereg(tmp_path, folds=3, permutations=39, bootstrap=50)
    workers = max(1, min(2, len(os.sched_getaffinity(0))))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_study_null_world, [tmp_path] * 20, range(20), [prereg] * 20))
    verdicts = [verdict for verdict, _ in results]
    assert sum(v == NO_SIGNAL for v in verdicts) >= 17, verdicts
    assert not any(released for _, released in results)
