"""Children known to a local authority's children's services: the mirror study's labels.

Most vulnerable children are known to services, and some children are known for reasons
the study does not target, so the labels are neither complete nor pure, as in life."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

CONCERNS = ("child_in_need", "child_protection_plan", "looked_after")


def generate_children_known(
    people: pl.DataFrame, *, member_id: str, rng: np.random.Generator, period_start: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Returns (member-side records with identities, truth mapping record_id to person_id)."""
    children = people.filter(pl.col("is_child"))
    vulnerable = children["is_vulnerable_child"].to_numpy()
    known_p = np.where(vulnerable, 0.7, 0.01)
    chosen = children.filter(pl.Series(rng.random(children.height) < known_p))
    n = chosen.height
    chosen = chosen.with_columns(
        record_id=pl.concat_str(
            pl.lit(f"{member_id}:C"), pl.int_range(n).cast(pl.Utf8).str.zfill(6)
        ),
        concern=pl.Series(
            np.array(CONCERNS)[rng.choice(len(CONCERNS), size=n, p=[0.55, 0.3, 0.15])]
        ),
        email=pl.when(pl.Series(rng.random(n) < 0.3)).then(pl.col("email")).otherwise(None),
        phone=pl.when(pl.Series(rng.random(n) < 0.4)).then(pl.col("phone")).otherwise(None),
        known_since=pl.Series(_months_before(period_start, rng.integers(1, 60, size=n))),
    )
    records = chosen.select(
        "record_id", "given_name", "family_name", "dob", "email", "phone", "concern", "known_since"
    )
    truth = chosen.select(
        pl.lit(member_id).alias("member_id"), "record_id", "person_id", "is_vulnerable_child"
    )
    return records, truth


def _months_before(start: date, months: npt.NDArray[np.int64]) -> list[str]:
    index = start.year * 12 + (start.month - 1) - months
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in index.tolist()]
