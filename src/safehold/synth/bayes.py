"""The best separation any model could reach in this world, for the research study to be
judged against: exact from the generator's Gaussian model, and checked on the sample."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from safehold.synth.behaviour_model import covariance


def bayes_auroc(shift: npt.NDArray[np.float64]) -> float:
    """AUROC of the true likelihood ratio between N(0, S) and N(shift, S): Phi(Delta / sqrt 2),
    Delta being the Mahalanobis length of the shift. Exact on the latent scale; the observed
    features are monotone (partly rounded) transforms of it, so this is an upper bound for them."""
    delta2 = float(shift @ np.linalg.solve(covariance(), shift))
    return 0.5 * (1.0 + math.erf(math.sqrt(delta2) / 2.0))


def rank_auroc(cases: npt.NDArray[np.floating], controls: npt.NDArray[np.floating]) -> float:
    """Mann-Whitney AUROC with ties counted half."""
    if cases.size == 0 or controls.size == 0:
        return float("nan")
    values = np.concatenate([cases, controls])
    order = values.argsort(kind="mergesort")
    # Tied values share the mean of the ranks they span.
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    u = ranks[: cases.size].sum() - cases.size * (cases.size + 1) / 2.0
    return float(u / (cases.size * controls.size))


def sample_bayes_auroc(
    residual: npt.NDArray[np.float32],
    shift: npt.NDArray[np.float64],
    cases: npt.NDArray[np.bool_],
    controls: npt.NDArray[np.bool_],
) -> float:
    """AUROC of the true log-likelihood ratio on the generated accounts."""
    if not shift.any():
        return 0.5
    weights = np.linalg.solve(covariance(), shift).astype(np.float32)
    score = residual @ weights
    return rank_auroc(score[cases], score[controls])
