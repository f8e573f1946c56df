"""k-anonymity and l-diversity of a table over its quasi-identifiers.

A table may leave the enclave only when every combination of quasi-identifier values is
shared by at least ``k`` rows (and, if a sensitive column is named, shows at least ``l``
distinct values of it). Columns may first be coarsened by a generalisation map; rows in the
classes that still fail are suppressed, and the report says which classes went and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

DEFAULT_K = 10


class AnonymityError(ValueError):
    """The table or the request cannot be checked; the message names the column and the fix."""


@dataclass(frozen=True)
class SuppressedClass:
    """One combination of quasi-identifier values whose rows were withheld."""

    values: dict[str, Any]
    rows: int
    reason: str  # "k" (fewer than k rows) or "l" (fewer than l sensitive values)


@dataclass
class AnonymityReport:
    quasi_identifiers: list[str]
    k: int
    l_diversity: int | None
    sensitive: str | None
    rows_in: int
    rows_out: int
    generalised: dict[str, dict[str, str]] = field(default_factory=dict)
    suppressed: list[SuppressedClass] = field(default_factory=list)

    @property
    def rows_suppressed(self) -> int:
        return self.rows_in - self.rows_out

    def to_json(self) -> dict[str, Any]:
        return {
            "quasi_identifiers": self.quasi_identifiers,
            "k": self.k,
            "l": self.l_diversity,
            "sensitive": self.sensitive,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_suppressed": self.rows_suppressed,
            "generalised": self.generalised,
            "suppressed_classes": [
                {"values": s.values, "rows": s.rows, "reason": s.reason} for s in self.suppressed
            ],
        }


def _check_columns(frame: pl.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnonymityError(
            f"column(s) {', '.join(missing)} not in the table (it has {', '.join(frame.columns)}); "
            "name only columns the table holds"
        )


def small_classes(
    frame: pl.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int = DEFAULT_K,
    sensitive: str | None = None,
    l_diversity: int | None = None,
) -> pl.DataFrame:
    """The equivalence classes that break k-anonymity or l-diversity, with their sizes."""
    if k < 1:
        raise AnonymityError(f"k must be at least 1 (got {k})")
    qi = list(quasi_identifiers)
    _check_columns(frame, [*qi, *([sensitive] if sensitive else [])])
    aggs = [pl.len().alias("_rows")]
    if sensitive is not None:
        aggs.append(pl.col(sensitive).n_unique().alias("_distinct"))
    classes = frame.group_by(qi).agg(aggs)
    fails_k = pl.col("_rows") < k
    if sensitive is not None and l_diversity is not None:
        fails_l = pl.col("_distinct") < l_diversity
        classes = classes.with_columns(
            _reason=pl.when(fails_k).then(pl.lit("k")).when(fails_l).then(pl.lit("l"))
        )
    else:
        classes = classes.with_columns(
            _reason=pl.when(fails_k).then(pl.lit("k")).otherwise(pl.lit(None, pl.String))
        )
    return classes.filter(pl.col("_reason").is_not_null()).sort(qi)


def enforce_anonymity(
    frame: pl.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int = DEFAULT_K,
    *,
    sensitive: str | None = None,
    l_diversity: int | None = None,
    generalise: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[pl.DataFrame, AnonymityReport]:
    """Generalise, then suppress the failing classes; returns the releasable table and the
    record of what was done. Values absent from a column's generalisation map are kept."""
    if l_diversity is not None and sensitive is None:
        raise AnonymityError("l-diversity needs the sensitive column named (sensitive=...)")
    qi = list(quasi_identifiers)
    _check_columns(frame, qi)
    work = frame
    applied: dict[str, dict[str, str]] = {}
    for column, mapping in (generalise or {}).items():
        _check_columns(work, [column])
        work = work.with_columns(
            pl.col(column).cast(pl.String).replace(dict(mapping)).alias(column)
        )
        applied[column] = {str(a): str(b) for a, b in mapping.items()}
    failing = small_classes(work, qi, k, sensitive, l_diversity)
    released = work.join(failing.select(qi), on=qi, how="anti", nulls_equal=True)
    report = AnonymityReport(
        quasi_identifiers=qi,
        k=k,
        l_diversity=l_diversity,
        sensitive=sensitive,
        rows_in=frame.height,
        rows_out=released.height,
        generalised=applied,
        suppressed=[
            SuppressedClass(
                values={c: row[c] for c in qi}, rows=int(row["_rows"]), reason=str(row["_reason"])
            )
            for row in failing.iter_rows(named=True)
        ],
    )
    return released, report
