"""`safehold conversation evaluate`: train per fold on some phrasing families, score
synthetic conversations written only in the held-out ones, write JSON and HTML figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safehold.cli.console import console, fail, step_progress
from safehold.cli.conversation_data import synthetic_conversations
from safehold.conversation.evaluation import (
    Fold,
    FoldRun,
    Trainer,
    family_splits,
    run_fold,
    single_split,
    summarise,
)
from safehold.conversation.evaluation_report import fmt, label, render_html
from safehold.synth.phrasing import PHRASING_FAMILIES


def data_seeds(seed: int, fold: int) -> tuple[int, int]:
    """Distinct generator seeds for a fold's training and test sets (ids never collide)."""
    return seed * 1000 + 2 * fold, seed * 1000 + 2 * fold + 1


def plan_folds(test_families: str | None) -> list[Fold]:
    """Every family held out once in pairs, or the one fold ``--test-families`` names."""
    if test_families is None:
        return family_splits(PHRASING_FAMILIES, hold_out=2)
    names = [f.strip() for f in test_families.split(",") if f.strip()]
    return [single_split(PHRASING_FAMILIES, names)]


def run_evaluation(
    trainer: Trainer,
    folds: Sequence[Fold],
    *,
    conversations: int,
    test_conversations: int,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """Generate, train and score each fold (with progress), then summarise."""
    runs: list[FoldRun] = []
    steps = [f"fold {f.index}: {phase}" for f in folds for phase in ("data", "train+score")]
    with step_progress([*steps, "bootstrap"], "Evaluating") as advance:
        for fold in folds:
            train_seed, test_seed = data_seeds(seed, fold.index)
            advance(f"fold {fold.index}: data")
            train = synthetic_conversations(conversations, train_seed, fold.train_families)
            test = synthetic_conversations(test_conversations, test_seed, fold.test_families)
            advance(f"fold {fold.index}: train+score")
            runs.append(run_fold(trainer, fold, train, test, seed=seed))
        advance("bootstrap")
        report = summarise(runs, resamples=resamples, seed=seed)
    report["settings"] = {
        "seed": seed,
        "training_conversations_per_fold": conversations,
        "test_conversations_per_fold": test_conversations,
        "data_seeds": {
            str(f.index): dict(zip(("train", "test"), data_seeds(seed, f.index), strict=True))
            for f in folds
        },
        "families": list(PHRASING_FAMILIES),
        "model": runs[0].model if runs else None,
    }
    return report


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "evaluation.json", out / "evaluation.html"
    json_path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    html_path.write_text(render_html(report))
    return json_path, html_path


def summary_table(report: dict[str, Any]) -> Table:
    table = Table(title="Held-out phrasing families (95% bootstrap CI)")
    for column in ("figure", "value", "bootstrap 95% CI", "exact 95% CI", "target", "met"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    targets = {t["figure"]: t for t in report["targets"]}
    for name, e in report["figures"].items():
        target = targets.get(name)
        met = "" if target is None else ("[green]yes[/]" if target["met"] else "[red]no[/]")
        table.add_row(
            label(name),
            fmt(e["value"]),
            f"{fmt(e['low'])} to {fmt(e['high'])}",
            f"{fmt(e['exact_low'])} to {fmt(e['exact_high'])}" if "exact_low" in e else "",
            target["target"] if target else "",
            met,
        )
    return table


def evaluate(
    out: Annotated[Path, typer.Option(help="Folder for evaluation.json and evaluation.html.")],
    conversations: Annotated[
        int, typer.Option(help="Synthetic training conversations per fold.")
    ] = 3000,
    test_conversations: Annotated[
        int | None, typer.Option(help="Held-out conversations per fold (default: as training).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for data, training and bootstrap.")] = 0,
    test_families: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated phrasing families to hold out in one fold "
            f"(default: every family once, in pairs; families: {', '.join(PHRASING_FAMILIES)})."
        ),
    ] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    no_lexicon: Annotated[
        bool, typer.Option("--no-lexicon", help="Train without the hand-written stage lexicon.")
    ] = False,
) -> None:
    """Evaluate the risk model on phrasing families it never saw in training."""
    from safehold.conversation.training import train

    n_test = conversations if test_conversations is None else test_conversations
    if conversations < 20 or n_test < 20:
        fail("--conversations and --test-conversations must be at least 20 per fold")
    if seed < 0:
        fail(f"--seed must be zero or more, got {seed}")
    if resamples < 1:
        fail(f"--resamples must be at least 1, got {resamples}")
    try:
        folds = plan_folds(test_families)
    except ValueError as exc:
        fail(f"--test-families: {exc}")
    report = run_evaluation(
        partial(train, use_lexicon=False) if no_lexicon else train,
        folds,
        conversations=conversations,
        test_conversations=n_test,
        seed=seed,
        resamples=resamples,
    )
    json_path, html_path = write_report(report, out)
    console.print(summary_table(report))
    met = sum(bool(t["met"]) for t in report["targets"])
    strict = sum(bool(t["met_at_ci_bound"]) for t in report["targets"])
    n_targets = len(report["targets"])
    console.print(
        f"Acceptance targets met: {met} of {n_targets} "
        f"({strict} of {n_targets} at the unfavourable end of the 95% CI)"
    )
    blind = report.get("figures_without_age_bands")
    if blind:
        console.print(
            "With sender age bands hidden: "
            + ", ".join(f"{label(k)} {fmt(blind[k]['value'])}" for k in ("f05", "recall"))
        )
    console.print(f"Wrote [bold]{json_path}[/] and [bold]{html_path}[/]")
