"""Entry point: assembles the area sub-commands into one `safehold` command."""

from __future__ import annotations

import typer

from safehold import __version__
from safehold.cli import (
    audit,
    conversation,
    demo,
    hub,
    hub_transparency,
    hub_users,
    hub_webhooks,
    klaxon,
    member,
    research,
    schema,
    synth,
    triage,
)

app = typer.Typer(
    name="safehold",
    help="Safehold: protect children from sexual exploitation together, without pooling raw personal data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(schema.app, name="schema")
app.add_typer(synth.app, name="synth")
app.add_typer(member.app, name="member")
app.add_typer(hub.app, name="hub")
hub.app.add_typer(hub_users.user_app, name="user")
hub.app.add_typer(hub_webhooks.webhook_app, name="webhook")
hub.app.add_typer(hub_transparency.app, name="transparency")
app.add_typer(audit.app, name="audit")
app.add_typer(conversation.app, name="conversation")
app.add_typer(triage.app, name="triage")
app.add_typer(research.app, name="research")
app.add_typer(klaxon.app, name="klaxon")
app.command("demo")(demo.demo)


@app.command()
def version() -> None:
    """Print the Safehold version and the exchange format version."""
    from safehold.exchange import SCHEMA_VERSION

    typer.echo(f"safehold {__version__} (exchange format {SCHEMA_VERSION})")


if __name__ == "__main__":  # pragma: no cover
    app()
