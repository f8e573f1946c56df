"""Differentially private counts through OpenDP's discrete Laplace mechanism.

A count has sensitivity 1 (one person more or less changes it by one), so noise of scale
1/epsilon gives epsilon-DP; OpenDP's privacy map confirms the epsilon actually spent, and its
accuracy helper states the bound the noise stays within with probability 1 - alpha. A
histogram over public categories is one release: a person falls in one category, so the whole
table costs one epsilon (OpenDP's ``make_count_by_categories``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import opendp.prelude as dp

from safehold.privacy.budget import BudgetLedger

dp.enable_features("contrib")


@dataclass(frozen=True)
class DpCount:
    label: str
    value: int
    epsilon: float
    accuracy: float  # |noise| <= accuracy with probability 1 - alpha
    alpha: float

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "epsilon": self.epsilon,
            "accuracy": round(self.accuracy, 3),
            "confidence": 1 - self.alpha,
        }


def _scale(epsilon: float) -> float:
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive (got {epsilon})")
    return 1.0 / epsilon


def release_count(
    values: Sequence[str], epsilon: float, ledger: BudgetLedger, label: str, alpha: float = 0.05
) -> DpCount:
    """A noisy count of ``values`` (one entry per person), charged to ``ledger``."""
    scale = _scale(epsilon)
    measurement = dp.t.make_count(
        dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    ) >> dp.m.then_laplace(scale=scale)
    spent = float(measurement.map(1))
    ledger.spend(label, spent)
    return DpCount(
        label=label,
        value=int(measurement(list(values))),
        epsilon=spent,
        accuracy=float(dp.discrete_laplacian_scale_to_accuracy(scale=scale, alpha=alpha)),
        alpha=alpha,
    )


def release_counts(
    values: Sequence[str],
    categories: Sequence[str],
    epsilon: float,
    ledger: BudgetLedger,
    label: str,
    alpha: float = 0.05,
) -> list[DpCount]:
    """Noisy counts per public category of ``values`` (one entry per person), one epsilon in
    all. Values outside ``categories`` are dropped (they would otherwise leak a category)."""
    if len(set(categories)) != len(categories) or not categories:
        raise ValueError(f"categories for {label!r} must be distinct and non-empty")
    scale = _scale(epsilon)
    measurement = dp.t.make_count_by_categories(
        dp.vector_domain(dp.atom_domain(T=str)),
        dp.symmetric_distance(),
        categories=list(categories),
        null_category=False,
    ) >> dp.m.then_laplace(scale=scale)
    spent = float(measurement.map(1))
    ledger.spend(label, spent)
    noisy = measurement(list(values))
    accuracy = float(dp.discrete_laplacian_scale_to_accuracy(scale=scale, alpha=alpha))
    return [
        DpCount(label=f"{label}[{c}]", value=int(v), epsilon=spent, accuracy=accuracy, alpha=alpha)
        for c, v in zip(categories, noisy, strict=True)
    ]
