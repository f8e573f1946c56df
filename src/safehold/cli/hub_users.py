"""`safehold hub user ...`: people who sign in to the hub's web UI.

A user belongs to a member and takes the role of the member's kind, or (with no member) is
the coalition's operator or auditor. The password is read from a prompt (hidden, asked
twice) or from standard input with ``--password-stdin``, never from the command line, where
other users of the machine could see it. Every change is audited."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from safehold.cli.console import console, fail
from safehold.cli.hub import CoalitionRole, _rejected, cli_actor, database
from safehold.store import audit
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.types import utcnow
from safehold.store.users import UserError, add_user, list_users, set_disabled

user_app = typer.Typer(help="People who sign in to the web UI.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The name they sign in with (no spaces).")],
    member: Annotated[
        str | None, typer.Option(help="The member they work for; their role follows its kind.")
    ] = None,
    role: Annotated[
        CoalitionRole | None,
        typer.Option(help="Coalition staff only (no --member): operator or auditor."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a web UI user."""
    if member is not None and role is not None:
        fail("give --member (the role follows the member's kind) or --role, not both")
    password = _password(password_stdin)
    actor = cli_actor()
    with database() as engine:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                row = add_user(session, username, password, member, role.value if role else None)
                audit.append(
                    session,
                    AuditEvent(
                        actor=actor.name,
                        role=actor.role,
                        action="user.add",
                        outcome=Outcome.OK,
                        member_id=row.member_id,
                        object_ids=[f"user:{row.username}"],
                        detail={"role": row.role},
                    ),
                )
        except UserError as exc:
            _rejected(engine, "user.add", str(exc), [f"user:{username}"], member)
            fail(str(exc), 1)
    where = f" of member {row.member_id}" if row.member_id else ""
    console.print(
        f"Added user {row.username} ({row.role}{where}). They sign in at /signin.",
        highlight=False,
    )


def _set_disabled(username: str, disabled: bool) -> None:
    actor = cli_actor()
    with database() as engine:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                row = set_disabled(session, username, disabled)
                audit.append(
                    session,
                    AuditEvent(
                        actor=actor.name,
                        role=actor.role,
                        action="user.disable" if disabled else "user.enable",
                        outcome=Outcome.OK,
                        member_id=row.member_id,
                        object_ids=[f"user:{username}"],
                    ),
                )
        except UserError as exc:
            fail(str(exc), 1)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable a user and end their sessions at once."""
    _set_disabled(username, True)
    console.print(f"Disabled {username}; their sessions have ended.")


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False)
    console.print(f"Enabled {username}.")


@user_app.command("list")
def user_list() -> None:
    """Users, their members, roles and state (never password hashes)."""
    with database() as engine, Session(engine) as session:
        rows = list_users(session)
    now = utcnow()
    table = Table(title="Web UI users")
    for header in ("username", "member", "role", "state", "failed sign-ins"):
        table.add_column(header)
    for r in rows:
        state = (
            "disabled"
            if r.disabled
            else ("locked" if r.locked_until and r.locked_until > now else "active")
        )
        table.add_row(r.username, r.member_id or "", r.role, state, str(r.failed_sign_ins))
    console.print(table)
