"""`safehold conversation ...`: train the conversation risk model and score conversations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from safehold.cli import conversation_evaluate
from safehold.cli.console import console, fail
from safehold.cli.conversation_data import synthetic_conversations
from safehold.conversation.io import InputLineError, read_messages, write_results
from safehold.conversation.model import RiskModel
from safehold.conversation.training import train as train_model

DEFAULT_TRAINING_CONVERSATIONS = 6000
"""With seed 0, what the packaged default model was trained on (a test checks it)."""

app = typer.Typer(
    help="Conversation risk scoring: grooming-pattern detection with evidence.",
    no_args_is_help=True,
)


@app.command("train")
def train(
    out: Annotated[Path, typer.Option(help="Directory to write the model into.")],
    conversations: Annotated[
        int,
        typer.Option(
            help="Synthetic conversations to train on (all phrasing families); the defaults "
            "rebuild the packaged default model."
        ),
    ] = DEFAULT_TRAINING_CONVERSATIONS,
    seed: Annotated[int, typer.Option(help="Seed for the data and the training.")] = 0,
) -> None:
    """Train on synthetic conversations from every phrasing family and save the model."""
    if conversations < 50:
        fail(f"--conversations must be at least 50, got {conversations}")
    if seed < 0:
        fail(f"--seed must be zero or more, got {seed}")
    started = time.perf_counter()
    with console.status(f"generating {conversations:,} synthetic conversations"):
        data = synthetic_conversations(conversations, seed=seed)
    with console.status("training (folds by phrasing family)"):
        model = train_model(data, seed=seed)
    model.save(out)
    figures = model.metadata.get("out_of_fold_at_threshold", {})
    console.print(
        f"wrote model to {out} ({len(data):,} conversations, threshold {model.threshold:.2f}, "
        f"out-of-fold F0.5 {figures.get('f05', float('nan')):.3f}) "
        f"in {time.perf_counter() - started:.1f}s"
    )


@app.command("score")
def score(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT.ndjson", help="Messages, one JSON object per line.")
    ],
    out: Annotated[Path, typer.Option(help="Where to write one line per conversation.")],
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: the packaged model).")
    ] = None,
) -> None:
    """Score conversations: risk, label, messages to first warning and evidence spans."""
    if not input_path.is_file():
        fail(f"{input_path} not found: give an NDJSON file of messages")
    try:
        risk_model = RiskModel.load(model) if model is not None else RiskModel.default()
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    try:
        with input_path.open(encoding="utf-8") as lines:
            messages = list(read_messages(lines, source=str(input_path)))
    except InputLineError as exc:
        fail(str(exc))
    except UnicodeDecodeError as exc:
        fail(f"{input_path} is not UTF-8 text ({exc.reason}); save it as UTF-8")
    results = risk_model.score_many(messages, per_message=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        written = write_results(results, handle)
    warned = sum(r.label == "risk" for r in results)
    console.print(
        f"scored {len(messages):,} messages in {written:,} conversations "
        f"({warned:,} labelled risk) in {time.perf_counter() - started:.1f}s; wrote {out}"
    )


app.command("evaluate")(conversation_evaluate.evaluate)
