"""`safehold hub ...`: run and administer the coalition hub.

Every command opens the database itself (``SAFEHOLD_DATABASE_URL``, or ``hub.db`` in
``SAFEHOLD_DATA_DIR``), brings it to the latest schema, so that it works on a fresh data
directory, and audits what it did as ``cli:<user>`` with the operator role. The database
URL is only ever printed without its password."""

from __future__ import annotations

import getpass
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from alembic.util.exc import CommandError
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from safehold.cli.console import console, err_console, fail
from safehold.exchange import Member, MemberKind, SizeBand
from safehold.store.audit import AuditEvent, AuditLog, Outcome
from safehold.store.audit import append as audit_append
from safehold.store.database import data_dir, database_url, make_engine, redacted
from safehold.store.export import (
    ExportDestinationError,
    ExportError,
    ExportSummary,
    export_enclave,
    record_counts,
)
from safehold.store.members import (
    Actor,
    MemberError,
    add_member,
    issue_key,
    list_members,
    revoke_key,
)
from safehold.store.migrate import current_revision, head_revision, upgrade
from safehold.store.models import ApiKeyRow

app = typer.Typer(help="Run and administer the coalition hub.", no_args_is_help=True)
member_app = typer.Typer(help="Coalition members.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for members and coalition staff.", no_args_is_help=True)
export_app = typer.Typer(help="Exports from the hub.", no_args_is_help=True)
app.add_typer(member_app, name="member")
app.add_typer(key_app, name="key")
app.add_typer(export_app, name="export")


class CoalitionRole(StrEnum):
    """Roles whose keys belong to no member."""

    OPERATOR = "operator"
    AUDITOR = "auditor"


# --- shared by the hub and audit commands --------------------------------------------


def cli_actor(role: str = "operator") -> Actor:
    """Whoever runs the command, as the audit trail names them."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = f"uid{os.getuid()}"
    return Actor(f"cli:{user}", role)


def _problem(exc: BaseException) -> str:
    """The driver's own first line (never the SQL or its parameters, which may hold hashes)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig).strip()
        return text.splitlines()[0] if text else type(exc.orig).__name__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _url() -> str:
    try:
        return database_url()
    except ArgumentError:
        fail(
            "SAFEHOLD_DATABASE_URL is not a database URL; "
            "use e.g. postgresql://user@host:5432/safehold, or unset it for SQLite"
        )


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    """An engine on ``url``; any database failure inside the block ends the command with
    one line naming the (redacted) database and the driver's reason."""
    try:
        engine = make_engine(url)
    except ArgumentError:
        fail(f"cannot use the database URL {redacted(url)}: unknown database or driver")
    try:
        yield engine
    except SQLAlchemyError as exc:
        fail(
            f"the database at {redacted(url)} cannot be used: {_problem(exc)}; "
            "check that it is running and that SAFEHOLD_DATABASE_URL is right",
            1,
        )
    except CommandError as exc:
        fail(
            f"cannot migrate the database at {redacted(url)}: {_problem(exc)}; "
            "is it from a newer Safehold?",
            1,
        )
    finally:
        engine.dispose()


@contextmanager
def database() -> Iterator[Engine]:
    """The hub's database, migrated to the latest schema."""
    with engine_for(_url()) as engine:
        upgrade(engine)
        yield engine


def record(engine: Engine, event: AuditEvent) -> None:
    """Audit an event in a transaction of its own (spooled if the database is down)."""
    AuditLog(engine, spool=data_dir() / "audit-spool.jsonl").record(event)


def _rejected(
    engine: Engine, action: str, reason: str, objects: list[str], member_id: str | None = None
) -> None:
    actor = cli_actor()
    record(
        engine,
        AuditEvent(
            actor=actor.name,
            role=actor.role,
            action=action,
            outcome=Outcome.REJECTED,
            member_id=member_id,
            object_ids=objects,
            detail={"reason": reason},
        ),
    )


# --- migrate and serve ---------------------------------------------------------------


