"""How many contact events per second the klaxon screens on one core, all rules on.

Ours: ``prepare_events`` (every check on every event) then ``engine.screen`` (candidate
filter, flags and markers joined, fan-out, repeated night contact, escalating frequency,
first contact, age gap, vulnerable child, conversation risk, severities, alerts with
reasons and ids), on each platform of a synthetic world, events already in memory; and
the candidate filter alone (the one pass over every event: the rest runs on the events
from adults to children, whose share of all events the generator sets, 13% here). For
sizing, the same platforms are screened again with ordinary traffic added (each
platform's own events that are not from an adult to a child, drawn again under new ids)
until the candidates are 5% and 2% of events: the same alerts, checked, at a mix nearer a
platform's than the generator's, which plants approaches densely. Baselines in the same
process on the same events: (a) a bare Polars semi-join of the events with the flagged
senders (the practical ceiling: one hash look-up per event), on the events as prepared and
again on them in one piece (a join runs faster on one piece; the engine does not care), and
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


def _semi_join(events: pl.DataFrame, flags: FlagSet, runs: int) -> float:
    """Baseline (a): the events whose sender is flagged, one hash look-up per event."""
    flagged = flags.senders.select("sender")
    return _best_of(runs, lambda: events.join(flagged, on="sender", how="semi"))


def _semi_join_and_screen(
    ready: pl.DataFrame, flags: FlagSet, rules: RuleSet, runs: int
) -> dict[str, float]:
    return {
        "semi_join": _semi_join(ready, flags, runs),
        "screen": _best_of(runs, lambda: screen(ready, flags, rules)),
    }


def _measure(
    member: str,
    raw: pl.DataFrame,
    ready: pl.DataFrame,
    flags: FlagSet,
    rules: RuleSet,
    clock: ClockLimits,
    runs: int,
) -> dict[str, float]:
    whole = ready.rechunk()  # prepare_events gives its input's pieces; a join likes one
    return {
        **_semi_join_and_screen(ready, flags, rules, runs),
        "semi_join_one_piece": _semi_join(whole, flags, runs),
        "candidate_filter": _best_of(runs, lambda: candidate_events(ready, flags)),
        "prepare_and_screen": _best_of(
            runs,
            lambda: screen(
                prepare_events(raw, source=member, member_id=member, clock=clock), flags, rules
            ),
        ),
    }


def diluted(ready: pl.DataFrame, flags: FlagSet, share: float, seed: int) -> pl.DataFrame:
    """The platform's events with ordinary ones added (drawn from its own events that are
    not from an adult to a child, under new event ids) until the candidates are ``share``
    of all events, in time order: the same alerts, at a platform's traffic mix rather than
    the generator's, which plants approaches densely."""
    candidates = candidate_events(ready, flags)
    extra = round(candidates.height / share) - ready.height
    if extra <= 0:
        return ready
    ordinary = ready.join(candidates.select("event_id"), on="event_id", how="anti")
    added = ordinary.sample(n=extra, with_replacement=True, seed=seed).with_columns(
        pl.format("{}-ordinary-{}", pl.col("event_id"), pl.int_range(pl.len())).alias("event_id")
    )
    return pl.concat([ready, added]).sort("at", maintain_order=True).rechunk()


def _at_shares(
    platforms: list[tuple[str, pl.DataFrame, pl.DataFrame, FlagSet]],
    shares: list[float],
    rules: RuleSet,
    runs: int,
) -> list[dict[str, float]]:
    """Semi-join and screen on every platform diluted to each candidate share."""
    found = []
    expected = [screen(ready, flags, rules) for _, _, ready, flags in platforms]
    for share in shares:
        events = 0
        seconds: dict[str, float] = defaultdict(float)
        for index, (_, _, ready, flags) in enumerate(platforms):
            mixed = diluted(ready, flags, share, seed=index)
            if not screen(mixed, flags, rules).equals(expected[index]):
                raise SystemExit(f"ordinary traffic changed the alerts at share {share}")
            events += mixed.height
            for key, value in _semi_join_and_screen(mixed, flags, rules, runs).items():
                seconds[key] += value
        found.append(
            {
                "share": share,
                "events": events,
                "semi_join": events / seconds["semi_join"],
                "screen": events / seconds["screen"],
            }
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loop-events", type=int, default=200_000)
    parser.add_argument(
        "--shares",
        default="0.05,0.02",
        help="candidate shares to dilute the world's events to with ordinary traffic "
        "(comma-separated; empty: none)",
    )
    args = parser.parse_args()
    shares = [float(v) for v in args.shares.split(",") if v.strip()]
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
    with console.status("screening the platforms diluted with ordinary traffic"):
        sized = _at_shares(platforms, shares, rules, args.runs)
    figures: dict[str, object] = {
        "events": events,
        "platforms": len(platforms),
        "alerts": alerts,
        "candidates": candidates,
        "candidate_share": round(candidates / events, 4),
        "cores": 1,
        **{f"{k}_events_per_s": round(v) for k, v in rate.items()},
        "screen_vs_semi_join": round(rate["semi_join"] / rate["screen"], 2),
        "screen_vs_semi_join_one_piece": round(rate["semi_join_one_piece"] / rate["screen"], 2),
        "prepare_and_screen_vs_semi_join": round(rate["semi_join"] / rate["prepare_and_screen"], 2),
        "screen_vs_python_loop": round(rate["screen"] / rate["python_loop"], 1),
        "goal_events_per_s": 10_000_000,
        "goal_vs_semi_join": 4,
        "at_candidate_share": {
            f"{r['share']:g}": {
                "events": r["events"],
                "screen_events_per_s": round(r["screen"]),
                "semi_join_events_per_s": round(r["semi_join"]),
                "screen_vs_semi_join": round(r["semi_join"] / r["screen"], 2),
            }
            for r in sized
        },
    }
    table = Table(
        title=f"klaxon batch screening, one core, CPU time ({events:,} events, all rules on)"
    )
    table.add_column("method")
    table.add_column("events/s", justify="right")
    table.add_column("vs semi-join", justify="right")
    labels = {
        "semi_join": "baseline (a): bare Polars semi-join with the flagged senders",
        "semi_join_one_piece": "baseline (a) on the same events in one piece (rechunked, "
        "not timed)",
        "candidate_filter": "ours, first pass only: adult-to-child candidates",
        "screen": "ours: engine.screen, all rules and windows",
        "prepare_and_screen": "ours: checks on every event, then engine.screen",
        "python_loop": f"baseline (b): per-event Python loop ({sample.height:,} events)",
    }
    for key, label in labels.items():
        table.add_row(label, f"{rate[key]:,.0f}", f"{rate['semi_join'] / rate[key]:.1f}x")
    console.print(table)
    if sized:
        mix = Table(
            title="the same platforms with ordinary traffic added (the same alerts): sizing "
            "for a platform's mix, not the goal's measure"
        )
        for column in ("candidates' share", "events", "screen, events/s", "vs semi-join"):
            mix.add_column(column, justify="right")
        for r in sized:
            mix.add_row(
                f"{r['share']:.0%}",
                f"{r['events']:,}",
                f"{r['screen']:,.0f}",
                f"{r['semi_join'] / r['screen']:.1f}x",
            )
        console.print(mix)
    console.print(
        f"{candidates:,} candidates ({candidates / events:.1%} of events: the windowed rules "
        f"run on these), {alerts:,} alerts; goal: 10,000,000 events/s on one core, within 4x "
        "of the semi-join. Events are in memory; reading Parquet is not timed."
    )
    print(json.dumps({"benchmark": "klaxon", "figures": figures}))


if __name__ == "__main__":
    main()
