"""`safehold klaxon ...`: contact screening with rules and reasons."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from safehold.cli import klaxon_stream
from safehold.cli.console import console, fail, step_progress
from safehold.cli.klaxon_world import (
    TRUTH_NOTE,
    Scores,
    WorldFlagError,
    platform_members,
    recipient_markers,
    registry_flags_from_results,
    registry_flags_from_truth,
    score_alerts,
    write_truth_flags,
)
from safehold.klaxon.alert_files import AlertFileError, read_alerts, write_alerts
from safehold.klaxon.conversation_risk import conversation_risk
from safehold.klaxon.durations import format_duration
from safehold.klaxon.engine import screen as screen_events
from safehold.klaxon.events import ClockLimits, EventInputError, prepare_events, read_events
from safehold.klaxon.flags import FlagError, load_flags, write_flags
from safehold.klaxon.model_flags import model_flags_from_scores
from safehold.klaxon.rules import RuleSet, RulesFileError, load_rules, reason_of

app = typer.Typer(
    help="Contact screening: flagged senders, children, rules with reasons, alerts.",
    no_args_is_help=True,
)
app.command("publish")(klaxon_stream.publish)
app.command("worker")(klaxon_stream.worker)


def _rules(path: Path | None) -> RuleSet:
    try:
        return load_rules(path)
    except RulesFileError as exc:
        fail(str(exc))


def clock_limits(now: str | None) -> ClockLimits:
    if now is None:
        return ClockLimits.wall_clock()
    try:
        moment = datetime.fromisoformat(now)
    except ValueError:
        fail(f"--now {now!r} is not an ISO date or time (for example 2026-04-01T00:00:00+00:00)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ClockLimits(now=moment)


@app.command("flags")
def flags(
    world: Annotated[Path, typer.Option(help="A world from `safehold synth world`.")],
    member: Annotated[str, typer.Option(help="The platform member the flags are for.")],
    out: Annotated[Path, typer.Option(help="Flags folder to write.")],
    registry_results: Annotated[
        Path | None,
        typer.Option(
            help="results.csv from `safehold member check`; without it, registry matches "
            "come from the world's planted truth (synthetic demo only)."
        ),
    ] = None,
    conversations: Annotated[
        bool,
        typer.Option(
            help="Also score the member's conversations (messages.parquet) with the "
            "conversation risk model, for the conversation rule."
        ),
    ] = False,
    model_scores: Annotated[
        Path | None,
        typer.Option(
            help="scores.csv from `safehold member score`: the accounts a released model "
            "flags for review become model flags (band high), and alerts they fire carry the "
            "model's version, band and reasons."
        ),
    ] = None,
) -> None:
    """Make a member's flags folder: registry matches, minors, the vulnerable-child cohort."""
    if not (world / "members" / member / "accounts.parquet").is_file():
        fail(
            f"{world / 'members' / member / 'accounts.parquet'} not found: is {member} a platform in {world}?"
        )
    try:
        if registry_results is not None:
            senders = registry_flags_from_results(registry_results)
            registry_source = f"registry check results {registry_results}"
        else:
            senders = registry_flags_from_truth(world, member)
            registry_source = TRUTH_NOTE
        model_version = None
        if model_scores is not None:
            scored, model_version = model_flags_from_scores(model_scores)
            senders = pl.concat([senders, scored.cast(senders.schema)])
        markers = recipient_markers(world, member)
        risk = None
        if conversations:
            with console.status("scoring conversations"):
                risk = conversation_risk(
                    pl.read_parquet(world / "members" / member / "messages.parquet"),
                    pl.read_parquet(world / "members" / member / "conversations.parquet"),
                )
    except (WorldFlagError, OSError, ValueError, pl.exceptions.PolarsError) as exc:
        fail(str(exc))
    provenance = {
        "registry": registry_source,
        "minors": f"declared age bands in {member}'s accounts.parquet",
        "vulnerable": TRUTH_NOTE,
    }
    if model_scores is not None:
        provenance["model"] = f"released model {model_version}, scores {model_scores}"
    write_flags(
        out,
        member_id=member,
        senders=senders,
        markers=markers,
        conversation_risk=risk,
        provenance=provenance,
        model_version=model_version,
    )
    console.print(
        f"wrote flags for {member} to {out}: {senders.height:,} flagged senders "
        f"({registry_source}), {markers.height:,} child accounts "
        f"({int(markers['vulnerable'].sum()):,} in the vulnerable cohort, from the {TRUTH_NOTE})"
        + ("" if risk is None else f", {risk.height:,} conversations scored")
        + (
            ""
            if model_version is None
            else f"; model {model_version} flags "
            f"{int((senders['source'] == 'model').sum()):,} of the senders"
        )
    )


