"""`safehold hub transparency ...`: publish a quarter's differentially private statistics
(once; the public page at /transparency serves what was published) and show the budget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from safehold.cli.console import console, fail
from safehold.cli.hub import cli_actor, database, record
from safehold.hub.transparency import (
    DEFAULT_BUDGET,
    DEFAULT_EPSILON,
    GROUPS,
    Quarter,
    TransparencyError,
    folder_of,
    ledger_path,
    load_ledger,
    publish,
)
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.database import data_dir

app = typer.Typer(
    help="Differentially private transparency statistics, per quarter.", no_args_is_help=True
)


@app.command("publish")
def publish_command(
    quarter: Annotated[str, typer.Option(help="The quarter, e.g. 2026Q4.")],
    epsilon: Annotated[
        float, typer.Option(min=0.01, max=10.0, help="Epsilon per figure group.")
    ] = DEFAULT_EPSILON,
    budget: Annotated[
        float,
        typer.Option(help="Total epsilon of the transparency ledger, when it is first made."),
    ] = DEFAULT_BUDGET,
    to_date: Annotated[
        bool, typer.Option("--to-date", help="Publish a running quarter's figures so far.")
    ] = False,
) -> None:
    """Compute the quarter's figures once, with OpenDP noise, and store them for the page."""
    try:
        which = Quarter.parse(quarter)
    except TransparencyError as exc:
        fail(f"--quarter: {exc}")
    base = data_dir()
    actor = cli_actor()
    with database() as engine:
        try:
            with Session(engine) as session:
                release = publish(
                    session, base, which, epsilon=epsilon, budget=budget, to_date=to_date
                )
        except TransparencyError as exc:
            record(
                engine,
                AuditEvent(
                    actor=actor.name,
                    role=actor.role,
                    action="transparency.publish",
                    outcome=Outcome.REJECTED,
                    object_ids=[str(which)],
                    detail={"reason": str(exc)},
                ),
            )
            fail(str(exc))
        record(
            engine,
            AuditEvent(
                actor=actor.name,
                role=actor.role,
                action="transparency.publish",
                outcome=Outcome.OK,
                object_ids=[release.name],
                detail={"epsilon": release.epsilon, "figures": len(release.figures)},
            ),
        )
    table = Table(title=f"Transparency release {release.name}")
    for column in ("figure", "value", "epsilon", f"±{release.confidence:.0%}"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for figure in release.figures:
        table.add_row(
            figure.label, f"{figure.value:,}", f"{figure.epsilon:g}", f"{figure.accuracy:,.0f}"
        )
    console.print(table)
    ledger = load_ledger(folder_of(base))
    console.print(
        f"Published {release.name}: {len(release.figures)} figures in {GROUPS} groups, epsilon "
        f"{release.epsilon:g} spent ({ledger.remaining:g} of {ledger.total_epsilon:g} left). "
        f"Stored in {folder_of(base)}; served at /transparency.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("budget")
def budget_command() -> None:
    """Show the transparency ledger: every release and the epsilon it spent."""
    folder = folder_of(data_dir())
    try:
        ledger = load_ledger(folder)
    except TransparencyError as exc:
        fail(str(exc))
    table = Table(title=f"Transparency budget ({ledger_path(folder)})")
    table.add_column("release")
    table.add_column("epsilon", justify="right")
    table.add_column("at")
    for entry in ledger.entries:
        table.add_row(entry.release, f"{entry.epsilon:g}", entry.at)
    console.print(table)
    console.print(
        f"spent {ledger.spent:g} of {ledger.total_epsilon:g}; {ledger.remaining:g} left "
        f"(as of {datetime.now(UTC).date().isoformat()})",
        highlight=False,
    )
