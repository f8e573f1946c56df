from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from safehold.privacy import AnonymityError, enforce_anonymity, small_classes


def _table(seed: int = 0, n: int = 2000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "age_band": rng.choice(["18_24", "25_34", "35_44"], n),
            "sex": rng.choice(["female", "male"], n),
            "size_band": rng.choice(["large", "small"], n),
            "outcome": rng.choice(["case", "control"], n),
        }
    )


def test_planted_unique_combination_is_caught_and_suppressed() -> None:
    planted = pl.DataFrame(
        {"age_band": ["65_plus"], "sex": ["female"], "size_band": ["small"], "outcome": ["case"]}
    )
    table = pl.concat([_table(), planted])
    qi = ["age_band", "sex", "size_band"]
    failing = small_classes(table, qi, k=10)
    assert failing.height == 1
    assert failing.row(0, named=True)["age_band"] == "65_plus"

    released, report = enforce_anonymity(table, qi, k=10)
    assert released.height == table.height - 1
    assert released.filter(pl.col("age_band") == "65_plus").is_empty()
    assert report.rows_suppressed == 1
    assert report.suppressed[0].values == {
        "age_band": "65_plus",
        "sex": "female",
        "size_band": "small",
    }
    assert report.suppressed[0].reason == "k"
    assert small_classes(released, qi, k=10).is_empty()


def test_generalisation_keeps_rows_that_suppression_would_lose() -> None:
    planted = pl.DataFrame(
        {"age_band": ["65_plus"] * 4, "sex": ["female"] * 4, "size_band": ["small"] * 4,
         "outcome": ["case"] * 4}
    )  # fmt: skip
    table = pl.concat([_table(), planted])
    coarse = {"age_band": {"35_44": "35_plus", "65_plus": "35_plus"}}
    released, report = enforce_anonymity(table, ["age_band", "sex", "size_band"], generalise=coarse)
    assert report.rows_suppressed == 0
    assert released.height == table.height
    assert report.generalised["age_band"]["65_plus"] == "35_plus"


def test_l_diversity_suppresses_classes_with_one_sensitive_value() -> None:
    same = pl.DataFrame(
        {"age_band": ["55_64"] * 12, "sex": ["male"] * 12, "size_band": ["large"] * 12,
         "outcome": ["case"] * 12}
    )  # fmt: skip
    table = pl.concat([_table(), same])
    qi = ["age_band", "sex", "size_band"]
    released, report = enforce_anonymity(table, qi, k=10, sensitive="outcome", l_diversity=2)
    assert [s.reason for s in report.suppressed] == ["l"]
    assert released.filter(pl.col("age_band") == "55_64").is_empty()
    # Without the l-diversity requirement the class is big enough to keep.
    kept, _ = enforce_anonymity(table, qi, k=10)
    assert kept.filter(pl.col("age_band") == "55_64").height == 12


def test_unknown_column_is_a_clear_error() -> None:
    with pytest.raises(AnonymityError, match="postcode"):
        enforce_anonymity(_table(), ["age_band", "postcode"])
