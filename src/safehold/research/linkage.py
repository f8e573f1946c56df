"""Probabilistic linkage of cohort labels (justice or local-authority records) to platform
accounts across members, with Splink on DuckDB (a Fellegi-Sunter model).

Each side holds at most a keyed email pseudonym, a keyed phone pseudonym and a CLK of name
and date of birth. Comparisons: email and phone pseudonyms equal or not (null when either
side lacks one), and the CLKs' Dice coefficient ``2|A∩B| / (|A|+|B|)`` in levels, computed
inside DuckDB as the popcount of the AND of the two filters. Candidate pairs: equal email,
equal phone, or a shared λ-fold LSH key of the CLKs (``clk_blocking``, one blocking rule per
band). u probabilities come from random sampling, m probabilities from EM sessions blocked on
email and on phone (each estimates the other comparisons), the prior from the pairs that
share a pseudonym.

Scoring runs in chunks of the labels (Splink's chunked predict, each chunk blocked and
scored against every account), so that the candidate pairs held at once stay within DuckDB's
memory limit at millions of accounts; a pair's score depends only on the two records and the
trained model, so the pairs kept are the same whatever the chunking. Training is not chunked:
EM sees only the pairs sharing an email or a phone pseudonym (about one to two per label), u a
fixed sample of account pairs.

A pair is linked when its match probability reaches the threshold, and then one to one
within each (label source, platform) pair: an agency holds one record per person and a
platform one account per person, so of competing candidates only the strongest is kept.

Pairwise scores and match weights stay inside this module: the result holds only the link
decisions and counts, which is all a study uses or reports."""

from __future__ import annotations

import itertools
import logging
import math
import tempfile
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.research.clk_blocking import (
    BANDS,
    BITS_PER_BAND,
    band_columns,
    band_positions,
    clk_bytes,
    lsh_keys,
)
from safehold.research.errors import StudyError

DEFAULT_THRESHOLD = 0.5
POSSIBLE = 0.01
"""Below the threshold but at least this probable: not linked, yet too likely a case to
serve as a control (an unlinked case among the controls would blur the comparison)."""
DICE_LEVELS: tuple[float, ...] = (1.0, 0.97, 0.9, 0.8)
U_PAIRS = 1_000_000
CHUNK_PRODUCT = 20_000_000_000
"""Labels times accounts scored in one chunk when ``LinkageSettings.chunks`` is not given:
20,000 records against 1,000,000 accounts, the largest run measured in one piece (4.1 GB)."""


@dataclass(frozen=True)
class LinkageSettings:
    threshold: float = DEFAULT_THRESHOLD
    bands: int = BANDS
    bits_per_band: int = BITS_PER_BAND
    one_to_one: bool = True
    seed: int = 0
    threads: int | None = None
    memory_limit: str | None = None  # DuckDB's, e.g. "6GB"; beyond it DuckDB spills to disk
    chunks: int | None = None  # label chunks scored in turn; None: from CHUNK_PRODUCT


@dataclass
class Linkage:
    """Link decisions (``label_id``, ``account``) and what the run did, without scores."""

    links: pl.DataFrame
    uncertain: pl.DataFrame  # ``account``: a possible match, not linked
    labels: int
    accounts: int
    possible_pairs: int  # candidate pairs of match probability POSSIBLE or more
    pairs_over_threshold: int
    settings: LinkageSettings
    blocking: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "Splink (Fellegi-Sunter) on DuckDB: email and phone pseudonyms, CLK Dice",
            "labels": self.labels,
            "accounts": self.accounts,
            "possible_pairs": self.possible_pairs,
            "pairs_over_threshold": self.pairs_over_threshold,
            "links": self.links.height,
            "linked_labels": self.links["label_id"].n_unique(),
            "linked_accounts": self.links["account"].n_unique(),
            "possible_match_probability": POSSIBLE,
            "possibly_linked_accounts_kept_out_of_controls": self.uncertain.height,
            "threshold_match_probability": self.settings.threshold,
            "one_to_one_per_source_and_platform": self.settings.one_to_one,
            "dice_levels": list(DICE_LEVELS),
            "blocking": self.blocking,
            "seed": self.settings.seed,
        }


