"""Held-out figures with bootstrap confidence intervals, computed from per-conversation
outcomes only (so the figures never depend on how the model works inside).

Why vectorised: every figure is a weighted sum over conversations, so one matrix of
bootstrap weights (how often each conversation is drawn in each resample) gives all the
resampled figures at once, and the point estimate is the same code with weights of one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import beta
from sklearn.metrics import roc_auc_score

HARD_NEGATIVE_PREFIX = "hard_negative_"
"""Generator kinds starting with this are benign conversations that share grooming words."""

Weights = NDArray[np.float64]
"""Shape (resamples, conversations): how often each conversation is drawn."""
Figure = Callable[[Weights], NDArray[np.float64]]
"""Weights -> one value per resample (NaN where the figure is undefined)."""


@dataclass(frozen=True)
class Outcome:
    """What the model did with one held-out conversation, next to its truth."""

    conversation_id: str
    fold: int
    family: str
    kind: str
    grooming: bool
    risk: float
    flagged: bool
    """The model's label at its default threshold was 'risk'."""
    messages_to_warning: int | None
    first_grooming_message: int
    """0-based index of the first grooming-stage message; -1 if none."""
    harm_message: int
    """0-based index of the first message of the harm stage (asking to meet); the number of
    messages when the conversation never reaches it."""
    n_messages: int

    @property
    def hard_negative(self) -> bool:
        return self.kind.startswith(HARD_NEGATIVE_PREFIX)

    @property
    def ordinary(self) -> bool:
        return not self.grooming and not self.hard_negative


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap 95% interval; None when undefined."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    """Conversations in the figure's denominator (for example all ordinary ones)."""
    exact_low: float | None = None
    exact_high: float | None = None
    """Clopper-Pearson 95% interval, for figures that are plain proportions: unlike the
    bootstrap it stays honest when there are no events at all (0 of n is not 'exactly 0')."""

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
        }
        if self.exact_low is not None or self.exact_high is not None:
            out["exact_low"], out["exact_high"] = self.exact_low, self.exact_high
        return out


def clopper_pearson(k: int, n: int, scale: float = 1.0) -> tuple[float | None, float | None]:
    """The exact binomial 95% interval for ``k`` events in ``n`` trials, times ``scale``."""
    if n <= 0:
        return None, None
    low = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return low * scale, high * scale


