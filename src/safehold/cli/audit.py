"""`safehold audit ...`: check the hub's tamper-evident audit trail."""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session

from safehold.cli.console import console, fail
from safehold.cli.hub import cli_actor, database, record
from safehold.store.audit import AuditEvent, Outcome, verify

app = typer.Typer(help="Check the hub's hash-chained audit trail.", no_args_is_help=True)


@app.command("verify")
def verify_command() -> None:
    """Walk the whole hash chain; exit 1 naming the first event that was altered, removed
    or reordered."""
    with database() as engine:
        with Session(engine) as session, session.begin():
            report = verify(session)
        actor = cli_actor("auditor")
        record(
            engine,
            AuditEvent(
                actor=actor.name,
                role=actor.role,
                action="audit.verify",
                outcome=Outcome.OK,
                detail={"chain_ok": report.ok, "events": report.events},
            ),
        )
    if not report.ok:
        fail(
            f"audit chain broken: {report.problem} ({report.events} events read)",
            1,
        )
    console.print(f"audit chain intact: {report.events} events", highlight=False)
