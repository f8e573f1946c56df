"""Why the model scores as it does: mean absolute SHAP value per feature over the cohort, and
for a subject the features that pushed their score up most, in the data dictionary's words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from safehold.research.features import meaning
from safehold.research.models import Matrix, contributions


def importance(model: Any, x: Matrix, features: Sequence[str]) -> list[dict[str, Any]]:
    values = np.abs(contributions(model, x)).mean(axis=0)
    order = np.argsort(-values)
    return [
        {
            "feature": features[i],
            "mean_abs_shap": round(float(values[i]), 4),
            "meaning": meaning(features[i]),
        }
        for i in order
    ]


def top_reasons(
    model: Any, x: Matrix, features: Sequence[str], top: int = 3
) -> list[list[dict[str, Any]]]:
    """Per row, the ``top`` features that raised the score most (positive SHAP values only)."""
    shap = contributions(model, x)
    reasons: list[list[dict[str, Any]]] = []
    for row in shap:
        order = [i for i in np.argsort(-row)[:top] if row[i] > 0]
        reasons.append(
            [
                {
                    "feature": features[i],
                    "shap": round(float(row[i]), 3),
                    "meaning": meaning(features[i]),
                }
                for i in order
            ]
        )
    return reasons
