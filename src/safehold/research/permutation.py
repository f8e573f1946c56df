"""Is there any signal at all? The out-of-fold AUROC of the baseline model, against the same
figure with the case labels shuffled among people (each person keeps one label for all their
accounts). When the test does not reject, the study says "no distinctive signal"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from safehold.research.evaluation import Vector, out_of_fold
from safehold.research.models import Matrix, ModelName


@dataclass(frozen=True)
class PermutationResult:
    observed_auroc: float
    null_mean: float
    null_95th: float
    permutations: int
    p_value: float


def permutation_test(
    x: Matrix,
    y: Vector,
    groups: Vector,
    folds: int,
    permutations: int,
    seed: int,
    model: ModelName = "logistic",
) -> PermutationResult:
    observed = float(roc_auc_score(y, out_of_fold(model, x, y, groups, folds, seed)))
    people, index = np.unique(groups, return_inverse=True)
    person_label = np.zeros(people.size, dtype=y.dtype)
    person_label[index] = y
    rng = np.random.default_rng(seed + 1)
    null = np.empty(permutations)
    for i in range(permutations):
        shuffled = rng.permutation(person_label)[index]
        null[i] = roc_auc_score(shuffled, out_of_fold(model, x, shuffled, groups, folds, seed))
    p_value = (1.0 + float((null >= observed).sum())) / (1.0 + permutations)
    return PermutationResult(
        observed_auroc=observed,
        null_mean=float(null.mean()),
        null_95th=float(np.quantile(null, 0.95)),
        permutations=permutations,
        p_value=p_value,
    )