def _side(
    frame: pl.DataFrame, id_column: str, group_column: str, lsh: pl.DataFrame
) -> pl.DataFrame:
    return frame.select(
        pl.col(id_column).alias("unique_id"),
        pl.col(group_column).alias("grp"),
        "email_key",
        "phone_key",
        pl.col("clk").str.decode("base64").alias("clk"),
    ).hstack(lsh)


def _dice(low: float) -> str:
    both = "clk_bits_l + clk_bits_r"
    return f"2.0 * bit_count(clk_l & clk_r) / ({both}) >= {low}"


def _settings(bands: int) -> dict[str, Any]:
    from splink import block_on
    from splink import comparison_library as cl
    from splink.internals.comparison_level_creator import ComparisonLevelCreator

    clk_levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        {
            "sql_condition": "clk_l IS NULL OR clk_r IS NULL OR clk_bits_l + clk_bits_r = 0",
            "label_for_charts": "CLK missing",
            "is_null_level": True,
        },
        *(
            {"sql_condition": _dice(low), "label_for_charts": f"Dice >= {low}"}
            for low in DICE_LEVELS
        ),
        {"sql_condition": "ELSE", "label_for_charts": "all other"},
    ]
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [
            cl.ExactMatch("email_key"),
            cl.ExactMatch("phone_key"),
            cl.CustomComparison(
                comparison_levels=clk_levels,
                output_column_name="clk",
                comparison_description="Dice coefficient of the CLKs",
            ),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("email_key"),
            block_on("phone_key"),
            *(block_on(column) for column in band_columns(bands)),
        ],
        "additional_columns_to_retain": ["grp"],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def link_labels(
    labels: pl.DataFrame, accounts: pl.DataFrame, settings: LinkageSettings | None = None
) -> Linkage:
    """Link ``labels`` (``label_id``, ``source``, ``email_key``, ``phone_key``, ``clk``) to
    ``accounts`` (``account``, ``platform``, the same keys); see the module docstring."""
    settings = settings or LinkageSettings()
    if labels.is_empty():
        raise StudyError("no cohort labels to link: the input holds no records of this cohort")
    positions = band_positions(settings.seed, settings.bands, settings.bits_per_band, 1024)
    label_bits = clk_bytes(labels["clk"])
    left = _side(labels, "label_id", "source", lsh_keys(label_bits, positions))
    account_bits = clk_bytes(accounts["clk"])
    right = _side(accounts, "account", "platform", lsh_keys(account_bits, positions))
    fullest = np.percentile(_popcounts(label_bits), 5)
    u = u_probabilities(
        accounts, account_bits, settings.seed, record_like=_popcounts(account_bits) >= fullest
    )
    del account_bits
    chunks = max(settings.chunks or math.ceil(labels.height * accounts.height / CHUNK_PRODUCT), 1)
    with tempfile.TemporaryDirectory(prefix="safehold-linkage-") as spill:
        con = _connect(settings, spill)
        try:
            _load(con, "labels_in", left)
            _load(con, "accounts_in", right)
            pairs = _scored_pairs(con, left.select("email_key", "phone_key"),
                                  right.select("email_key", "phone_key"), u, settings,
                                  chunks)  # fmt: skip
        finally:
            con.close()
    over = pairs.filter(pl.col("p") >= settings.threshold)
    links = (_one_to_one(over) if settings.one_to_one else over).select(
        pl.col("unique_id_l").alias("label_id"), pl.col("unique_id_r").alias("account")
    )
    uncertain = (
        pairs.filter(pl.col("p") >= POSSIBLE)
        .select(pl.col("unique_id_r").alias("account"))
        .unique()
        .join(links, on="account", how="anti")
        .sort("account")
    )
    return Linkage(
        links=links.sort("label_id", "account"),
        uncertain=uncertain,
        labels=labels.height,
        accounts=accounts.height,
        possible_pairs=pairs.height,
        pairs_over_threshold=over.height,
        settings=settings,
        blocking={
            "rules": ["email pseudonym equal", "phone pseudonym equal", "a shared CLK LSH key"],
            "lsh_bands": settings.bands,
            "lsh_bits_per_band": settings.bits_per_band,
            "label_chunks": chunks,
        },
    )