@app.command("rules")
def rules(
    path: Annotated[
        Path | None, typer.Argument(help="A rules file (default: the packaged rules).")
    ] = None,
) -> None:
    """Check a rules file and list its rules with their reasons."""
    rule_set = _rules(path)
    table = Table(
        title=f"Rules ({path or 'packaged default'}): alert at severity {rule_set.alert_at}, window {format_duration(rule_set.window)}"
    )
    for column in ("id", "kind", "severity", "reason"):
        table.add_column(column)
    for rule in rule_set.rules:
        kind = str(getattr(rule, "kind", ""))
        table.add_row(
            rule.id, kind, str(rule.severity) + ("" if rule.enabled else " (off)"), reason_of(rule)
        )
    console.print(table)


@app.command("screen")
def screen(
    events: Annotated[Path, typer.Argument(metavar="EVENTS.parquet", help="Contact events.")],
    flags_dir: Annotated[Path, typer.Option("--flags", help="The member's flags folder.")],
    out: Annotated[Path, typer.Option(help="Alerts Parquet; merged by alert id if it exists.")],
    rules_path: Annotated[
        Path | None, typer.Option("--rules", help="Rules file (default: the packaged rules).")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="The time to judge clock skew against (default: now)."),
    ] = None,
) -> None:
    """Screen a batch of contact events; write alerts with their reasons."""
    rule_set = _rules(rules_path)
    try:
        flag_set = load_flags(flags_dir)
        raw = read_events(events)
        prepared = prepare_events(
            raw, source=str(events), member_id=flag_set.member_id, clock=clock_limits(now)
        )
        read_alerts(out)
    except (FlagError, EventInputError, AlertFileError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    alerts = screen_events(prepared, flag_set, rule_set)
    seconds = time.perf_counter() - started
    written = write_alerts(out, alerts)
    console.print(
        f"screened {prepared.height:,} events for {flag_set.member_id} in {seconds:.2f}s: "
        f"{alerts.height:,} alerts ({written.new:,} new, {written.updated:,} updated, "
        f"{written.unchanged:,} already held); {written.total:,} alerts in {out}"
    )


@app.command("world")
def world(
    world_dir: Annotated[Path, typer.Argument(metavar="WORLD", help="A synthetic world.")],
    out: Annotated[Path, typer.Option(help="Folder for each platform's flags and alerts.")],
    rules_path: Annotated[
        Path | None, typer.Option("--rules", help="Rules file (default: the packaged rules).")
    ] = None,
) -> None:
    """Screen every platform of a synthetic world; score the alerts against the planted
    approaches (recall, precision, alerts per 1,000,000 events)."""
    rule_set = _rules(rules_path)
    try:
        members = platform_members(world_dir)
    except WorldFlagError as exc:
        fail(str(exc))
    clock = ClockLimits(now=datetime.now(UTC), max_past=ClockLimits.wall_clock().max_past * 10)
    all_alerts: list[pl.DataFrame] = []
    events_seen = 0
    seconds = 0.0
    with step_progress(members, f"screening {len(members)} platforms") as advance:
        for member in members:
            advance(member)
            folder = out / member
            write_truth_flags(world_dir, member, folder / "flags")
            flag_set = load_flags(folder / "flags")
            prepared = prepare_events(
                read_events(world_dir / "members" / member / "contact_events.parquet"),
                source=member,
                member_id=member,
                clock=clock,
            )
            started = time.perf_counter()
            alerts = screen_events(prepared, flag_set, rule_set)
            seconds += time.perf_counter() - started
            write_alerts(folder / "alerts.parquet", alerts)
            all_alerts.append(alerts)
            events_seen += prepared.height
    scores = score_alerts(world_dir, pl.concat(all_alerts), events_seen)
    figures = scores.figures()
    print_scores(scores, f"Klaxon on {world_dir} (flags from the {TRUTH_NOTE})", seconds)
    (out / "scores.json").write_text(json.dumps(figures, indent=2) + "\n")
    console.print(
        f"wrote flags and alerts per platform under {out}, figures in {out / 'scores.json'}"
    )


def print_scores(scores: Scores, title: str, seconds: float | None = None) -> None:
    """Alerts against the planted approaches, as a table."""
    figures = scores.figures()
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("events screened", f"{scores.events:,}")
    table.add_row("alerts", f"{scores.alerts:,}")
    table.add_row("alerts per 1,000,000 events", f"{scores.alerts_per_million:,.0f}")
    table.add_row("recall (planted approaches with an alert)", f"{scores.recall:.3f}")
    for pattern, value in figures["recall_by_pattern"].items():
        table.add_row(
            f"  recall, approaches with {pattern}", "-" if value is None else f"{value:.3f}"
        )
    table.add_row("precision (alerts on a planted approach pair)", f"{scores.precision:.3f}")
    table.add_row("alerts on benign look-alikes", f"{scores.lookalike_alerts:,}")
    table.add_row("alerts without a reason", f"{scores.alerts_without_reason:,}")
    if seconds is not None:
        table.add_row("screening throughput", f"{scores.events / max(seconds, 1e-9):,.0f} events/s")
    console.print(table)
