"""What of a study leaves the enclave as tables: the cohort's make-up by matching stratum,
k-anonymised (small cells suppressed and recorded), and case and control people per group
released with differential privacy, every epsilon written to the study's ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from safehold.privacy import BudgetLedger, enforce_anonymity, release_counts

STUDY_EPSILON = 1.0


def released_tables(
    frame: pl.DataFrame, group_columns: Sequence[str], k: int = 10
) -> tuple[dict[str, Any], BudgetLedger]:
    ledger = BudgetLedger(total_epsilon=STUDY_EPSILON)
    strata = ["age_band", "sex", "size_band"]
    make_up = frame.select(
        *strata,
        pl.when(pl.col("label") == 1)
        .then(pl.lit("case"))
        .otherwise(pl.lit("control"))
        .alias("role"),
    )
    released, report = enforce_anonymity(make_up, [*strata, "role"], k=k)
    table = released.group_by([*strata, "role"]).len("accounts").sort([*strata, "role"])
    per_group = STUDY_EPSILON / (2 * max(1, len(group_columns)))
    counts: dict[str, Any] = {}
    # One entry per person (their first account), so that one person moves one count by one.
    people = frame.unique("person", keep="first", maintain_order=True)
    for column in group_columns:
        values = people[column].cast(pl.String).fill_null("unknown")
        categories = sorted(set(values.to_list()))
        for role, label in (("case people", 1), ("control people", 0)):
            chosen = values.filter(people["label"] == label).to_list()
            counts[f"{role} by {column}"] = [
                c.to_json()
                for c in release_counts(
                    chosen, categories, per_group, ledger, f"{role} by {column}"
                )
            ]
    return {
        "cohort_make_up": {"rows": table.to_dicts(), "k_anonymity": report.to_json()},
        "dp_counts": counts,
        "privacy_budget": ledger.to_json(),
    }, ledger
