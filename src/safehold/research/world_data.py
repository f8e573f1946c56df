"""Reading a study's inputs: the pooled behaviour records of every platform member, each
account's size band, and which accounts belong to the cases.

Who is a case is decided by probabilistic linkage (``linkage``) of the outcome's cohort
labels to platform accounts, never by a world's truth, which is read only to measure how
good that linkage was. Accounts that possibly match a label but were not linked are left
out (neither case nor control). Accounts are grouped into people for grouped validation by the
links and by shared email or phone pseudonyms (connected components). Source tokens show
only a platform's size band (source blinding)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from safehold.research.enclave_data import EnclaveData, load_enclave
from safehold.research.errors import StudyError
from safehold.research.linkage import Linkage, LinkageSettings, link_labels
from safehold.research.linkage_eval import evaluate
from safehold.research.prereg import Outcome

_CACHE: dict[tuple[str, str], EnclaveData] = {}
_LINKS: dict[tuple[int, Outcome, int], tuple[EnclaveData, Linkage, pl.DataFrame]] = {}
"""Keyed by ``id`` of the data, and holding the data itself: while an entry lives its id
cannot be given to another world's data (an id alone can be, once the first is freed)."""


@dataclass(frozen=True)
class StudyInputs:
    """One row per platform account: ``subject`` (blinded), ``person`` (linked person key),
    ``platform`` (blinded token), ``size_band``, demographics, features and ``is_case``.
    ``linkage`` describes the linkage (counts, settings, and its measured quality where a
    truth exists): never a pairwise score."""

    accounts: pl.DataFrame
    linkage: dict[str, Any]


def cached_enclave(world: Path) -> EnclaveData:
    """``load_enclave``, kept for the process: preparing a synthetic world's members costs
    far more than a study's reading, and studies of one world share it. Keyed by the folder
    and the hash of its manifest, so a regenerated world is read afresh."""
    manifest = world / "world.json" if (world / "world.json").exists() else world / "enclave.json"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.exists() else ""
    key = (str(world.resolve()), digest)
    if key not in _CACHE:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = load_enclave(world)
    return _CACHE[key]


def link_cohort(data: EnclaveData, outcome: Outcome, seed: int) -> tuple[Linkage, pl.DataFrame]:
    """Link the outcome's labels to the accounts; returns the linkage and those labels.
    Deterministic for a seed, so kept for the process beside the data it came from."""
    key = (id(data), outcome, seed)
    cached = _LINKS.get(key)
    if cached is not None and cached[0] is data:
        return cached[1], cached[2]
    labels = data.labels.filter(pl.col("cohort") == outcome.value)
    if labels.is_empty():
        raise StudyError(
            f"the input holds no {outcome.value} cohort labels (cohort_labels.parquet of a "
            "justice or local-authority member); nothing to link the cases from"
        )
    result = link_labels(labels, data.accounts, LinkageSettings(seed=seed)), labels
    if len(_LINKS) >= 8:
        _LINKS.pop(next(iter(_LINKS)))
    _LINKS[key] = (data, *result)
    return result


def linkage_summary(linkage: Linkage, labels: pl.DataFrame, data: EnclaveData) -> dict[str, Any]:
    summary = {"input": data.origin, **linkage.to_json()}
    if data.truth is not None:
        summary["quality"] = evaluate(linkage.links, labels, data.accounts, data.truth)
    return summary


def _people(accounts: pl.DataFrame, links: pl.DataFrame) -> np.ndarray[Any, Any]:
    """A person number per account: connected components of accounts joined by a link to
    the same label or by a shared email or phone pseudonym."""
    index = accounts.select("account").with_row_index("i")
    edges = [
        links.join(index, on="account").select(
            pl.col("i").min().over("label_id").alias("a"), pl.col("i").alias("b")
        )
    ]
    for key in ("email_key", "phone_key"):
        edges.append(
            accounts.with_row_index("i")
            .filter(pl.col(key).is_not_null())
            .select(pl.col("i").min().over(key).alias("a"), pl.col("i").alias("b"))
        )
    pairs = pl.concat(edges)
    n = accounts.height
    graph = coo_matrix(
        (np.ones(pairs.height), (pairs["a"].to_numpy(), pairs["b"].to_numpy())), shape=(n, n)
    )
    _count, labels = connected_components(graph, directed=False)
    return np.asarray(labels)


def load_study_inputs(world: Path, outcome: Outcome, seed: int = 0) -> StudyInputs:
    data = cached_enclave(world)
    linkage, labels = link_cohort(data, outcome, seed)
    person = pl.DataFrame(
        {"account": data.accounts["account"], "person": _people(data.accounts, linkage.links)}
    ).unique("account", keep="first")
    cases = linkage.links.select("account").unique().with_columns(is_case=pl.lit(True))
    accounts = (
        data.behaviour.join(linkage.uncertain, on="account", how="anti")
        .join(person, on="account", how="left")
        .join(cases, on="account", how="left")
        .with_columns(pl.col("is_case").fill_null(False))
    )
    unkeyed = accounts.filter(pl.col("person").is_null()).height
    if unkeyed:
        raise StudyError(
            f"{unkeyed} behaviour records name an account with no account_keys record; "
            "the platform's account keys must accompany its behaviour records"
        )
    accounts = (
        accounts.with_row_index("subject")
        .with_columns(
            pl.format("s{}", pl.col("subject")).alias("subject"),
            pl.col("person").rank("dense").cast(pl.Int64).alias("person"),
        )
        .drop("account")
    )
    return StudyInputs(accounts=accounts, linkage=linkage_summary(linkage, labels, data))