def bootstrap_weights(n: int, resamples: int, seed: int, chunk: int = 200) -> Iterator[Weights]:
    """Seeded resamples of ``n`` conversations with replacement, ``chunk`` at a time
    (bounded memory): each row counts how often each conversation was drawn."""
    if n < 1:
        raise ValueError("bootstrap needs at least one conversation")
    rng = np.random.default_rng(seed)
    pvals = np.full(n, 1.0 / n)
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        yield rng.multinomial(n, pvals, size=size).astype(np.float64)
        done += size


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def weighted_auroc(
    weights: Weights, scores: NDArray[np.float64], truth: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """The Mann-Whitney AUROC (ties count half, as scikit-learn) for each row of weights."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    w = weights[:, order]
    pos = np.add.reduceat(w * truth[order], starts, axis=1)
    neg = np.add.reduceat(w * ~truth[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    return _ratio(num, pos.sum(axis=1) * neg.sum(axis=1))


def weighted_median(weights: Weights, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """The median of ``values`` under integer weights per row (as numpy.median would give
    on the resampled list: the mean of the two middle values for an even count)."""
    if values.size == 0:
        return np.full(weights.shape[0], np.nan)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cum = np.cumsum(weights[:, order], axis=1)
    total = cum[:, -1]
    lower = np.floor((total + 1) / 2)
    upper = np.floor(total / 2) + 1
    i = (cum >= lower[:, None]).argmax(axis=1)
    j = (cum >= upper[:, None]).argmax(axis=1)
    out: NDArray[np.float64] = (ordered[i] + ordered[j]) / 2
    out[total <= 0] = np.nan
    return out


def figures(outcomes: Sequence[Outcome]) -> dict[str, Figure]:
    """Every reported figure as a function of bootstrap weights, over ``outcomes``."""
    y = np.array([o.grooming for o in outcomes], dtype=bool)
    flag = np.array([o.flagged for o in outcomes], dtype=bool)
    risk = np.array([o.risk for o in outcomes], dtype=np.float64)
    warned = np.array([o.messages_to_warning is not None for o in outcomes], dtype=bool)
    to_warning = np.array([o.messages_to_warning or 0 for o in outcomes], dtype=np.float64)
    first = np.array([o.first_grooming_message for o in outcomes], dtype=np.float64)
    harm = np.array([o.harm_message for o in outcomes], dtype=np.float64)
    ordinary = np.array([o.ordinary for o in outcomes], dtype=bool)
    hard = np.array([o.hard_negative for o in outcomes], dtype=bool)
    kinds = sorted({o.kind for o in outcomes if o.hard_negative})

    tp, fp, fn = (y & flag).astype(float), (~y & flag).astype(float), (y & ~flag).astype(float)
    warned_grooming = y & warned
    delay_mask = warned_grooming & (first >= 0)
    # Messages read after the first grooming-stage message (0: warned on that message).
    delay = to_warning - (first + 1)
    early = (warned_grooming & (to_warning <= harm)).astype(float)

    def rate(mask: NDArray[np.bool_]) -> Figure:
        hits = (mask & flag).astype(float)
        return lambda w: 1000.0 * _ratio(w @ hits, w @ mask.astype(float))

    def mean(mask: NDArray[np.bool_], values: NDArray[np.float64]) -> Figure:
        return lambda w: _ratio(w[:, mask] @ values[mask], w[:, mask].sum(axis=1))

    def median(mask: NDArray[np.bool_], values: NDArray[np.float64]) -> Figure:
        return lambda w: weighted_median(w[:, mask], values[mask])

    out: dict[str, Figure] = {
        "precision": lambda w: _ratio(w @ tp, w @ (tp + fp)),
        "recall": lambda w: _ratio(w @ tp, w @ (tp + fn)),
        "f05": lambda w: _ratio(1.25 * (w @ tp), w @ (1.25 * tp + 0.25 * fn + fp)),
        "auroc": lambda w: weighted_auroc(w, risk, y),
        "mean_messages_to_warning": mean(warned_grooming, to_warning),
        "median_messages_to_warning": median(warned_grooming, to_warning),
        "mean_messages_after_first_grooming": mean(delay_mask, delay),
        "median_messages_after_first_grooming": median(delay_mask, delay),
        "warned_before_harm_share": lambda w: _ratio(w @ early, w @ y.astype(float)),
        "ordinary_false_warnings_per_1000": rate(ordinary),
        "hard_negative_false_warnings_per_1000": rate(hard),
    }
    for kind in kinds:
        kind_mask = np.array([o.kind == kind for o in outcomes], dtype=bool)
        out[f"hard_negative_false_warnings_per_1000[{kind}]"] = rate(kind_mask)
    return out


def denominators(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """How many conversations each figure is computed over (its denominator)."""
    grooming = sum(o.grooming for o in outcomes)
    warned = sum(o.grooming and o.messages_to_warning is not None for o in outcomes)
    warned_known = sum(
        o.grooming and o.messages_to_warning is not None and o.first_grooming_message >= 0
        for o in outcomes
    )
    hard = sum(o.hard_negative for o in outcomes)
    out = {
        "precision": sum(o.flagged for o in outcomes),
        "recall": grooming,
        "f05": len(outcomes),
        "auroc": len(outcomes),
        "mean_messages_to_warning": warned,
        "median_messages_to_warning": warned,
        "mean_messages_after_first_grooming": warned_known,
        "median_messages_after_first_grooming": warned_known,
        "warned_before_harm_share": grooming,
        "ordinary_false_warnings_per_1000": sum(o.ordinary for o in outcomes),
        "hard_negative_false_warnings_per_1000": hard,
    }
    for kind in sorted({o.kind for o in outcomes if o.hard_negative}):
        out[f"hard_negative_false_warnings_per_1000[{kind}]"] = sum(
            o.kind == kind for o in outcomes
        )
    return out


def proportions(outcomes: Sequence[Outcome]) -> dict[str, tuple[int, int, float]]:
    """Figures that are plain proportions: (events, trials, scale) each."""
    flagged = [o for o in outcomes if o.flagged]
    grooming = [o for o in outcomes if o.grooming]
    out = {
        "precision": (sum(o.grooming for o in flagged), len(flagged), 1.0),
        "recall": (sum(o.flagged for o in grooming), len(grooming), 1.0),
        "warned_before_harm_share": (
            sum(
                o.messages_to_warning is not None and o.messages_to_warning <= o.harm_message
                for o in grooming
            ),
            len(grooming),
            1.0,
        ),
    }
    groups: dict[str, list[Outcome]] = {
        "ordinary_false_warnings_per_1000": [o for o in outcomes if o.ordinary],
        "hard_negative_false_warnings_per_1000": [o for o in outcomes if o.hard_negative],
    }
    for o in outcomes:
        if o.hard_negative:
            groups.setdefault(f"hard_negative_false_warnings_per_1000[{o.kind}]", []).append(o)
    for name, group in groups.items():
        out[name] = (sum(o.flagged for o in group), len(group), 1000.0)
    return out


def _clean(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def estimate_all(
    outcomes: Sequence[Outcome], *, resamples: int = 1000, seed: int = 0
) -> dict[str, Estimate]:
    """Every figure over ``outcomes`` with a seeded percentile bootstrap 95% interval
    (conversations resampled with replacement; AUROC's point value from scikit-learn)."""
    if not outcomes:
        raise ValueError("no held-out conversations to evaluate")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    funcs = figures(outcomes)
    counts = denominators(outcomes)
    ones = np.ones((1, len(outcomes)))
    points = {name: float(f(ones)[0]) for name, f in funcs.items()}
    y = [o.grooming for o in outcomes]
    if 0 < sum(y) < len(y):
        points["auroc"] = float(roc_auc_score(y, [o.risk for o in outcomes]))
    draws: dict[str, list[NDArray[np.float64]]] = {name: [] for name in funcs}
    for w in bootstrap_weights(len(outcomes), resamples, seed):
        for name, f in funcs.items():
            draws[name].append(f(w))
    exact = {name: clopper_pearson(*args) for name, args in proportions(outcomes).items()}
    out: dict[str, Estimate] = {}
    for name in funcs:
        values = np.concatenate(draws[name])
        defined = values[~np.isnan(values)]
        low, high = (
            (float(np.percentile(defined, 2.5)), float(np.percentile(defined, 97.5)))
            if defined.size
            else (None, None)
        )
        out[name] = Estimate(
            _clean(points[name]), low, high, counts[name], *exact.get(name, (None, None))
        )
    return out


@dataclass(frozen=True)
class Target:
    """An acceptance target of issue 4, judged on held-out phrasing families."""

    figure: str
    op: str
    bound: float

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return {">=": value >= self.bound, "<": value < self.bound, "<=": value <= self.bound}[
            self.op
        ]

    def judge(self, estimate: Estimate) -> dict[str, object]:
        """Met on the point estimate, and (stricter) on the unfavourable end of the wider
        of the bootstrap and exact intervals."""
        if self.op == ">=":
            lows = [v for v in (estimate.low, estimate.exact_low) if v is not None]
            worst = min(lows) if lows else None
        else:
            highs = [v for v in (estimate.high, estimate.exact_high) if v is not None]
            worst = max(highs) if highs else None
        return {
            "figure": self.figure,
            "target": f"{self.op} {self.bound:g}",
            "value": estimate.value,
            "met": self.holds(estimate.value),
            "met_at_ci_bound": self.holds(worst),
        }


TARGETS: tuple[Target, ...] = (
    Target("f05", ">=", 0.85),
    Target("recall", ">=", 0.7),
    Target("ordinary_false_warnings_per_1000", "<", 5.0),
    Target("median_messages_to_warning", "<=", 15.0),
)


def judge_targets(estimates: Mapping[str, Estimate]) -> list[dict[str, object]]:
    return [t.judge(estimates[t.figure]) for t in TARGETS]
