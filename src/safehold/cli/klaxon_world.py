"""The klaxon on a synthetic world: flags derived from what a member holds (and, for the
synthetic demo only, from the planted truth), and alerts scored against the planted
approach patterns.

Why a separate module: the klaxon itself never reads a world's truth; only this harness
(the CLI, the demo, tests and benchmarks) does, to say how well the rules work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from safehold.klaxon.events import MINOR_BANDS
from safehold.klaxon.flags import write_flags

TRUTH_NOTE = "planted truth of a synthetic world (demo only; a member uses its own data)"


class WorldFlagError(ValueError):
    """A world folder that lacks what the flags need."""


def platform_members(world: Path) -> list[str]:
    members = sorted(p.parent.name for p in (world / "members").glob("*/contact_events.parquet"))
    if not members:
        raise WorldFlagError(
            f"{world} holds no members/*/contact_events.parquet; make a world with "
            "`safehold synth world --out DIR`"
        )
    return members


def registry_flags_from_results(results_csv: Path) -> pl.DataFrame:
    """Sender flags from `safehold member check`'s results.csv (what a member really has)."""
    frame = pl.read_csv(results_csv, schema_overrides={"typology": pl.Utf8})
    missing = {"account_id", "match"} - set(frame.columns)
    if missing:
        raise WorldFlagError(
            f"{results_csv}: missing column(s) {', '.join(sorted(missing))}; give the "
            "results.csv written by `safehold member check`"
        )
    typology = pl.col("typology") if "typology" in frame.columns else pl.lit(None, pl.Utf8)
    return frame.filter(pl.col("match").fill_null(False)).select(
        pl.col("account_id").alias("account"),
        pl.lit("registry").alias("source"),
        pl.lit(None, pl.Utf8).alias("band"),
        pl.lit(None, pl.Float64).alias("score"),
        pl.concat_list(
            pl.when(typology.is_not_null())
            .then(pl.format("registry match (offence typology: {})", typology))
            .otherwise(pl.lit("registry match"))
        ).alias("reasons"),
    )


def registry_flags_from_truth(world: Path, member_id: str) -> pl.DataFrame:
    """Synthetic demo only: the member's accounts whose holder has an active registration
    with a justice member, as a perfect registry check would find them."""
    truth = pl.read_parquet(world / "truth" / "justice_records.parquet")
    statuses = pl.concat(
        [
            pl.read_parquet(path, columns=["record_id", "status"])
            for path in sorted((world / "members").glob("*/justice_records.parquet"))
        ]
    )
    people = truth.join(statuses, on="record_id").filter(pl.col("status") == "active")
    accounts = pl.read_parquet(world / "truth" / "accounts.parquet").filter(
        pl.col("member_id") == member_id
    )
    return (
        accounts.join(people.select("person_id").unique(), on="person_id", how="semi")
        .select(
            pl.col("account_id").alias("account"),
            pl.lit("registry").alias("source"),
            pl.lit(None, pl.Utf8).alias("band"),
            pl.lit(None, pl.Float64).alias("score"),
            pl.concat_list(pl.lit("registry match (active registration)")).alias("reasons"),
        )
        .sort("account")
    )


def recipient_markers(world: Path, member_id: str) -> pl.DataFrame:
    """Minors from the member's own account table (declared age band); the vulnerable-child
    cohort from the planted truth (synthetic demo only)."""
    accounts = pl.read_parquet(
        world / "members" / member_id / "accounts.parquet", columns=["account_id", "age_band"]
    )
    truth_accounts = pl.read_parquet(world / "truth" / "accounts.parquet")
    people = pl.read_parquet(
        world / "truth" / "people.parquet", columns=["person_id", "is_vulnerable_child"]
    )
    vulnerable = truth_accounts.join(
        people.filter(pl.col("is_vulnerable_child")), on="person_id", how="semi"
    ).select("account_id")
    return (
        accounts.with_columns(
            pl.col("account_id").is_in(vulnerable["account_id"].implode()).alias("vulnerable")
        )
        .filter(pl.col("age_band").is_in(MINOR_BANDS) | pl.col("vulnerable"))
        .select(pl.col("account_id").alias("account"), "age_band", "vulnerable")
        .sort("account")
    )


