"""`safehold member score`: run a released research model on the member's own accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safehold.cli.console import console, fail
from safehold.research.errors import StudyError
from safehold.research.scoring import load_released_model, score_accounts


def score(
    accounts: Annotated[Path, typer.Argument(help="Behaviour records (Parquet) of your accounts.")],
    model: Annotated[
        Path, typer.Option(help="Folder of a model released by `safehold research run`.")
    ],
    out: Annotated[
        Path, typer.Option(help="CSV to write: account_id, score, band, reasons, model_version.")
    ] = Path("scores.csv"),
) -> None:
    """Score accounts with a released model, here on your side; a band asks a person to look."""
    try:
        released = load_released_model(model)
        results = score_accounts(released, accounts)
    except StudyError as exc:
        fail(str(exc))
    results.write_csv(out)
    flagged = int((results["band"] == "flag for review").sum())
    console.print(
        f"Scored {results.height:,} accounts: {flagged:,} flagged for a person to review. "
        f"Results (with reasons) of model {released.version} in {out}; they stay on this "
        "machine. `safehold klaxon flags --model-scores` takes them into the klaxon's flags."
    )