@app.command("migrate")
def migrate() -> None:
    """Bring the hub's database to the latest schema (creates it if it is new)."""
    url = _url()
    with engine_for(url) as engine:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        actor = cli_actor()
        record(
            engine,
            AuditEvent(
                actor=actor.name,
                role=actor.role,
                action="hub.migrate",
                outcome=Outcome.OK,
                detail={"from": before, "to": after},
            ),
        )
    console.print(f"Database: {redacted(url)}", highlight=False, soft_wrap=True)
    if before == after:
        console.print(f"Already at the latest revision ({after}).", highlight=False)
    else:
        console.print(
            f"Migrated from revision {before or 'none (empty database)'} to {after}"
            f"{' (latest)' if after == head_revision() else ''}.",
            highlight=False,
        )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the hub's API (uvicorn); the database is created and migrated on first start."""
    import uvicorn

    from safehold.hub.app import create_app
    from safehold.hub.settings import HubSettings

    _url()  # a bad SAFEHOLD_DATABASE_URL ends here, with the fix
    try:
        settings = HubSettings.from_env()
    except ValueError as exc:
        fail(str(exc))
    with engine_for(settings.database_url) as engine:
        application = create_app(settings, engine)
        actor = cli_actor()
        application.state.hub.audit.record(
            AuditEvent(
                actor=actor.name,
                role=actor.role,
                action="hub.serve",
                outcome=Outcome.OK,
                detail={"host": host, "port": port},
            )
        )
        base = f"http://{host}:{port}"
        console.print(
            f"Safehold hub on {base} (API docs: {base}/docs), "
            f"database {redacted(settings.database_url)}. Stop with Ctrl+C.",
            highlight=False,
            soft_wrap=True,
        )
        uvicorn.run(application, host=host, port=port, log_level="info")


# --- members -------------------------------------------------------------------------


@member_app.command("add")
def member_add(
    member_id: Annotated[str, typer.Argument(help="Coalition-wide member id (a slug).")],
    name: Annotated[str, typer.Option(help="Display name of the organisation.")],
    kind: Annotated[MemberKind, typer.Option(help="What kind of organisation it is.")],
    size_band: Annotated[
        SizeBand | None, typer.Option(help="Platforms only: size by monthly active users.")
    ] = None,
) -> None:
    """Add a member of the coalition."""
    try:
        member = Member(member_id=member_id, name=name, kind=kind, size_band=size_band)
    except ValidationError as exc:
        fail(_invalid_member(exc))
    with database() as engine:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                add_member(session, member, cli_actor())
        except MemberError as exc:
            _rejected(engine, "member.add", str(exc), [member_id], member_id)
            fail(str(exc), 1)
    band = f", size band {size_band.value}" if size_band else ""
    console.print(
        f"Added member {member_id} ({kind.value}{band}). "
        f"Issue its API key with `safehold hub key issue {member_id}`.",
        highlight=False,
        soft_wrap=True,
    )


