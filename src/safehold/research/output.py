"""Writing a study's results: report.json, model-card.html and, only if the gate released
it, model/. Whole or nothing: everything goes to a staging folder first and is moved into
place at the end, so a failed study leaves no half-written output."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from safehold.research.artifact import write_artifact
from safehold.research.errors import StudyError
from safehold.research.model_card import render_model_card
from safehold.research.study import StudyResult


def check_out_dir(out: Path) -> None:
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "report.json").exists())
    ):
        raise StudyError(
            f"--out {out} exists and is not an earlier study's folder; choose a new or empty folder"
        )


def write_study(result: StudyResult, out: Path) -> list[Path]:
    check_out_dir(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        (staging / "report.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        (staging / "model-card.html").write_text(render_model_card(result.summary))
        if result.gate.released:
            write_artifact(
                staging / "model",
                result.model,
                list(result.prereg.features),
                result.threshold,
                result.summary,
            )
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(out.iterdir())