def _popcounts(matrix: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    counts: npt.NDArray[np.int64] = np.bitwise_count(matrix.view(np.uint64)).sum(
        axis=1, dtype=np.int64
    )
    return counts


def _dice_rows(
    matrix: npt.NDArray[np.uint8],
    counts: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    second: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Dice of rows ``first[k]`` and ``second[k]`` of a CLK byte matrix (NaN where both
    filters are empty)."""
    words = matrix.view(np.uint64)
    both = np.bitwise_count(words[first] & words[second]).sum(axis=1, dtype=np.int64)
    total = counts[first] + counts[second]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * both / total, np.nan)


def u_probabilities(
    accounts: pl.DataFrame,
    matrix: npt.NDArray[np.uint8],
    seed: int,
    pairs: int = U_PAIRS,
    record_like: npt.NDArray[np.bool_] | None = None,
) -> dict[str, list[float]]:
    """u probabilities (per comparison, its non-null levels in order) from pairs of accounts
    on the same platform: a platform holds one account per person, so such pairs are pairs
    of different people, as u requires. (Random label-account pairs would not do: with few
    labels, true matches are a large enough share of any sample to swamp the rare agreement
    levels.) Pseudonym agreement is counted over every such pair (a value shared by c
    accounts of a platform makes c(c-1) pairs); CLK levels over ``pairs`` random ones whose
    first account is ``record_like`` (its CLK as full as a label's: two accounts that both
    gave only a date of birth agree far more often than a record and an account can). A
    level never seen counts half a pair."""
    rng = np.random.default_rng(seed)
    platform = accounts["platform"].to_numpy()
    groups = [np.flatnonzero(platform == p) for p in np.unique(platform)]
    groups = [g for g in groups if g.size >= 2]
    if not groups:
        raise StudyError("linkage needs a platform with at least two accounts to estimate u")
    weight = np.array([g.size * (g.size - 1) for g in groups], dtype=np.float64)
    pick = rng.choice(len(groups), size=pairs, p=weight / weight.sum())
    first = np.empty(pairs, dtype=np.int64)
    second = np.empty(pairs, dtype=np.int64)
    for k, g in enumerate(groups):
        chosen = np.flatnonzero(pick == k)
        like = np.flatnonzero(record_like[g]) if record_like is not None else np.arange(g.size)
        like = like if like.size else np.arange(g.size)
        i = like[rng.integers(0, like.size, chosen.size)]
        j = (i + rng.integers(1, g.size, chosen.size)) % g.size  # never the same account
        first[chosen], second[chosen] = g[i], g[j]
    out: dict[str, list[float]] = {}
    for key in ("email_key", "phone_key"):
        # Exact over every same-platform pair: how often two people share the value.
        held = accounts.filter(pl.col(key).is_not_null())
        shared = (
            held.group_by("platform", key)
            .len()
            .select((pl.col("len").cast(pl.Float64) * (pl.col("len") - 1)).sum())
        )
        sizes = (
            held.group_by("platform")
            .len()
            .select((pl.col("len").cast(pl.Float64) * (pl.col("len") - 1)).sum())
        )
        total = max(float(sizes.item()), 1.0)
        exact = max(float(shared.item()), 0.5) / total
        out[key] = [exact, 1.0 - exact]
    counts = _popcounts(matrix)
    dice = np.concatenate(
        [
            _dice_rows(matrix, counts, first[c : c + 100_000], second[c : c + 100_000])
            for c in range(0, pairs, 100_000)
        ]
    )
    dice = dice[~np.isnan(dice)]
    edges = [np.inf, *DICE_LEVELS, -np.inf]
    seen = [float(((dice >= lo) & (dice < hi)).sum()) for hi, lo in itertools.pairwise(edges)]
    seen = [max(c, 0.5) for c in seen]
    out["clk"] = [c / sum(seen) for c in seen]
    return out


def _with_u(model: dict[str, Any], u: dict[str, list[float]]) -> dict[str, Any]:
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level, value in zip(levels, u[comparison["output_column_name"]], strict=True):
            level["u_probability"] = value
    return model


def _pseudonym_recall(model: dict[str, Any], left: pl.DataFrame, right: pl.DataFrame) -> float:
    """Share of true pairs that share an email or a phone pseudonym: the EM-trained m of
    each exact level times the share of pairs where both sides hold that identifier."""
    missed = 1.0
    for comparison in model["comparisons"]:
        key = comparison["output_column_name"]
        if key not in ("email_key", "phone_key"):
            continue
        exact = next(lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level"))
        both = (1 - left[key].null_count() / left.height) * (
            1 - right[key].null_count() / right.height
        )
        missed *= 1 - float(exact.get("m_probability") or 0.0) * both
    return min(max(1 - missed, 0.01), 1.0)


def _connect(settings: LinkageSettings, spill: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{spill}'")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    if settings.memory_limit:
        con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    return con


def _load(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """A side as a DuckDB table, its CLK as a BIT string with its popcount beside it."""
    con.register(f"{name}_arrow", frame.to_arrow())
    con.execute(
        # Only our own constant table names are interpolated.
        f"CREATE TABLE {name} AS SELECT * EXCLUDE (clk), "  # noqa: S608
        "CAST(clk AS BIT) AS clk, coalesce(bit_count(CAST(clk AS BIT)), 0) AS clk_bits "
        f"FROM {name}_arrow"
    )
    con.unregister(f"{name}_arrow")


def _scored_pairs(
    con: duckdb.DuckDBPyConnection,
    left: pl.DataFrame,
    right: pl.DataFrame,
    u: dict[str, list[float]],
    settings: LinkageSettings,
    chunks: int,
) -> pl.DataFrame:
    """Every candidate pair of match probability POSSIBLE or more with that probability
    (``p``), never leaving this module; scored in ``chunks`` chunks of the labels."""
    from splink import DuckDBAPI, Linker, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI(connection=con)
    tables = [
        db_api.register("labels_in", dataset_display_name="labels"),
        db_api.register("accounts_in", dataset_display_name="accounts"),
    ]
    untrained = Linker(tables, _settings(settings.bands), log_level=logging.ERROR)
    linker = Linker(
        tables, _with_u(untrained.misc.save_model_to_json(), u), log_level=logging.ERROR
    )
    training = linker.training
    for rule in ("email_key", "phone_key"):
        try:
            training.estimate_parameters_using_expectation_maximisation(block_on(rule))
        except Exception as exc:  # Splink raises plain exceptions when a block is empty
            raise StudyError(
                f"linkage could not be trained on pairs sharing an {rule.split('_')[0]} "
                f"pseudonym ({exc}); the input has too few such pairs"
            ) from None
    recall = _pseudonym_recall(linker.misc.save_model_to_json(), left, right)
    training.estimate_probability_two_random_records_match(
        [block_on("email_key"), block_on("phone_key")], recall=recall
    )
    # Splink puts the dataset whose name sorts first on the left ("accounts" before
    # "labels"), so the labels are its right side.
    predictions = linker.inference.predict(
        threshold_match_probability=POSSIBLE, num_chunks_left=1, num_chunks_right=chunks
    )
    # Splink orders each pair by dataset name, so put the label side first explicitly.
    first = "source_dataset_l = 'labels'"
    pairs: pl.DataFrame = con.sql(
        f"SELECT CASE WHEN {first} THEN unique_id_l ELSE unique_id_r END AS unique_id_l, "  # noqa: S608
        f"CASE WHEN {first} THEN unique_id_r ELSE unique_id_l END AS unique_id_r, "
        f"CASE WHEN {first} THEN grp_l ELSE grp_r END AS grp_l, "
        f"CASE WHEN {first} THEN grp_r ELSE grp_l END AS grp_r, "
        f"match_probability AS p FROM {predictions.physical_name}"
    ).pl()
    return pairs


def _one_to_one(pairs: pl.DataFrame) -> pl.DataFrame:
    """Greedy one-to-one within each (label source, platform): strongest pairs first, a
    pair kept only when neither its label nor its account is taken in that group."""
    kept: list[tuple[str, str]] = []
    ordered = pairs.sort(["p", "unique_id_l", "unique_id_r"], descending=[True, False, False])
    taken_labels: set[tuple[str, str, str]] = set()
    taken_accounts: set[tuple[str, str, str]] = set()
    for label, account, source, platform, _p in ordered.iter_rows():
        label_key, account_key = (source, platform, label), (source, platform, account)
        if label_key in taken_labels or account_key in taken_accounts:
            continue
        taken_labels.add(label_key)
        taken_accounts.add(account_key)
        kept.append((label, account))
    return pl.DataFrame(
        kept, schema={"unique_id_l": pl.String, "unique_id_r": pl.String}, orient="row"
    )
