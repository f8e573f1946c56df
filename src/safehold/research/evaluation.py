"""Honest evaluation: out-of-fold predictions from grouped folds (no person's accounts on both
sides), leave-one-platform-out transfer, and person-level bootstrap intervals for every
figure, including the PPV that the pre-registered real-world prevalence implies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import LeaveOneGroupOut

from safehold.research.models import Matrix, ModelName, fit_predict

Vector = npt.NDArray[Any]


def grouped_folds(y: Vector, groups: Vector, folds: int, seed: int) -> Vector:
    """A fold per row: all of a person's accounts in one fold, cases and controls spread
    evenly over the folds (scikit-learn's StratifiedGroupKFold does the same, far slower)."""
    people, index = np.unique(groups, return_inverse=True)
    label = np.zeros(people.size, dtype=np.int64)
    np.maximum.at(label, index, y.astype(np.int64))
    rng = np.random.default_rng(seed)
    fold = np.empty(people.size, dtype=np.int64)
    for value in (0, 1):
        members = np.flatnonzero(label == value)
        fold[rng.permutation(members)] = np.arange(members.size) % folds
    return fold[index]


def out_of_fold(
    name: ModelName, x: Matrix, y: Vector, groups: Vector, folds: int, seed: int
) -> Matrix:
    """Each row's score from a model that never saw that person's accounts."""
    scores = np.zeros(y.size, dtype=np.float64)
    fold = grouped_folds(y, groups, folds, seed)
    for k in range(folds):
        test = fold == k
        scores[test] = fit_predict(name, seed, x[~test], y[~test], x[test])
    return scores


def leave_one_platform_out(
    name: ModelName, x: Matrix, y: Vector, platforms: Vector, seed: int
) -> dict[str, float | None]:
    """AUROC on each platform for a model trained on all the others (None: one class only)."""
    result: dict[str, float | None] = {}
    for train, test in LeaveOneGroupOut().split(x, y, platforms):
        platform = str(platforms[test[0]])
        if np.unique(y[test]).size < 2 or np.unique(y[train]).size < 2:
            result[platform] = None
            continue
        scores = fit_predict(name, seed, x[train], y[train], x[test])
        result[platform] = round(float(roc_auc_score(y[test], scores)), 4)
    return dict(sorted(result.items()))


def threshold_for_sensitivity(y: Vector, scores: Matrix, sensitivity: float) -> float:
    """The score at or above which the pre-registered share of cases is flagged."""
    return float(np.quantile(scores[y == 1], 1.0 - sensitivity, method="lower"))


def ppv_at_prevalence(sensitivity: float, fpr: float, prevalence: float) -> float:
    """Bayes' rule: of the flagged, the share that are cases when cases are ``prevalence``."""
    flagged = sensitivity * prevalence + fpr * (1 - prevalence)
    return float(sensitivity * prevalence / flagged) if flagged > 0 else 0.0


def _point(
    y: Vector, scores: Matrix, w: Vector, threshold: float, prevalence: float
) -> dict[str, float]:
    flag = scores >= threshold
    pos, neg = (y == 1), (y == 0)
    sens = float(w[pos & flag].sum() / w[pos].sum())
    fpr = float(w[neg & flag].sum() / w[neg].sum())
    ppv = ppv_at_prevalence(sens, fpr, prevalence)
    return {
        "auroc": float(roc_auc_score(y, scores, sample_weight=w)),
        "average_precision": float(average_precision_score(y, scores, sample_weight=w)),
        "brier": float(brier_score_loss(y, scores, sample_weight=w)),
        "sensitivity": sens,
        "false_positive_rate": fpr,
        "ppv_at_prevalence": ppv,
        "flags_per_true_case": (1.0 / ppv) if ppv > 0 else float("inf"),
    }


def person_bootstrap(groups: Vector, n_boot: int, seed: int) -> npt.NDArray[np.float64]:
    """Bootstrap weights, one row per draw: how often each row's person was drawn."""
    _, index = np.unique(groups, return_inverse=True)
    n_groups = int(index.max()) + 1
    rng = np.random.default_rng(seed)
    weights = np.empty((n_boot, groups.size), dtype=np.float64)
    for b in range(n_boot):
        weights[b] = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[index]
    return weights


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        return {
            "value": round(self.value, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
        }


def bootstrap_metrics(
    y: Vector,
    scores: Matrix,
    groups: Vector,
    threshold: float,
    prevalence: float,
    n_boot: int,
    seed: int,
) -> dict[str, Estimate]:
    """Point estimates with 95% intervals from resampling people (all their accounts at once)."""
    point = _point(y, scores, np.ones(y.size), threshold, prevalence)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for weights in person_bootstrap(groups, n_boot, seed):
        if weights[y == 1].sum() == 0 or weights[y == 0].sum() == 0:
            continue
        for k, v in _point(y, scores, weights, threshold, prevalence).items():
            draws[k].append(v)
    return {
        k: Estimate(point[k], float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975)))
        for k, d in draws.items()
    }


def calibration(y: Vector, scores: Matrix, bins: int = 10) -> dict[str, list[float]]:
    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    return {"predicted": [round(float(v), 4) for v in predicted],
            "observed": [round(float(v), 4) for v in observed]}  # fmt: skip


def roc_points(y: Vector, scores: Matrix, points: int = 60) -> dict[str, list[float]]:
    fpr, tpr, _ = roc_curve(y, scores)
    keep = np.unique(np.linspace(0, fpr.size - 1, min(points, fpr.size)).astype(int))
    return {"fpr": [round(float(v), 4) for v in fpr[keep]],
            "tpr": [round(float(v), 4) for v in tpr[keep]]}  # fmt: skip
