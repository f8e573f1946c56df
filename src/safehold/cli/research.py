"""`safehold research ...`: run a pre-registered cohort study inside the research enclave."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safehold.cli.console import console, fail, step_progress
from safehold.research.errors import StudyError
from safehold.research.output import check_out_dir, write_study
from safehold.research.prereg import Outcome
from safehold.research.study import STEPS, run_study
from safehold.research.world_data import cached_enclave, link_cohort, linkage_summary

_World = Annotated[
    Path,
    typer.Option(
        help="Folder written by `safehold synth world` or by `safehold hub export enclave`."
    ),
]

app = typer.Typer(help="Research enclave: pre-registered cohort studies.", no_args_is_help=True)


@app.command("run")
def run(
    world: _World,
    prereg: Annotated[Path, typer.Option(help="Pre-registration YAML (see examples/).")],
    out: Annotated[
        Path, typer.Option(help="Folder for report.json, model-card.html and any model.")
    ],
) -> None:
    """Run the study the pre-registration describes; release a model only if the gate allows."""
    started = time.perf_counter()
    try:
        check_out_dir(out)
        with step_progress(STEPS, "study") as advance:
            result = run_study(world, prereg, advance)
        written = write_study(result, out)
    except StudyError as exc:
        fail(str(exc))
    s = result.summary
    primary = s["models"][s["primary_model"]]["metrics"]
    console.print(f"[bold]{s['title']}[/]")
    link = s["linkage"]
    line = (
        f"Linkage: {link['linked_labels']} of {link['labels']} records linked to "
        f"{link['linked_accounts']} accounts"
    )
    if "quality" in link:
        q = link["quality"]["case_accounts"]
        line += f" (case accounts: precision {q['precision']:.3f}, recall {q['recall']:.3f})"
    console.print(line)
    console.print(
        f"Finding: [bold]{s['verdict']}[/] (permutation p = {s['permutation_test']['p_value']})"
    )
    auroc, ppv = primary["auroc"], primary["ppv_at_prevalence"]
    console.print(
        f"{s['primary_model']}: AUROC {auroc['value']:.3f} ({auroc['low']:.3f} to {auroc['high']:.3f}); "
        f"of every 100 accounts flagged, about {round(100 * ppv['value'])} would be cases "
        f"at a prevalence of {s['prereg']['prevalence']:.2%}"
    )
    if result.gate.released:
        console.print(f"[green]Released[/]: model in {out / 'model'}")
    else:
        console.print("[red]Not released[/]:")
        for reason in result.gate.reasons:
            console.print(f"  - {reason}", highlight=False)
    console.print(
        f"Wrote {', '.join(p.name for p in written)} to {out} in {time.perf_counter() - started:.1f} s; "
        f"model card: {out / 'model-card.html'}"
    )


LINK_STEPS = ("reading", "linking", "evaluating")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Whole or nothing: written beside the destination, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(payload, indent=2) + "\n")
        Path(staging).replace(path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _quality_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Linkage against the synthetic truth")
    for column in ("method", "level", "true", "found", "correct", "precision", "recall"):
        table.add_column(column, justify="left" if column in ("method", "level") else "right")
    quality = summary["quality"]
    for method, figures in (
        ("Splink", quality),
        ("exact pseudonyms only", quality["baseline_exact_pseudonyms"]),
    ):
        for level in ("pairs", "case_accounts"):
            f = figures[level]
            table.add_row(
                method, level.replace("_", " "), str(f["true"]), str(f["found"]),
                str(f["correct"]), f"{f['precision']:.3f}", f"{f['recall']:.3f}",
            )  # fmt: skip
    return table


@app.command("link")
def link(
    world: _World,
    out: Annotated[Path, typer.Option(help="JSON file for the linkage summary.")],
    cohort: Annotated[
        Outcome, typer.Option(help="Which cohort's labels to link to platform accounts.")
    ] = Outcome.CONVICTED_OFFENDER,
    seed: Annotated[int, typer.Option(help="Seed of the LSH bands and u sampling.")] = 0,
) -> None:
    """Link a cohort's labels to platform accounts and say how good the linkage is.

    Only link counts and, on a synthetic world, precision and recall leave this command:
    no pairwise score or match weight is printed or written."""
    started = time.perf_counter()
    try:
        with step_progress(LINK_STEPS, "linkage") as advance:
            advance("reading")
            data = cached_enclave(world)
            advance("linking")
            linkage, labels = link_cohort(data, cohort, seed)
            advance("evaluating")
            summary = {"cohort": cohort.value, **linkage_summary(linkage, labels, data)}
        _write_json(out, summary)
    except StudyError as exc:
        fail(str(exc))
    console.print(
        f"Linked {summary['linked_labels']} of {summary['labels']} {cohort.value} records to "
        f"{summary['linked_accounts']} of {summary['accounts']} accounts "
        f"({summary['possible_pairs']} candidate pairs of match probability "
        f"{summary['possible_match_probability']} or more, linked at "
        f"{summary['threshold_match_probability']} or more)."
    )
    if "quality" in summary:
        console.print(_quality_table(summary))
    else:
        console.print("No ground truth in this input: precision and recall are not known.")
    console.print(f"Wrote {out} in {time.perf_counter() - started:.1f} s.")
