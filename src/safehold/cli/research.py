"""`safehold research ...`: run a pre-registered cohort study inside the research enclave."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from safehold.cli.console import console, fail, step_progress
from safehold.research.errors import StudyError
from safehold.research.output import check_out_dir, write_study
from safehold.research.study import STEPS, run_study

app = typer.Typer(help="Research enclave: pre-registered cohort studies.", no_args_is_help=True)


@app.command("run")
def run(
    world: Annotated[Path, typer.Option(help="Folder written by `safehold synth world`.")],
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
