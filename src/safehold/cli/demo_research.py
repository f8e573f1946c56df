"""The demo's research step: a pre-registered offender study on the demo world."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from safehold.cli.console import console, step_progress
from safehold.exchange import FEATURE_NAMES
from safehold.research.errors import StudyError
from safehold.research.output import write_study
from safehold.research.study import STEPS, run_study

DEMO_PREREG = {
    "title": "Demo: online behaviour of people convicted of child sexual offences",
    "question": "Does their platform behaviour differ from that of matched members of the "
    "general population, usefully at a realistic base rate?",
    "outcome": "convicted_offender",
    "features": list(FEATURE_NAMES),
    "prevalence": 0.005,
    "minimum_ppv": 0.2,
    "control_ratio": 10,
    "permutations": 99,
}


def run_demo_study(world_dir: Path, data_dir: Path) -> None:
    prereg = data_dir / "demo-prereg.yaml"
    prereg.write_text(
        "# Written by `safehold demo`; see examples/ for annotated pre-registrations.\n"
        + yaml.safe_dump(DEMO_PREREG, sort_keys=False)
    )
    out = data_dir / "demo-study"
    started = time.perf_counter()
    try:
        with step_progress(STEPS, "study") as advance:
            result = run_study(world_dir, prereg, advance)
        write_study(result, out)
    except StudyError as exc:
        # The world and the hub above are still worth having: say why, and go on.
        console.print(f"Study skipped: {exc}", highlight=False)
        return
    s = result.summary
    ppv = s["models"][s["primary_model"]]["metrics"]["ppv_at_prevalence"]["value"]
    console.print(
        f"Finding: [bold]{s['verdict']}[/] (permutation p = {s['permutation_test']['p_value']}); "
        f"of every 100 accounts flagged, about {100 * ppv:.1f} would be cases at a prevalence of "
        f"{s['prereg']['prevalence']:.2%}. "
        + (
            "Released."
            if result.gate.released
            else "Not released: " + "; ".join(result.gate.reasons[:1])
        )
    )
    console.print(
        f"Study in {time.perf_counter() - started:.1f} s. Model card: {out / 'model-card.html'}"
    )
