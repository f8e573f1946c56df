"""How many contact events per second the klaxon screens on one core, all rules on.

Ours: ``prepare_events`` (every check on every event) then ``engine.screen`` (candidate
filter, flags and markers joined, fan-out, repeated night contact, escalating frequency,
first contact, age gap, vulnerable child, conversation risk, severities, alerts with
reasons and ids), on each platform of a synthetic world, events already in memory; and
the candidate filter alone (the one pass over every event: the rest runs on the events
from adults to children, whose share of all events the generator sets). Baselines in the same process on the same events: (a) a bare Polars semi-join of the
events with the flagged senders (the practical ceiling: one hash look-up per event) and
(b) a plain per-event Python loop doing the same kind of screening with dicts and sets
(on a slice; it does fewer rules than ours, so it flatters the loop). The process is
pinned to one core and Polars to one thread; times are the process's CPU time (best of
--runs), because the machine is shared and wall time would count other processes' turns.

    python benchmarks/klaxon.py [--people 300000] [--runs 3]
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"

import argparse
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from safehold.cli.klaxon_world import (
    platform_members,
    write_truth_flags,
)
from safehold.klaxon.durations import micros
from safehold.klaxon.engine import candidate_events, screen
from safehold.klaxon.events import MINOR_BANDS, ClockLimits, prepare_events
from safehold.klaxon.flags import FlagSet, load_flags
from safehold.klaxon.rules import RuleSet, load_rules
from safehold.synth.config import make_config
from safehold.synth.world import generate_world

BANDS = ("under_13", "13_15", "16_17", "18_24", "25_34", "35_44", "45_54", "55_64", "65_plus")


def _best_of(runs: int, action: Callable[[], object]) -> float:
    """The fastest run's CPU seconds (the process is pinned to one core and Polars to one
    thread, so this is one core's work; on a shared machine wall time also counts the
    time other processes held the core)."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best


