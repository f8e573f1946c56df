"""`safehold hub webhook secret MEMBER`: the secret that signs decision webhooks to a member.

The hub POSTs decisions in force to the URL in ``SAFEHOLD_DECISION_WEBHOOKS``
(``member=url,...``), signed with this secret (HMAC-SHA256 with a timestamp, checked by
``safehold.klaxon.webhook.verify``). The secret is written to a file readable only by its
owner and shown once, for the member to configure its receiver."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from safehold.cli.console import console, fail
from safehold.cli.hub import cli_actor, database, record
from safehold.hub.webhooks import make_secret, secret_path
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.database import data_dir
from safehold.store.models import MemberRow

webhook_app = typer.Typer(
    help="Signed webhooks that push decisions to members.", no_args_is_help=True
)


@webhook_app.command("secret")
def webhook_secret(
    member: Annotated[str, typer.Argument(help="The member whose webhook it signs.")],
    replace: Annotated[bool, typer.Option(help="Replace an existing secret.")] = False,
) -> None:
    """Make the secret that signs decision webhooks to MEMBER."""
    directory = data_dir()
    with database() as engine:
        with Session(engine) as session:
            if session.get(MemberRow, member) is None:
                fail(f"no member '{member}'; add it first with `safehold hub member add`", 1)
        path = secret_path(directory, member)
        if path.exists() and not replace:
            fail(f"{path} exists; pass --replace to make a new secret (the old one stops working)")
        made = make_secret(directory, member)
        actor = cli_actor()
        record(
            engine,
            AuditEvent(
                actor=actor.name,
                role=actor.role,
                action="webhook.secret",
                outcome=Outcome.OK,
                member_id=member,
                detail={"replaced": replace},
            ),
        )
    console.print(
        f"Wrote the webhook secret for {member} to {made} (readable only by you): give it to "
        f"the member for its receiver, and set SAFEHOLD_DECISION_WEBHOOKS={member}=<url>.",
        highlight=False,
        soft_wrap=True,
    )
