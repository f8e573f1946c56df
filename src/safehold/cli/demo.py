"""`safehold demo`: the whole foundation in one command, on the embedded defaults."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.panel import Panel
from rich.table import Table

from safehold.cli.console import console, fail, step_progress
from safehold.cli.demo_hub import print_hub_run, run_hub
from safehold.cli.demo_klaxon import run_klaxon
from safehold.cli.demo_research import run_demo_study
from safehold.cli.demo_serve import finish_demo
from safehold.cli.demo_triage import run_triage_demo
from safehold.cli.synth import print_summary
from safehold.identity import SecretError, generate_secret_file, load_coalition_key
from safehold.identity.prepare import PreparedMember, find_raw_identifiers, prepare_member
from safehold.synth.config import ConfigError, make_config
from safehold.synth.world import (
    STEPS,
    WorldDestinationError,
    check_destination,
    generate_world,
)


def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo writes everything.")] = Path(
        "safehold-data"
    ),
    people: Annotated[int, typer.Option(help="People in the demo world.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    no_serve: Annotated[
        bool,
        typer.Option("--no-serve", help="Run everything but the hub server (for scripts, CI)."),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the served demo hub (127.0.0.1).")] = 8000,
) -> None:
    """Generate a small synthetic world, pseudonymise it as members would, and show the result."""
    try:
        config = make_config(people=people, seed=seed)
    except ConfigError as exc:
        fail(str(exc))
    world_dir = data_dir / "demo-world"
    key_path = data_dir / "coalition.key"
    exchange_dir = world_dir / "exchange"

    try:
        check_destination(world_dir)
    except WorldDestinationError as exc:
        fail(str(exc))
    console.rule("[bold]1. A synthetic coalition world")
    started = time.perf_counter()
    with step_progress(STEPS, f"world of {people:,} people") as advance:
        summary = generate_world(config, world_dir, progress=advance)
    print_summary(summary, time.perf_counter() - started)

    console.rule("[bold]2. Pseudonymised on each member's side")
    try:
        if key_path.exists():
            key = load_coalition_key(key_path)
            console.print(f"Using the coalition key in {key_path} (version {key.version}).")
        else:
            key = generate_secret_file(key_path, version=1)
            console.print(
                f"Made a new coalition key (version 1) in {key_path}, readable only by you (0600)."
            )
    except SecretError as exc:
        fail(str(exc))
    member_dirs = sorted((world_dir / "members").iterdir())
    prepared: list[PreparedMember] = []
    with step_progress([d.name for d in member_dirs], "preparing members") as advance:
        for member_dir in member_dirs:
            advance(member_dir.name)
            prepared.append(prepare_member(member_dir, key, exchange_dir / member_dir.name))
    _print_prepared(prepared)

    leaks = find_raw_identifiers(world_dir / "members", exchange_dir)
    if leaks:
        fail(
            f"{len(leaks)} raw identifiers found in the exchange files (first in {leaks[0]}); this is a bug"
        )
    console.print(
        "Checked: none of the raw emails, phone numbers, usernames or names held in the member folders "
        f"appears in the {sum(len(p.files) for p in prepared)} exchange files."
    )
    _print_example(exchange_dir)

    console.rule("[bold]3. The coalition hub")
    run = run_hub(world_dir, exchange_dir, data_dir, key)
    print_hub_run(run)

    console.rule("[bold]4. Contact screening (the klaxon)")
    run_klaxon(world_dir, data_dir)
    console.rule("[bold]5. A pre-registered study in the research enclave")
    run_demo_study(world_dir, data_dir)
    console.rule("[bold]6. Triage of seized devices (synthetic)")
    run_triage_demo(data_dir, hub=run, world_dir=world_dir)

    console.rule("[bold]What next")
    console.print(
        f"- Member-side raw data: {world_dir / 'members'}\n"
        f"- What would travel to the hub (exchange format v1, pseudonymised): {exchange_dir}\n"
        f"- Ground truth for judging studies and screening: {world_dir / 'truth'}; summary in {world_dir / 'world.json'}\n"
        "- The exchange format: docs/data-dictionary.md, or `safehold schema export schemas/`\n"
        f"- The demo hub's database and audit trail: {run.hub_dir}; serve it with "
        f"`SAFEHOLD_DATA_DIR={run.hub_dir} safehold hub serve` and open /docs\n"
        "- A bigger world, or one with no distinctive signal: "
        "`safehold synth world --people 1000000 --effect 0 --out safehold-data/null-world`"
    )
    finish_demo(run.hub_dir, serve=not no_serve, port=port)


_FILE_COLUMNS = (
    ("account_keys", "keys"),
    ("behaviour", "behav."),
    ("contact_events", "events"),
    ("conversations", "convs"),
    ("registry_entries", "reg."),
    ("cohort_labels", "labels"),
)


def _print_prepared(prepared: list[PreparedMember]) -> None:
    table = Table(title="Exchange-format records written per member")
    table.add_column("member", no_wrap=True)
    for _, header in _FILE_COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("left out", justify="right", no_wrap=True)
    for p in prepared:
        counts = [f"{p.files[name]:,}" if name in p.files else "" for name, _ in _FILE_COLUMNS]
        table.add_row(p.member.member_id, *counts, f"{p.rejected_identifiers:,}")
    console.print(table)
    console.print(
        "keys: account linkage keys; behav.: behaviour records; convs: conversations; "
        "events: contact events; reg.: registry entries; labels: cohort labels.\n"
        "'left out': identifiers that could not be normalised (for example a phone number "
        "that is not valid) and so were not pseudonymised; the rest of the record was kept."
    )


def _print_example(exchange_dir: Path) -> None:
    path = exchange_dir / "plat-small-1" / "behaviour.parquet"
    if not path.exists():
        return
    row = pl.read_parquet(path, n_rows=1).to_dicts()[0]
    shown = {k: v for k, v in row.items() if v is not None}
    text = json.dumps(dict(list(shown.items())[:12]), indent=2, default=str)
    console.print(
        Panel(text, title=f"one behaviour record as it would travel ({path})", expand=False)
    )
