"""Differentially private counts from totals already counted (a database's ``COUNT``), for
figures too large to hand over one row per person: OpenDP's discrete Laplace mechanism on
the total itself.

The caller states the privacy unit: each unit must add at most one to the total (or, for a
table, to one category only), which is what makes the sensitivity 1. The epsilon spent is
read from OpenDP's privacy map and charged to the ledger before any noise is drawn; the
accuracy is the bound |noise| stays within with probability 1 - alpha."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import opendp.prelude as dp

from safehold.privacy.budget import BudgetLedger
from safehold.privacy.dp_counts import DpCount

dp.enable_features("contrib")


def _scale(epsilon: float) -> float:
    if not epsilon > 0 or epsilon != epsilon:
        raise ValueError(f"epsilon must be positive (got {epsilon})")
    return 1.0 / epsilon


def _check_total(label: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"the true count for {label!r} must be a whole number >= 0 (got {value!r})"
        )
    return value


def release_total(
    total: int, epsilon: float, ledger: BudgetLedger, label: str, alpha: float = 0.05
) -> DpCount:
    """A noisy ``total`` (sensitivity 1), charged to ``ledger``."""
    _check_total(label, total)
    scale = _scale(epsilon)
    measurement: Any = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale)
    spent = float(measurement.map(1))
    ledger.spend(label, spent)
    return DpCount(
        label=label,
        value=int(measurement(total)),
        epsilon=spent,
        accuracy=float(dp.discrete_laplacian_scale_to_accuracy(scale=scale, alpha=alpha)),
        alpha=alpha,
    )


def release_table(
    counts: Mapping[str, int],
    categories: Sequence[str],
    epsilon: float,
    ledger: BudgetLedger,
    label: str,
    alpha: float = 0.05,
) -> list[DpCount]:
    """Noisy counts per public category, one epsilon in all: a unit is in one category only,
    so the table's L1 sensitivity is 1. Categories absent from ``counts`` count zero;
    counts of categories not listed are refused (listing them would leak their names)."""
    if len(set(categories)) != len(categories) or not categories:
        raise ValueError(f"categories for {label!r} must be distinct and non-empty")
    unknown = sorted(set(counts) - set(categories))
    if unknown:
        raise ValueError(
            f"counts for {label!r} hold categories not in the public list: {', '.join(unknown)}"
        )
    values = [_check_total(f"{label}[{c}]", counts.get(c, 0)) for c in categories]
    scale = _scale(epsilon)
    measurement: Any = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int), size=len(values)), dp.l1_distance(T=int), scale
    )
    spent = float(measurement.map(1))
    ledger.spend(label, spent)
    noisy = measurement(values)
    accuracy = float(dp.discrete_laplacian_scale_to_accuracy(scale=scale, alpha=alpha))
    return [
        DpCount(label=f"{label}[{c}]", value=int(v), epsilon=spent, accuracy=accuracy, alpha=alpha)
        for c, v in zip(categories, noisy, strict=True)
    ]
