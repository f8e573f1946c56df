"""`safehold triage ...`: triage seized devices' extractions and rank them into a queue."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safehold.cli import triage_hub
from safehold.cli.console import console, fail, step_progress
from safehold.cli.triage_refer import refer
from safehold.hashing.hashsets import HashSetError
from safehold.triage.queue import QueueEntry, QueueError, load_reports, rank
from safehold.triage.report import write_report
from safehold.triage.run import STEPS, load_hash_sets, triage_device

app = typer.Typer(
    help="Device triage: artifacts, known-image matching, conversation risk, case queue.",
    no_args_is_help=True,
)
app.command("refer")(refer)


@app.command("run")
def run(
    extraction: Annotated[Path, typer.Argument(help="Folder, zip or tar of the extraction.")],
    out: Annotated[Path, typer.Option(help="Directory for report.json and report.html.")],
    hashset: Annotated[
        list[Path] | None,
        typer.Option(help="Hash set (VICS JSON or CSV); repeat for several."),
    ] = None,
    csv_profile: Annotated[
        str, typer.Option(help="Regional profile for CSV hash lists' category codes (US, UK).")
    ] = "US",
    workers: Annotated[int, typer.Option(help="Files hashed at once (0: one per core).")] = 0,
    hub: triage_hub.OptionalHub = None,
    hub_key_file: triage_hub.HubKeyFile = None,
    key: triage_hub.CoalitionKeyFile = None,
    region: triage_hub.Region = "GB",
) -> None:
    """Triage one extraction; the evidence is only read, never written.

    With --hub the device's case (score, reasons, counts; no evidence) is pushed to the
    hub's cases tier; with --key as well, its contacts' phone numbers and emails are first
    pseudonymised here and checked against the offender registry (match or no match)."""
    if not extraction.exists():
        fail(f"{extraction}: no such extraction; give a folder, zip or tar")
    if workers < 0:
        fail(f"--workers must be zero or more, got {workers}")
    if key is not None and hub is None:
        fail("--key checks contacts through the hub: give --hub URL (and --hub-key-file) too")
    started = time.perf_counter()
    sets = list(hashset or [])
    try:
        index = load_hash_sets(sets, csv_profile=csv_profile) if sets else None
    except HashSetError as error:
        fail(str(error))
    with ExitStack() as stack:
        api = stack.enter_context(triage_hub.hub_api(hub, hub_key_file)) if hub else None
        lookup = (
            triage_hub.registry_lookup(api, key, region)
            if api is not None and key is not None
            else None
        )
        with step_progress(STEPS, f"triage {extraction.name}") as step:
            report = triage_device(
                extraction,
                hash_index=index,
                hash_set_names=[p.name for p in sets],
                workers=workers or None,
                step=step,
                registry=lookup,
            )
        json_path, html_path = write_report(report, out)
        if api is not None and hub is not None:
            if report.registry_checked is not None:
                console.print(
                    f"registry: {len(report.registry_matches)} of {report.registry_checked} "
                    "device contacts match (pseudonymised; details in the report only)"
                )
            triage_hub.push_cases(api, hub, [report])
    console.print(
        f"triaged {extraction} ({report.files} files, {report.messages} messages) in "
        f"{time.perf_counter() - started:.1f}s: score {report.score:.1f}, "
        f"{len(report.hash_matches)} known, {len(report.near_duplicates)} near-duplicates, "
        f"{len(report.not_processed)} not processed; wrote {json_path} and {html_path}"
    )


def print_queue(ranked: list[QueueEntry]) -> None:
    """The case queue as a Rich table: rank, device, score and the first reason."""
    table = Table(title="Case queue (ranks work for examiners; people decide)")
    for column in ("rank", "device", "score", "known", "near", "warned", "first reason"):
        table.add_column(column)
    for entry in ranked:
        r = entry.report
        table.add_row(
            str(entry.rank),
            r.device,
            f"{r.score:.1f}",
            str(len(r.hash_matches)),
            str(len(r.near_duplicates)),
            f"{sum(c.warned for c in r.conversations)}/{len(r.conversations)}",
            r.reasons[0] if r.reasons else "",
        )
    console.print(table)


@app.command("queue")
def queue(
    results: Annotated[list[Path], typer.Argument(help="Result directories of `triage run`.")],
    out: Annotated[Path | None, typer.Option(help="Also write the queue as JSON here.")] = None,
    hub: triage_hub.OptionalHub = None,
    hub_key_file: triage_hub.HubKeyFile = None,
) -> None:
    """Rank many devices' reports into a case queue, most urgent first, with reasons.

    With --hub each device's case (score, reasons, counts; no evidence) is pushed to the
    hub's cases tier, once per device: a rerun is a replay, a newer triage an update."""
    try:
        ranked = rank(load_reports(results))
    except QueueError as error:
        fail(str(error))
    print_queue(ranked)
    if hub is not None:
        with triage_hub.hub_api(hub, hub_key_file) as api:
            pushed = triage_hub.push_cases(api, hub, [e.report for e in ranked])
        console.print(f"pushed {len(pushed)} device cases to the hub's cases tier")
    if out is not None:
        rows = [
            {
                "rank": e.rank,
                "device": e.report.device,
                "directory": str(e.directory),
                "score": e.report.score,
                "reasons": e.report.reasons,
            }
            for e in ranked
        ]
        out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        console.print(f"wrote the queue of {len(rows)} devices to {out}")


@app.command("synth-devices")
def synth_devices(
    out: Annotated[Path, typer.Option(help="Directory for the devices, hash set and truth.")],
    serious: Annotated[int, typer.Option(help="Devices with planted serious material.")] = 3,
    others: Annotated[int, typer.Option(help="Ordinary devices.")] = 7,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same bytes.")] = 0,
) -> None:
    """Generate synthetic Android and iOS extractions and a synthetic VICS hash set."""
    from safehold.synth.devices import generate_devices, standard_specs

    if serious < 0 or others < 0 or serious + others == 0:
        fail("--serious and --others must be zero or more and not both zero")
    with console.status("generating synthetic devices"):
        truths = generate_devices(out, standard_specs(serious, others), seed=seed)
    console.print(
        f"wrote {len(truths)} devices to {out / 'devices'}, the hash set {out / 'known_hashes.json'} "
        f"and the planted truth {out / 'truth.json'}"
    )