def python_loop(rows: list[dict[str, Any]], flags: FlagSet, rules: RuleSet) -> int:
    """Per-event screening in plain Python: flagged sender, first contact, fan-out, night,
    age gap; one alert per (sender, child, window) reaching alert_at."""
    flagged = set(flags.senders.filter(pl.col("registry"))["sender"].to_list())
    children = set(flags.child_accounts.to_list())
    window = micros(rules.window) / 1e6
    minors = set(MINOR_BANDS)
    band_index = {b: i for i, b in enumerate(BANDS)}
    fan_children: dict[tuple[str, int], set[str]] = defaultdict(set)
    nights: dict[tuple[str, str], list[float]] = defaultdict(list)
    fired: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    severity = {"flagged": 60, "fan_out": 50, "night": 35, "first": 15, "age_gap": 10}
    for row in rows:
        recipient, sender = row["recipient_account"], row["sender_account"]
        if not (row["recipient_age_band"] in minors or recipient in children):
            continue
        if row["sender_age_band"] in minors:
            continue
        at = row["occurred_at"]
        t = at.timestamp()
        key = (sender, recipient, int(t // window))
        hits = fired[key]
        if sender in flagged:
            hits.add("flagged")
        if row["first_contact"]:
            hits.add("first")
        seen = fan_children[(sender, int(t // 172_800))]
        seen.add(recipient)
        if len(seen) >= 5:
            hits.add("fan_out")
        if at.hour < 5:
            times = nights[(sender, recipient)]
            if times and t - times[-1] <= 30 * 86_400:
                hits.add("night")
            times.append(t)
        s_band = band_index.get(row["sender_age_band"] or "", -1)
        r_band = band_index.get(row["recipient_age_band"] or "", 0)
        if s_band >= 3 and s_band - r_band >= 3:
            hits.add("age_gap")
    return sum(1 for hits in fired.values() if sum(severity[h] for h in hits) >= rules.alert_at)


def _measure(
    member: str,
    raw: pl.DataFrame,
    ready: pl.DataFrame,
    flags: FlagSet,
    rules: RuleSet,
    clock: ClockLimits,
    runs: int,
) -> dict[str, float]:
    flagged = flags.senders.select("sender")
    return {
        "semi_join": _best_of(runs, lambda: ready.join(flagged, on="sender", how="semi")),
        "candidate_filter": _best_of(runs, lambda: candidate_events(ready, flags)),
        "screen": _best_of(runs, lambda: screen(ready, flags, rules)),
        "prepare_and_screen": _best_of(
            runs,
            lambda: screen(
                prepare_events(raw, source=member, member_id=member, clock=clock), flags, rules
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loop-events", type=int, default=200_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    console = Console()
    rules = load_rules()
    clock = ClockLimits(now=datetime(2026, 12, 2, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as scratch:
        world = Path(scratch) / "world"
        with console.status(f"generating a world of {args.people:,} people"):
            generate_world(make_config(people=args.people, seed=2026, conversations=10), world)
        platforms: list[tuple[str, pl.DataFrame, pl.DataFrame, FlagSet]] = []
        for member in platform_members(world):
            folder = Path(scratch) / "flags" / member
            write_truth_flags(world, member, folder)
            raw = pl.read_parquet(world / "members" / member / "contact_events.parquet")
            ready = prepare_events(raw, source=member, member_id=member, clock=clock)
            platforms.append((member, raw, ready, load_flags(folder)))

    events = sum(p[2].height for p in platforms)
    seconds: dict[str, float] = defaultdict(float)
    alerts = candidates = 0
    for member, raw, ready, flags in platforms:
        for key, value in _measure(member, raw, ready, flags, rules, clock, args.runs).items():
            seconds[key] += value
        alerts += screen(ready, flags, rules).height
        candidates += candidate_events(ready, flags).height
    largest = max(platforms, key=lambda p: p[2].height)
    sample = largest[1].head(args.loop_events)
    loop_seconds = _best_of(1, lambda: python_loop(sample.to_dicts(), largest[3], rules))

    rate = {k: events / v for k, v in seconds.items()}
    rate["python_loop"] = sample.height / loop_seconds
    figures: dict[str, object] = {
        "events": events,
        "platforms": len(platforms),
        "alerts": alerts,
        "candidates": candidates,
        "candidate_share": round(candidates / events, 4),
        "cores": 1,
        **{f"{k}_events_per_s": round(v) for k, v in rate.items()},
        "screen_vs_semi_join": round(rate["semi_join"] / rate["screen"], 2),
        "prepare_and_screen_vs_semi_join": round(rate["semi_join"] / rate["prepare_and_screen"], 2),
        "screen_vs_python_loop": round(rate["screen"] / rate["python_loop"], 1),
        "goal_events_per_s": 10_000_000,
        "goal_vs_semi_join": 4,
    }
    table = Table(
        title=f"klaxon batch screening, one core, CPU time ({events:,} events, all rules on)"
    )
    table.add_column("method")
    table.add_column("events/s", justify="right")
    table.add_column("vs semi-join", justify="right")
    labels = {
        "semi_join": "baseline (a): bare Polars semi-join with the flagged senders",
        "candidate_filter": "ours, first pass only: adult-to-child candidates",
        "screen": "ours: engine.screen, all rules and windows",
        "prepare_and_screen": "ours: checks on every event, then engine.screen",
        "python_loop": f"baseline (b): per-event Python loop ({sample.height:,} events)",
    }
    for key, label in labels.items():
        table.add_row(label, f"{rate[key]:,.0f}", f"{rate['semi_join'] / rate[key]:.1f}x")
    console.print(table)
    console.print(
        f"{candidates:,} candidates ({candidates / events:.1%} of events: the windowed rules "
        f"run on these), {alerts:,} alerts; goal: 10,000,000 events/s on one core, within 4x "
        "of the semi-join. Events are in memory; reading Parquet is not timed."
    )
    print(json.dumps({"benchmark": "klaxon", "figures": figures}))


if __name__ == "__main__":
    main()
