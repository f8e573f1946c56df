"""The study's feature matrix, on scales a linear model can use: counts, durations and rates
on a log scale, shares on the logit scale (from each feature's unit in the data dictionary).
Trees are indifferent to monotone transforms, so both models read the same matrix. A feature
a platform could not measure (empty) is filled with the cohort median and flagged."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.exchange import Unit, behaviour_features

_UNITS = {f.name: f.unit for f in behaviour_features()}
_MEANINGS = {f.name: f.meaning for f in behaviour_features()}
Matrix = npt.NDArray[np.float64]


def meaning(feature: str) -> str:
    return _MEANINGS.get(feature, feature)


def _expression(name: str) -> pl.Expr:
    column = pl.col(name).cast(pl.Float64)
    if _UNITS[name] is Unit.FRACTION:
        share = column.clip(0.001, 0.999)
        return (share / (1 - share)).log()
    if _UNITS[name] is Unit.FLAG:
        return column
    return column.log1p()


def feature_matrix(frame: pl.DataFrame, features: Sequence[str]) -> Matrix:
    """Rows of ``frame`` as a float matrix over ``features``, transformed and median-filled."""
    transformed = frame.select([_expression(f).alias(f) for f in features])
    filled = transformed.with_columns(pl.all().fill_null(pl.all().median()).fill_null(0.0))
    return filled.to_numpy().astype(np.float64)
