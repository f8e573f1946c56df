"""The fairness audit: at the pre-registered threshold, selection rate, false-positive rate,
false-negative rate and PPV (in the study sample, and at the real-world prevalence) for every
group (judged where the group holds enough of the people a measure is about), computed
with fairlearn's MetricFrame; the disparity ratio (smallest group value over
largest) per measure; and the largest gaps between two groups in words, with person-level
bootstrap intervals (fairlearn's own bootstrap is two orders of magnitude slower here).

The gap named is the largest of all pairs of groups, chosen after looking, so its interval
is a simultaneous one: 95% over every pair (Bonferroni), on the log scale from the bootstrap
standard error. An unadjusted interval on the chosen pair would call chance a real
difference far more often than 1 time in 20 once a column has five or nine groups."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from scipy.special import ndtri
from sklearn.metrics import precision_score

from safehold.research.evaluation import Vector, ppv_at_prevalence

MEASURES: tuple[str, ...] = (
    "selection_rate",
    "false_positive_rate",
    "false_negative_rate",
    "ppv",
    "ppv_in_sample",
)
MEASURE_WORDS: dict[str, str] = {
    "selection_rate": "flagged",
    "false_positive_rate": "wrongly flagged",
    "false_negative_rate": "missed",
    "ppv": "right when flagged (at the real-world prevalence)",
    "ppv_in_sample": "right when flagged (in the study sample)",
}
_WHO: dict[str, str] = {
    "selection_rate": "accounts",
    "false_positive_rate": "non-case accounts",
    "false_negative_rate": "case accounts",
    "ppv": "flags",
    "ppv_in_sample": "flags",
}


def _metrics(prevalence: float) -> dict[str, Callable[..., float]]:
    def ppv(y_true: Vector, y_pred: Vector) -> float:
        pos, neg = y_true == 1, y_true == 0
        sens = float(y_pred[pos].mean()) if pos.any() else 0.0
        fpr = float(y_pred[neg].mean()) if neg.any() else 0.0
        return ppv_at_prevalence(sens, fpr, prevalence)

    def ppv_in_sample(y_true: Vector, y_pred: Vector) -> float:
        return float(precision_score(y_true, y_pred, zero_division=0))

    return {
        "selection_rate": selection_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "ppv": ppv,
        "ppv_in_sample": ppv_in_sample,
    }


def _ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _bootstrap_measures(
    weights: npt.NDArray[np.float64], y: Vector, flags: Vector, here: Vector, prevalence: float
) -> dict[str, npt.NDArray[np.float64]]:
    """Each measure in one group for every bootstrap draw (rows of ``weights``)."""
    pos, neg, flag = (y == 1) & here, (y == 0) & here, flags & here

    def total(mask: Vector) -> npt.NDArray[np.float64]:
        return np.asarray(weights @ mask.astype(np.float64), dtype=np.float64)

    tpr = _ratio(total(pos & flags), total(pos))
    fpr = _ratio(total(neg & flags), total(neg))
    flagged = tpr * prevalence + fpr * (1 - prevalence)
    return {
        "selection_rate": _ratio(total(flag), total(here)),
        "false_positive_rate": fpr,
        "false_negative_rate": 1 - tpr,
        "ppv": _ratio(tpr * prevalence, flagged),
        "ppv_in_sample": _ratio(total(pos & flags), total(flag)),
    }


@dataclass
class Disparity:
    column: str
    measure: str
    high_group: str
    low_group: str
    high_value: float
    low_value: float
    times: float
    interval: tuple[float, float]
    groups_compared: int = 2

    @property
    def significant(self) -> bool:
        return bool(self.interval[0] > 1.0)

    def words(self) -> str:
        sure = (
            "a real difference (the 95% interval excludes equality)"
            if self.significant
            else "possibly chance (the 95% interval includes equality)"
        )
        adjusted = (
            f", adjusted for comparing {self.groups_compared} groups"
            if self.groups_compared > 2
            else ""
        )
        return (
            f"By {self.column.replace('_', ' ')}: {_WHO[self.measure]} in group '{self.high_group}' "
            f"were {MEASURE_WORDS[self.measure]} {self.times:.2f} times as often as in "
            f"'{self.low_group}' ({self.high_value:.1%} against {self.low_value:.1%}; 95% interval "
            f"of the ratio {self.interval[0]:.2f} to {self.interval[1]:.2f}{adjusted}): {sure}."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "measure": self.measure,
            "high_group": self.high_group,
            "low_group": self.low_group,
            "high_value": round(self.high_value, 4),
            "low_value": round(self.low_value, 4),
            "times": round(self.times, 3),
            "interval": [round(self.interval[0], 3), round(self.interval[1], 3)],
            "interval_method": "person bootstrap, log scale, Bonferroni over "
            f"{self.groups_compared * (self.groups_compared - 1) // 2} pairs",
            "significant": self.significant,
            "words": self.words(),
        }


@dataclass
class GroupAudit:
    column: str
    by_group: dict[str, dict[str, dict[str, float]]]  # group -> measure -> value/low/high
    ratios: dict[str, float]  # measure -> smallest group value over largest (fairlearn)
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    disparities: list[Disparity] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "by_group": self.by_group,
            "ratio_min_over_max": self.ratios,
            "calibration_in_sample": self.calibration,
            "too_small_to_judge": self.too_small,
        }


def audit_group(
    frame: pl.DataFrame,
    column: str,
    y: Vector,
    flags: Vector,
    scores: Vector,
    prevalence: float,
    minimum_group_size: int,
    weights: npt.NDArray[np.float64],
) -> GroupAudit:
    """``weights``: person-level bootstrap weights, one row per draw, one column per row of
    ``frame``. Calibration per group compares the mean score with the share of cases."""
    values = frame[column].cast(pl.String).fill_null("unknown").to_numpy()
    levels = sorted({str(v) for v in values})
    cases = {g: int(((values == g) & (y == 1)).sum()) for g in levels}
    controls = {g: int(((values == g) & (y == 0)).sum()) for g in levels}
    # A measure is judged in a group only when the group holds enough of the people it is
    # about: non-cases for the false-positive rate, cases for the false-negative rate.
    big_cases = {g for g in levels if cases[g] >= minimum_group_size}
    big_controls = {g for g in levels if controls[g] >= minimum_group_size}
    judged_for = {
        "selection_rate": big_controls,
        "false_positive_rate": big_controls,
        "false_negative_rate": big_cases,
        "ppv": big_cases & big_controls,
        "ppv_in_sample": big_cases & big_controls,
    }
    judged = sorted(big_cases | big_controls)
    too_small = [g for g in levels if g not in big_cases or g not in big_controls]
    if len(judged) < 2:
        return GroupAudit(column=column, by_group={}, ratios={}, too_small=too_small)
    keep = np.isin(values, judged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric_frame = MetricFrame(
            metrics=_metrics(prevalence),
            y_true=y[keep],
            y_pred=flags[keep].astype(int),
            sensitive_features=values[keep],
        )
    by_group_frame = metric_frame.by_group
    draws = {g: _bootstrap_measures(weights, y, flags, values == g, prevalence) for g in judged}
    by_group: dict[str, dict[str, dict[str, float]]] = {}
    for g in judged:
        by_group[g] = {}
        for m in MEASURES:
            if g not in judged_for[m]:
                continue
            d = draws[g][m]
            by_group[g][m] = {
                "value": round(float(by_group_frame.loc[g, m]), 4),
                "low": round(float(np.nanquantile(d, 0.025)), 4),
                "high": round(float(np.nanquantile(d, 0.975)), 4),
            }
    ratios: dict[str, float] = {}
    for m in MEASURES:
        judged_values = [float(by_group_frame.loc[g, m]) for g in judged_for[m]]
        if len(judged_values) >= 2:
            top = max(judged_values)
            ratios[m] = round(min(judged_values) / top, 4) if top > 0 else 1.0
    disparities = []
    for m in ("false_positive_rate", "false_negative_rate", "selection_rate"):
        point = {g: float(by_group_frame.loc[g, m]) for g in judged_for[m]}
        if len(point) < 2:
            continue
        high, low = max(point, key=point.__getitem__), min(point, key=point.__getitem__)
        if point[low] <= 0:
            continue
        times = point[high] / point[low]
        interval = _simultaneous_interval(
            times, _ratio(draws[high][m], draws[low][m]), pairs=len(point) * (len(point) - 1) // 2
        )
        disparities.append(
            Disparity(
                column=column,
                measure=m,
                high_group=high,
                low_group=low,
                high_value=point[high],
                low_value=point[low],
                times=times,
                interval=interval,
                groups_compared=len(point),
            )
        )
    calibration = {
        g: {
            "mean_score": round(float(scores[values == g].mean()), 4),
            "case_share": round(float(y[values == g].mean()), 4),
        }
        for g in judged
    }
    return GroupAudit(
        column=column,
        by_group=by_group,
        ratios=ratios,
        calibration=calibration,
        disparities=disparities,
        too_small=too_small,
    )


def _simultaneous_interval(
    point: float, draws: npt.NDArray[np.float64], pairs: int, level: float = 0.95
) -> tuple[float, float]:
    """A ratio's interval that holds for all ``pairs`` pairs at once: log ratio plus or minus
    z(1 - (1 - level) / (2 pairs)) bootstrap standard errors."""
    logs = np.log(draws[np.isfinite(draws) & (draws > 0)])
    if logs.size < 2:
        return (0.0, float("inf"))
    z = float(ndtri(1 - (1 - level) / (2 * max(pairs, 1))))
    spread = z * float(logs.std(ddof=1))
    centre = float(np.log(point))
    return (float(np.exp(centre - spread)), float(np.exp(centre + spread)))


def largest_disparities(audits: Sequence[GroupAudit]) -> list[Disparity]:
    found = [d for a in audits for d in a.disparities]
    return sorted(found, key=lambda d: (not d.significant, -d.times))
