"""The best separation any model could reach in this world, for the research study to be
judged against: exact from the generator's Gaussian model, and checked on the sample."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.special import ndtr, ndtri

from safehold.synth.behaviour_model import MODELS, covariance, deprivation_shift

Matrix = npt.NDArray[np.float64]


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


# The Bayes-optimal score on the features as published. Counts (and whole days in the
# period) are coarse: many accounts show 0 gift-card purchases, say, for quite different
# latent scores, so the latent ceiling above is out of any model's reach. Here the latent
# vector is read back from the published row: finely rounded features as points, counts as
# the interval of latent values that round to the published count, and the likelihood ratio
# of case against control integrates over those intervals (the GHK simulator, with the same
# random numbers for both hypotheses, so that the ratio is smooth).
_POINT_TRANSFORMS = frozenset({"fraction", "positive", "account_days"})
_FINE_FRACTION = 1e-4  # fractions are published to four decimals


def _latent_bounds(
    rows: pl.DataFrame,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(low, high, is_point) on the z scale, before demographic shifts, one column per
    feature in ``MODELS`` order; for point features low == high."""
    n = rows.height
    low = np.empty((n, len(MODELS)))
    high = np.empty((n, len(MODELS)))
    point = np.array([m.transform in _POINT_TRANSFORMS for m in MODELS])
    period = rows["period_days"].to_numpy().astype(np.float64)
    with np.errstate(divide="ignore"):
        for j, m in enumerate(MODELS):
            v = rows[m.name].to_numpy().astype(np.float64)
            if m.transform == "fraction":
                p = np.clip(v, _FINE_FRACTION / 2, 1 - _FINE_FRACTION / 2)
                lo = hi = np.log(p / (1 - p))
            elif m.transform == "positive":  # published to 2 decimals, seconds as integers
                lo = hi = np.log(np.maximum(v, 0.005) + (0.5 if v.dtype.kind == "i" else 0.0))
            elif m.transform == "account_days":
                lo = hi = np.log(np.maximum(v - period, 0.5))
            elif m.transform == "period_days":  # round(P * sigmoid(x)), clipped to 1..P
                a = np.where(v <= 1, 0.0, (v - 0.5) / period)
                b = np.where(v >= period, 1.0, (v + 0.5) / period)
                lo, hi = np.log(a / (1 - a)), np.log(b / (1 - b))
            else:  # count: max(floor(exp(x) - 0.5), 0)
                lo = np.where(v <= 0, -np.inf, np.log(v + 0.5))
                hi = np.log(v + 1.5)
            low[:, j] = (lo - m.mu) / m.scale
            high[:, j] = (hi - m.mu) / m.scale
    return low, high, point


def _demographic_shift(
    rows: pl.DataFrame, is_child: npt.NDArray[np.bool_], selection_bias: float
) -> Matrix:
    step = (3 - rows["deprivation_quintile"].to_numpy().astype(np.float64)) / 2.0
    child = np.array([m.child_shift for m in MODELS])
    deprivation = deprivation_shift(selection_bias)
    shift: Matrix = is_child[:, None] * child[None, :] + step[:, None] * deprivation[None, :]
    return shift


def _truncated_draws(lo: Matrix, hi: Matrix, u: Matrix) -> tuple[Matrix, Matrix]:
    """Standard-normal draws restricted to [lo, hi) by inversion, and log P(lo <= Z < hi);
    upper tails are handled by symmetry so that far-out intervals keep their precision."""
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    pa, pb = ndtr(a), ndtr(b)
    width = np.maximum(pb - pa, 1e-300)
    draw = ndtri(np.clip(pa + u * width, 1e-300, 1 - 1e-16))
    return np.where(flip, -draw, draw), np.log(width)


def _log_box_probability(
    mean: Matrix, chol: Matrix, low: Matrix, high: Matrix, u: npt.NDArray[np.float64]
) -> Matrix:
    """log P(low <= X < high) for X ~ N(mean, chol chol^T), one row per account, by GHK with
    the uniforms ``u`` (draws, dimensions)."""
    n, d = mean.shape
    draws = u.shape[0]
    eta = np.zeros((n, draws, d))
    log_p = np.zeros((n, draws))
    for j in range(d):
        centre = mean[:, j, None] + eta[:, :, :j] @ chol[j, :j]
        lo = (low[:, j, None] - centre) / chol[j, j]
        hi = (high[:, j, None] - centre) / chol[j, j]
        eta[:, :, j], log_w = _truncated_draws(lo, hi, np.broadcast_to(u[:, j], lo.shape))
        log_p += log_w
    top = log_p.max(axis=1)
    result: Matrix = top + np.log(np.exp(log_p - top[:, None]).mean(axis=1))
    return result


def observed_log_lr(
    rows: pl.DataFrame,
    shift: npt.NDArray[np.float64],
    is_child: npt.NDArray[np.bool_],
    selection_bias: float,
    draws: int = 128,
    seed: int = 0,
    chunk: int = 1_000,
) -> Matrix:
    """The Bayes-optimal score (log likelihood ratio, case against control) for published
    behaviour rows, under the generator's own model: what the best possible model of the
    published features would output. ``is_child`` says which rows carry the child shift, and
    ``selection_bias`` (the world's) sets the deprivation shift."""
    low, high, point = _latent_bounds(rows)
    demographic = _demographic_shift(rows, is_child, selection_bias)
    low -= demographic
    high -= demographic
    cov = covariance()
    o, c = np.flatnonzero(point), np.flatnonzero(~point)
    s_oo, s_co = cov[np.ix_(o, o)], cov[np.ix_(c, o)]
    gain = np.linalg.solve(s_oo, s_co.T).T  # regression of interval coords on point coords
    chol: Matrix = np.linalg.cholesky(cov[np.ix_(c, c)] - gain @ s_co.T).astype(np.float64)
    u = np.random.default_rng(seed).random((draws, c.size))
    precision_shift = np.linalg.solve(s_oo, shift[o])
    z_o = low[:, o]
    # Gaussian part: log N(z_o; shift_o, S_oo) - log N(z_o; 0, S_oo).
    result = z_o @ precision_shift - 0.5 * float(shift[o] @ precision_shift)
    for start in range(0, rows.height, chunk):
        part = slice(start, start + chunk)
        base = z_o[part] @ gain.T
        lo, hi = low[part][:, c], high[part][:, c]
        case = _log_box_probability(base + (shift[c] - gain @ shift[o]), chol, lo, hi, u)
        control = _log_box_probability(base, chol, lo, hi, u)
        result[part] += case - control
    return result
