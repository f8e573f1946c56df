from __future__ import annotations

import numpy as np
import polars as pl

from safehold.research.output_checks import STUDY_EPSILON, released_tables


def _frame(n: int = 3000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(
        {
            "person": rng.integers(0, 2500, n),
            "label": (rng.random(n) < 0.1).astype(np.int8),
            "age_band": rng.choice(["25_34", "35_44"], n),
            "sex": rng.choice(["female", "male"], n),
            "size_band": rng.choice(["large", "small"], n),
            "deprivation_quintile": rng.choice(["1 (most deprived)", "3"], n),
        }
    )
    lonely = pl.DataFrame(
        {"person": [9999], "label": [1], "age_band": ["65_plus"], "sex": ["female"],
         "size_band": ["small"], "deprivation_quintile": ["3"]},
        schema=frame.schema,
    )  # fmt: skip
    return pl.concat([frame, lonely])


def test_released_cohort_table_has_no_cell_below_k_and_records_the_suppression() -> None:
    tables, _ledger = released_tables(_frame(), ["age_band", "sex", "size_band"], k=10)
    rows = tables["cohort_make_up"]["rows"]
    assert rows and min(r["accounts"] for r in rows) >= 10
    assert not any(r["age_band"] == "65_plus" for r in rows)
    suppressed = tables["cohort_make_up"]["k_anonymity"]["suppressed_classes"]
    assert {"age_band": "65_plus", "sex": "female", "size_band": "small", "role": "case"} in [
        s["values"] for s in suppressed
    ]


def test_dp_counts_spend_no_more_than_the_study_budget() -> None:
    tables, ledger = released_tables(_frame(), ["age_band", "sex"], k=10)
    assert ledger.spent <= STUDY_EPSILON + 1e-9
    assert len(ledger.entries) == 4  # cases and controls for each of two columns
    counts = tables["dp_counts"]["case people by sex"]
    assert {c["label"] for c in counts} == {
        "case people by sex[female]",
        "case people by sex[male]",
    }
    assert all(c["accuracy"] > 0 and c["confidence"] == 0.95 for c in counts)
