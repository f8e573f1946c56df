"""The fairness audit's named disparity: the largest of all pairs, chosen after looking, so
its interval must hold for all pairs at once. Equal groups are rarely called different; a
planted difference is found."""

from __future__ import annotations

import numpy as np
import polars as pl

from safehold.research.evaluation import person_bootstrap
from safehold.research.fairness import audit_group


def _fpr_gap(fpr: list[float], seed: int, per_group: int = 1000) -> tuple[bool, str]:
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(fpr)), per_group)
    y = np.zeros(groups.size, dtype=np.int64)
    y[rng.choice(groups.size, size=groups.size // 10, replace=False)] = 1
    flags = np.where(
        y == 1, rng.random(groups.size) < 0.5, rng.random(groups.size) < np.array(fpr)[groups]
    )
    frame = pl.DataFrame({"group": [f"g{g}" for g in groups]})
    weights = person_bootstrap(np.arange(groups.size), 200, seed)
    audit = audit_group(frame, "group", y, flags, flags.astype(float), 0.01, 10, weights)
    gap = next(d for d in audit.disparities if d.measure == "false_positive_rate")
    return gap.significant, gap.high_group


def test_equal_groups_are_rarely_called_different() -> None:
    # Five equal groups: the max/min pair's unadjusted 95% interval excludes 1 in about a
    # third of studies; the simultaneous interval should do so at most 1 time in 20 (3 in 30 allows for chance).
    called = sum(_fpr_gap([0.15] * 5, seed)[0] for seed in range(30))
    assert called <= 3, called


def test_a_planted_disparity_is_found_and_named() -> None:
    found = [_fpr_gap([0.25, 0.15, 0.15, 0.15, 0.15], seed) for seed in range(3)]
    assert all(significant and high == "g0" for significant, high in found), found