@dataclass
class Scores:
    """Alerts against the planted approaches of one world."""

    events: int = 0
    alerts: int = 0
    true_alerts: int = 0
    lookalike_alerts: int = 0
    approaches: int = 0
    found: int = 0
    by_pattern: dict[str, tuple[int, int]] = field(default_factory=dict)  # pattern: found, all
    alerts_without_reason: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.approaches if self.approaches else float("nan")

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else float("nan")

    @property
    def alerts_per_million(self) -> float:
        return self.alerts / self.events * 1e6 if self.events else float("nan")

    def figures(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "alerts": self.alerts,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "alerts_per_1m_events": round(self.alerts_per_million, 1),
            "lookalike_alerts": self.lookalike_alerts,
            "approaches": self.approaches,
            "recall_by_pattern": {
                p: round(f / n, 4) if n else None for p, (f, n) in self.by_pattern.items()
            },
            "alerts_without_reason": self.alerts_without_reason,
        }


def write_truth_flags(world: Path, member_id: str, folder: Path) -> None:
    """Synthetic demo only: the member's flags folder as a perfect registry check and the
    planted vulnerable cohort would give it, its provenance saying so."""
    write_flags(
        folder,
        member_id=member_id,
        senders=registry_flags_from_truth(world, member_id),
        markers=recipient_markers(world, member_id),
        provenance={"registry": TRUTH_NOTE, "vulnerable": TRUTH_NOTE},
    )


def score_alerts(world: Path, alerts: pl.DataFrame, events: int) -> Scores:
    """Recall: planted approaches with an alert on their sender and one of their children,
    in a window that overlaps the approach. Precision: alerts whose (sender, child) is a
    planted approach pair. Look-alikes: alerts on a benign look-alike's contact."""
    approaches = pl.read_parquet(world / "truth" / "approaches.parquet")
    pairs = approaches.explode("recipient_accounts").select(
        "approach_id",
        "patterns",
        "start",
        "end",
        pl.col("sender_account").alias("sender"),
        pl.col("recipient_accounts").alias("recipient"),
    )
    matched = alerts.join(pairs, on=["sender", "recipient"], how="inner").filter(
        (pl.col("window_start") <= pl.col("end")) & (pl.col("window_end") > pl.col("start"))
    )
    found_ids = set(matched["approach_id"].to_list())
    true_alert_ids = set(matched["alert_id"].to_list())
    truth_events = pl.read_parquet(world / "truth" / "contact_events.parquet")
    lookalike_ids = truth_events.filter(pl.col("pattern") == "benign_lookalike")["event_id"]
    lookalike_pairs = (
        pl.concat(
            [
                pl.read_parquet(
                    world / "members" / m / "contact_events.parquet",
                    columns=["event_id", "sender_account", "recipient_account"],
                )
                for m in platform_members(world)
            ]
        )
        .filter(pl.col("event_id").is_in(lookalike_ids.implode()))
        .select(
            pl.col("sender_account").alias("sender"), pl.col("recipient_account").alias("recipient")
        )
        .unique()
    )
    scores = Scores(
        events=events,
        alerts=alerts.height,
        true_alerts=len(true_alert_ids),
        lookalike_alerts=alerts.join(
            lookalike_pairs, on=["sender", "recipient"], how="semi"
        ).height,
        approaches=approaches.height,
        found=len(found_ids),
        alerts_without_reason=int((alerts["reasons"].list.len() == 0).sum()),
    )
    for pattern in ("fan_out", "first_contact", "night", "escalating"):
        having = approaches.filter(pl.col("patterns").list.contains(pattern))["approach_id"]
        found = sum(1 for a in having.to_list() if a in found_ids)
        scores.by_pattern[pattern] = (found, having.len())
    return scores
