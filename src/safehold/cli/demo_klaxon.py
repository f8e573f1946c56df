"""The demo's screening step: every platform's contact events through the klaxon's
in-process stream (micro-batches, window state carried), alerts with their reasons, scored
against the world's planted approaches. Flags come from the planted truth (synthetic demo
only: a member would use its registry-check results and its own markers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from safehold.cli.console import console, step_progress
from safehold.cli.demo_serve import store_klaxon_alerts
from safehold.cli.klaxon import print_scores
from safehold.cli.klaxon_world import (
    TRUTH_NOTE,
    platform_members,
    score_alerts,
    write_truth_flags,
)
from safehold.klaxon.alert_files import write_alerts
from safehold.klaxon.events import ClockLimits
from safehold.klaxon.flags import FlagStore
from safehold.klaxon.rules import load_rules
from safehold.klaxon.stream import StreamScreen

MICRO_BATCH = 5000


def run_klaxon(world_dir: Path, data_dir: Path) -> None:
    out = data_dir / "demo-klaxon"
    rules = load_rules()
    clock = ClockLimits(now=datetime.now(UTC), max_past=timedelta(days=3650))
    found: list[pl.DataFrame] = []
    by_member: dict[str, pl.DataFrame] = {}
    events_seen = 0
    members = platform_members(world_dir)
    with step_progress(members, "screening contact events") as advance:
        for member in members:
            advance(member)
            flags_dir = out / member / "flags"
            write_truth_flags(world_dir, member, flags_dir)
            stream = StreamScreen(FlagStore(flags_dir), rules, clock=lambda: clock)
            events = pl.read_parquet(world_dir / "members" / member / "contact_events.parquet")
            for offset in range(0, events.height, MICRO_BATCH):
                stream.feed(events.slice(offset, MICRO_BATCH))
            write_alerts(out / member / "alerts.parquet", stream.alerts)
            found.append(stream.alerts)
            by_member[member] = stream.alerts
            events_seen += events.height
    alerts = pl.concat(found)
    scores = score_alerts(world_dir, alerts, events_seen)
    print_scores(scores, f"Alerts against the planted approaches (flags from the {TRUTH_NOTE})")
    _print_examples(world_dir, alerts)
    console.print(
        f"Every alert names its rules and reasons; a person reviews it before anything is "
        f"done. Alerts per platform: {out}/<member>/alerts.parquet"
    )
    stored = store_klaxon_alerts(world_dir, data_dir, by_member)
    if stored:
        console.print(
            f"Sent {sum(stored.values()):,} alerts to the demo hub's review queue "
            f"({', '.join(f'{m}: {n:,}' for m, n in stored.items())}), pseudonymised as a "
            "platform would send them, each with its reasons and contact timeline."
        )


def _print_examples(world_dir: Path, alerts: pl.DataFrame) -> None:
    approaches = pl.read_parquet(world_dir / "truth" / "approaches.parquet")
    planted = (
        approaches.explode("recipient_accounts")
        .select(
            pl.col("sender_account").alias("sender"),
            pl.col("recipient_accounts").alias("recipient"),
            pl.lit(True).alias("planted"),
        )
        .unique()
    )
    top = (
        alerts.join(planted, on=["sender", "recipient"], how="left")
        .sort("severity", "alert_id", descending=[True, False])
        .head(5)
    )
    console.print("[bold]The five most severe alerts[/], each with its reasons:")
    for row in top.iter_rows(named=True):
        truth = "a planted approach" if row["planted"] else "not a planted approach"
        console.print(
            f"alert {row['alert_id'][:12]}, severity {row['severity']} ({truth}): "
            f"{row['sender']} -> {row['recipient']}, window from {row['window_start']:%Y-%m-%d}",
            highlight=False,
        )
        for reason in row["reasons"]:
            console.print(f"  - {reason}", highlight=False)
