"""`safehold synth ...`: the seeded synthetic coalition world."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safehold.cli.console import console, fail, step_progress
from safehold.synth.config import ConfigError, make_config
from safehold.synth.world import (
    STEPS,
    WorldDestinationError,
    WorldSummary,
    check_destination,
    generate_world,
)

app = typer.Typer(
    help="Generate synthetic coalition worlds (never real people).", no_args_is_help=True
)


@app.command("world")
def world(
    out: Annotated[Path, typer.Option(help="Folder to write the world into.")],
    people: Annotated[int, typer.Option(help="People in the population.")] = 20_000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives identical files.")
    ] = 7,
    effect: Annotated[
        float, typer.Option(help="Offender effect size per feature group, 0 to 2 (0: no signal).")
    ] = 0.3,
    selection_bias: Annotated[
        float, typer.Option(help="How much deprivation drives being known to justice, 0 to 1.")
    ] = 0.5,
    vulnerable_effect: Annotated[
        float, typer.Option(help="Vulnerable-children effect size, 0 to 2.")
    ] = 0.6,
    conversations: Annotated[
        int | None,
        typer.Option(help="Conversations to generate (default people/20, at most 5000)."),
    ] = None,
    days: Annotated[int, typer.Option(help="Length of the simulated period in days.")] = 90,
) -> None:
    """Generate a whole coalition world: per-member Parquet, ground truth, world.json."""
    try:
        config = make_config(
            people=people,
            seed=seed,
            effect=effect,
            selection_bias=selection_bias,
            vulnerable_effect=vulnerable_effect,
            conversations=conversations,
            period_days=days,
        )
    except ConfigError as exc:
        fail(str(exc))
    try:
        check_destination(out)
    except WorldDestinationError as exc:
        fail(str(exc))
    started = time.perf_counter()
    with step_progress(STEPS, f"world of {people:,} people") as advance:
        summary = generate_world(config, out, progress=advance)
    print_summary(summary, time.perf_counter() - started)


def print_summary(summary: WorldSummary, seconds: float | None = None) -> None:
    counts = summary.counts
    table = Table(title=f"Synthetic world in {summary.out}", show_header=True)
    table.add_column("what")
    table.add_column("how many", justify="right")
    for key in (
        "people",
        "children",
        "offenders",
        "known_offenders",
        "vulnerable_children",
        "children_known_to_services",
        "planted_approach_events",
        "benign_lookalike_events",
        "conversations",
        "grooming_conversations",
    ):
        table.add_row(key.replace("_", " "), f"{counts[key]:,}")
    for group in ("accounts", "contact_events", "justice_records"):
        for member, n in counts[group].items():
            table.add_row(f"{group.replace('_', ' ')}: {member}", f"{n:,}")
    console.print(table)
    shares = counts["offenders_known_share_by_deprivation_quintile"]
    console.print(
        "Share of offenders known to justice agencies, by deprivation quintile "
        "(1 most deprived): "
        + ", ".join(f"{q}: {share:.0%}" for q, share in shares.items())
        + ". Offending itself was planted independently of deprivation."
    )
    bayes = summary.bayes_auroc
    off = bayes["offender_vs_general_population"]
    vul = bayes["vulnerable_vs_other_children"]
    console.print(
        f"Best separation the planted effects allow (Bayes-optimal AUROC): offenders {off['analytic']:.3f} "
        f"(on this sample {off['sample']:.3f}); vulnerable children {vul['analytic']:.3f} (sample {vul['sample']:.3f})."
    )
    console.print(
        f"On the published features, where counts hide part of it: offenders {off['observed']:.3f}, "
        f"vulnerable children {vul['observed']:.3f}; the ceiling a study of this world is held to."
    )
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    console.print(
        f"Wrote {len(summary.files)} files{took}: member folders under [bold]{summary.out / 'members'}[/], ground truth under [bold]{summary.out / 'truth'}[/], summary in [bold]{summary.out / 'world.json'}[/]."
    )