def _invalid_member(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "member"
    message = str(first["msg"]).removeprefix("Value error, ")
    options = {"member_id": "MEMBER_ID", "name": "--name", "size_band": "--size-band"}
    if "size_band" in message:
        where = "size_band"
    return f"{options.get(where, where)}: {message}"


@member_app.command("list")
def member_list() -> None:
    """List the coalition's members and how many active keys each has."""
    with database() as engine, Session(engine, expire_on_commit=False) as session, session.begin():
        rows = list_members(session)
        keys: dict[str | None, int] = {
            member_id: n
            for member_id, n in session.execute(
                select(ApiKeyRow.member_id, func.count())
                .where(ApiKeyRow.revoked_at.is_(None), ApiKeyRow.member_id.is_not(None))
                .group_by(ApiKeyRow.member_id)
            )
        }
        actor = cli_actor()
        audit_append(
            session,
            AuditEvent(actor=actor.name, role=actor.role, action="member.list", outcome=Outcome.OK),
        )
    if not rows:
        console.print("No members yet; add one with `safehold hub member add`.")
        return
    table = Table(title=f"{len(rows)} member{'' if len(rows) == 1 else 's'}")
    for column in ("member", "name", "kind", "size band", "active", "keys", "added"):
        table.add_column(column, justify="right" if column == "keys" else "left")
    for row in rows:
        table.add_row(
            row.member_id,
            row.name,
            row.kind,
            row.size_band or "-",
            "yes" if row.active else "no",
            str(keys.get(row.member_id, 0)),
            row.created_at.date().isoformat(),
        )
    console.print(table)


# --- keys ----------------------------------------------------------------------------


@key_app.command("issue")
def key_issue(
    member_id: Annotated[
        str | None, typer.Argument(help="The member the key is for (its kind sets the role).")
    ] = None,
    role: Annotated[
        CoalitionRole | None, typer.Option(help="For coalition staff: a key without a member.")
    ] = None,
    label: Annotated[str, typer.Option(help="A note saying what the key is for.")] = "",
    out: Annotated[
        Path | None, typer.Option(help="Write the key to this new file (mode 0600) instead.")
    ] = None,
) -> None:
    """Issue an API key. It is shown (or written) once: the hub keeps only its hash."""
    if (member_id is None) == (role is None):
        fail("give either a MEMBER_ID or --role operator|auditor (a member's kind sets its role)")
    handle = _new_secret_file(out) if out is not None else None
    try:
        with database() as engine:
            try:
                with Session(engine, expire_on_commit=False) as session, session.begin():
                    issued = issue_key(
                        session,
                        cli_actor(),
                        member_id,
                        role=role.value if role else None,
                        label=label,
                    )
                    if handle is not None:
                        handle.write(issued.plaintext.encode() + b"\n")
                        handle.flush()
                        os.fsync(handle.fileno())
                        handle.close()
            except MemberError as exc:
                _rejected(engine, "key.issue", str(exc), [], member_id)
                fail(str(exc), 1)
    except BaseException:
        if handle is not None:
            handle.close()
        if out is not None:
            out.unlink(missing_ok=True)
        raise
    owner = f"member {issued.member_id}" if issued.member_id else "no member"
    if out is not None:
        console.print(
            f"Issued key {issued.key_id} (role {issued.role}, {owner}) and wrote it to {out} "
            "(mode 0600). The hub keeps only its hash and cannot show it again.",
            highlight=False,
            soft_wrap=True,
        )
        return
    err_console.print(
        f"Issued key {issued.key_id} (role {issued.role}, {owner}). "
        "[bold]This is the only time it is shown: store it now; "
        "the hub keeps only its hash and cannot show it again.[/]",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(issued.plaintext)


def _new_secret_file(path: Path) -> BinaryIO:
    """Create ``path`` readable by its owner only, refusing to replace an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{path} already exists; give a new file for the key (it is never overwritten)")
    except OSError as exc:
        fail(f"cannot create {path}: {exc.strerror}; check that its folder exists")
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after 'shk_').")],
) -> None:
    """Revoke an API key; the hub refuses it from the next request on."""
    with database() as engine:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                existing = session.get(ApiKeyRow, key_id)
                already = existing.revoked_at if existing is not None else None
                row = revoke_key(session, key_id, cli_actor())
        except MemberError as exc:
            _rejected(engine, "key.revoke", str(exc), [key_id])
            fail(f"{exc}; `safehold hub member list` shows members, the audit trail key ids", 1)
    assert row.revoked_at is not None
    if already is not None:
        console.print(f"Key {key_id} was already revoked ({already.isoformat()}).", highlight=False)
    else:
        console.print(f"Revoked key {key_id} ({row.revoked_at.isoformat()}).", highlight=False)


# --- exports -------------------------------------------------------------------------


@export_app.command("enclave")
def export_enclave_command(
    out: Annotated[Path, typer.Argument(help="A new (or empty) folder for the export.")],
) -> None:
    """Export the enclave tier for the research enclave: Parquet per blinded source."""
    summary: ExportSummary | None = None
    with database() as engine:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                summary = export_enclave(session, out, cli_actor())
        except ExportDestinationError as exc:
            fail(str(exc))
        except ExportError as exc:
            fail(str(exc), 1)
        except SQLAlchemyError:
            if summary is not None:  # written, but its audit event did not commit
                shutil.rmtree(summary.out_dir, ignore_errors=True)
            raise
    _print_export(summary)


def _print_export(summary: ExportSummary) -> None:
    totals = record_counts(summary.sources)
    table = Table(title=f"Enclave export {summary.export_id}")
    for column in ("source token", "kind", "size band", *totals):
        table.add_column(column, justify="right" if column in totals else "left")
    for source in summary.sources:
        counts = record_counts([source])
        table.add_row(
            source.token,
            source.member_kind,
            source.size_band or "-",
            *(f"{counts.get(name, 0):,}" for name in totals),
        )
    console.print(table)
    console.print(
        f"Wrote {summary.records:,} records from {len(summary.sources)} sources to "
        f"{summary.out_dir} (manifest: enclave.json). Source tokens are new in every export.",
        highlight=False,
        soft_wrap=True,
    )
