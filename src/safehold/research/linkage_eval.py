"""How good a linkage is, against a synthetic world's truth: precision and recall of the
linked (label, account) pairs, and of the set of accounts that the study will treat as
cases. Also the baseline every deployment could do without a model: link a label to an
account when they share an email or phone pseudonym."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from safehold.research.enclave_data import LinkageTruth


@dataclass(frozen=True)
class Quality:
    true_links: int
    links: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_links if self.true_links else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true": self.true_links,
            "found": self.links,
            "correct": self.correct,
        }


def true_pairs(labels: pl.DataFrame, accounts: pl.DataFrame, truth: LinkageTruth) -> pl.DataFrame:
    """Every (label_id, account) pair of the same person among the given labels/accounts."""
    people_labels = labels.select("label_id").join(truth.labels, on="label_id", how="inner")
    people_accounts = accounts.select("account").join(truth.accounts, on="account", how="inner")
    return people_labels.join(people_accounts, on="person_id", how="inner").select(
        "label_id", "account"
    )


def pair_quality(links: pl.DataFrame, truth_pairs: pl.DataFrame) -> Quality:
    correct = links.join(truth_pairs, on=["label_id", "account"], how="semi").height
    return Quality(true_links=truth_pairs.height, links=links.height, correct=correct)


def account_quality(links: pl.DataFrame, truth_pairs: pl.DataFrame) -> Quality:
    """Case accounts: linked to at least one label, against those that truly belong to a
    labelled person."""
    found = links.select("account").unique()
    true = truth_pairs.select("account").unique()
    correct = found.join(true, on="account", how="semi").height
    return Quality(true_links=true.height, links=found.height, correct=correct)


def exact_pseudonym_links(labels: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """The baseline: a link wherever an email or a phone pseudonym is shared."""
    pairs = [
        labels.filter(pl.col(key).is_not_null())
        .select("label_id", key)
        .join(accounts.select("account", key), on=key, how="inner")
        .select("label_id", "account")
        for key in ("email_key", "phone_key")
    ]
    return pl.concat(pairs).unique().sort("label_id", "account")


def evaluate(
    links: pl.DataFrame, labels: pl.DataFrame, accounts: pl.DataFrame, truth: LinkageTruth
) -> dict[str, Any]:
    """Pairs and case accounts, for the linkage and for the exact-pseudonym baseline."""
    pairs = true_pairs(labels, accounts, truth)
    baseline = exact_pseudonym_links(labels, accounts)
    return {
        "against": "the synthetic world's ground truth",
        "pairs": pair_quality(links, pairs).to_json(),
        "case_accounts": account_quality(links, pairs).to_json(),
        "baseline_exact_pseudonyms": {
            "pairs": pair_quality(baseline, pairs).to_json(),
            "case_accounts": account_quality(baseline, pairs).to_json(),
        },
    }
