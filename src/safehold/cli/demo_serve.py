"""The demo's last steps: the klaxon's alerts into the demo hub's review queue, demo sign-ins
for every role, and the hub with its web UI served on 127.0.0.1.

The alerts reach the hub as a member would send them: sender and child pseudonymised with
the coalition key (``account:<version>:<hex>``, the form hub screening stores), each with
its reasons and its contact timeline (the pair's events in the alert's window). The demo
world does not tie its synthetic conversations to particular contacts, so alerts on a
planted approach carry excerpts of one of the member's synthetic grooming-pattern
conversations as illustrative evidence, and say so."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import uvicorn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safehold.cli.console import console
from safehold.exchange import IdentifierKind, MemberKind
from safehold.hub.app import create_app
from safehold.hub.settings import HubSettings
from safehold.identity import Pseudonymiser, load_coalition_key
from safehold.store import audit
from safehold.store.alerts import NewAlert, add_alerts
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.database import make_engine
from safehold.store.models import AlertRow, CaseRow, MemberRow
from safehold.store.users import add_user

TIMELINE_EVENTS = 20
EVIDENCE_MESSAGES = 6
EVIDENCE_NOTE = (
    "Demo only: the synthetic world does not link conversations to contacts; these are "
    "excerpts of one of this platform's synthetic grooming-pattern conversations."
)
SIGNIN_FILE = "demo-sign-ins.txt"


def demo_hub_url(hub_dir: Path) -> str:
    return f"sqlite:///{hub_dir / 'hub.db'}"


def store_klaxon_alerts(
    world_dir: Path, data_dir: Path, alerts_by_member: dict[str, pl.DataFrame]
) -> dict[str, int]:
    """Put each platform's alerts in the demo hub's alert tier (new ids only); returns how
    many were added per member. Nothing happens without the demo hub."""
    hub_dir = data_dir / "demo-hub"
    key_path = data_dir / "coalition.key"
    if not (hub_dir / "hub.db").exists() or not key_path.exists():
        return {}
    pseudonymiser = Pseudonymiser(load_coalition_key(key_path))
    engine = make_engine(demo_hub_url(hub_dir))
    added: dict[str, int] = {}
    try:
        with Session(engine) as session, session.begin():
            known = set(session.scalars(select(MemberRow.member_id)))
            for member_id, alerts in alerts_by_member.items():
                if member_id not in known or alerts.is_empty():
                    continue
                new = _hub_alerts(world_dir, member_id, alerts, pseudonymiser)
                ids = add_alerts(session, member_id, new)
                audit.append(
                    session,
                    AuditEvent(
                        actor="cli:demo",
                        role="platform",
                        action="alerts.store",
                        outcome=Outcome.OK,
                        member_id=member_id,
                        object_ids=ids,
                        detail={"alerts": len(new), "new": len(ids), "source": "demo klaxon"},
                    ),
                )
                added[member_id] = len(ids)
    finally:
        engine.dispose()
    return added


def _hub_alerts(
    world_dir: Path, member_id: str, alerts: pl.DataFrame, pseudonymiser: Pseudonymiser
) -> list[NewAlert]:
    accounts = sorted(set(alerts["sender"].to_list()) | set(alerts["recipient"].to_list()))
    hashed = pseudonymiser.pseudonymise_many(
        IdentifierKind.ACCOUNT, accounts, platform=member_id, on_invalid="none"
    )
    version = pseudonymiser.key_version
    keys = {a: f"account:{version}:{h}" for a, h in zip(accounts, hashed, strict=True) if h}
    timelines = _timelines(world_dir, member_id, alerts)
    planted = _planted_pairs(world_dir, member_id)
    evidence = _illustrative_evidence(world_dir, member_id)
    found: list[NewAlert] = []
    for row in alerts.iter_rows(named=True):
        sender, recipient = keys.get(row["sender"]), keys.get(row["recipient"])
        if sender is None or recipient is None:
            continue
        payload: dict[str, Any] = {
            "sender": sender,
            "recipient": recipient,
            "window_start": row["window_start"].isoformat(),
            "window_end": row["window_end"].isoformat(),
            "rules": list(row["rules"]),
            "reasons": list(row["reasons"]),
            "rule_severities": list(row["rule_severities"]),
            "first_event_id": row["first_event_id"],
            "first_event_at": row["first_event_at"].isoformat(),
            "last_event_at": row["last_event_at"].isoformat(),
            "events": int(row["events"]),
            "timeline": timelines.get(row["alert_id"], []),
        }
        if evidence and (row["sender"], row["recipient"]) in planted:
            payload["evidence"] = evidence
            payload["evidence_note"] = EVIDENCE_NOTE
        created: datetime = row["last_event_at"]
        found.append(NewAlert(row["alert_id"], int(row["severity"]), payload, created))
    return found


def _timelines(
    world_dir: Path, member_id: str, alerts: pl.DataFrame
) -> dict[str, list[dict[str, Any]]]:
    """alert id -> the pair's contact events inside its window (first ``TIMELINE_EVENTS``)."""
    events = pl.read_parquet(
        world_dir / "members" / member_id / "contact_events.parquet",
        columns=["sender_account", "recipient_account", "occurred_at", "channel", "first_contact"],
    ).rename({"sender_account": "sender", "recipient_account": "recipient"})
    joined = (
        alerts.select("alert_id", "sender", "recipient", "window_start", "window_end")
        .join(events, on=["sender", "recipient"], how="inner")
        .filter(pl.col("occurred_at").is_between(pl.col("window_start"), pl.col("window_end")))
        .sort("alert_id", "occurred_at")
        .group_by("alert_id", maintain_order=True)
        .head(TIMELINE_EVENTS)
    )
    timelines: dict[str, list[dict[str, Any]]] = {}
    for row in joined.iter_rows(named=True):
        timelines.setdefault(row["alert_id"], []).append(
            {
                "at": row["occurred_at"].isoformat(),
                "channel": row["channel"],
                "first_contact": bool(row["first_contact"]),
            }
        )
    return timelines


def _planted_pairs(world_dir: Path, member_id: str) -> set[tuple[str, str]]:
    approaches = pl.read_parquet(world_dir / "truth" / "approaches.parquet").filter(
        pl.col("member_id") == member_id
    )
    pairs = approaches.explode("recipient_accounts")
    return set(zip(pairs["sender_account"], pairs["recipient_accounts"], strict=True))


def _illustrative_evidence(world_dir: Path, member_id: str) -> list[dict[str, Any]]:
    """Messages from one of the member's synthetic grooming-pattern conversations (patterns
    such as secrecy or moving off-platform only; the generator writes nothing else)."""
    truth = world_dir / "truth" / "conversations.parquet"
    messages_path = world_dir / "members" / member_id / "messages.parquet"
    if not truth.exists() or not messages_path.exists():
        return []
    labelled = pl.read_parquet(truth).filter(
        (pl.col("member_id") == member_id) & (pl.col("label") == "grooming")
    )
    if labelled.is_empty():
        return []
    chosen = labelled.sort("conversation_id").row(0, named=True)
    start = int(chosen.get("first_grooming_message") or 0)
    messages = (
        pl.read_parquet(messages_path)
        .filter(pl.col("conversation_id") == chosen["conversation_id"])
        .sort("sent_at")
    )
    first_sender = messages["sender_id"][0] if messages.height else None
    window = messages.slice(max(start - 1, 0), EVIDENCE_MESSAGES)
    return [
        {
            "from": "sender" if m["sender_id"] != first_sender else "recipient",
            "sent_at": m["sent_at"].isoformat(),
            "text": m["text"],
        }
        for m in window.iter_rows(named=True)
    ]


# --- sign-ins and serving ----------------------------------------------------------------

_ROLE_USERS: dict[str, tuple[str, ...]] = {
    MemberKind.PLATFORM.value: ("reviewer", "reviewer2"),
    MemberKind.POLICE.value: ("investigator",),
    MemberKind.LOCAL_AUTHORITY.value: ("safeguarding",),
    MemberKind.PROBATION.value: ("officer",),
    MemberKind.COURT.value: ("clerk",),
    MemberKind.RESEARCH.value: ("researcher",),
}


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    password: str
    role: str
    member_id: str | None


def make_sign_ins(hub_dir: Path) -> list[DemoSignIn]:
    """A user per role (two reviewers per platform, for four eyes) with a fresh random
    password, kept in ``demo-sign-ins.txt`` (0600) beside the demo database."""
    engine = make_engine(demo_hub_url(hub_dir))
    made: list[DemoSignIn] = []
    try:
        with Session(engine) as session, session.begin():
            for member in session.scalars(select(MemberRow).order_by(MemberRow.member_id)):
                for suffix in _ROLE_USERS.get(member.kind, ()):
                    made.append(_user(session, f"{member.member_id}-{suffix}", member.member_id))
            made.append(_user(session, "auditor", None, "auditor"))
            made.append(_user(session, "operator", None, "operator"))
    finally:
        engine.dispose()
    path = hub_dir / SIGNIN_FILE
    path.write_text(
        "".join(f"{s.username}\t{s.password}\t{s.role}\t{s.member_id or ''}\n" for s in made)
    )
    path.chmod(0o600)
    return made


def _user(
    session: Session, username: str, member_id: str | None, role: str | None = None
) -> DemoSignIn:
    password = secrets.token_urlsafe(12)
    row = add_user(session, username, password, member_id, role)
    return DemoSignIn(row.username, password, row.role, row.member_id)


def hub_counts(hub_dir: Path) -> dict[str, int]:
    engine = make_engine(demo_hub_url(hub_dir))
    try:
        with Session(engine) as session:
            return {
                "alerts": session.scalar(select(func.count()).select_from(AlertRow)) or 0,
                "cases": session.scalar(select(func.count()).select_from(CaseRow)) or 0,
            }
    finally:
        engine.dispose()


def print_sign_ins(sign_ins: list[DemoSignIn], hub_dir: Path) -> None:
    table = Table(title="Demo sign-ins (synthetic coalition; fresh passwords each run)")
    table.add_column("role", overflow="fold")
    table.add_column("username", overflow="fold")
    table.add_column("password", no_wrap=True, min_width=16)
    for s in sign_ins:
        table.add_row(s.role, s.username, s.password)
    console.print(table)
    console.print(
        f"Also in {hub_dir / SIGNIN_FILE} (readable only by you). Platform reviewers work "
        "their platform's alert queue; a second reviewer confirms suspensions and escalations; "
        "the auditor searches the audit trail and verifies its chain.",
        highlight=False,
    )


def _port(host: str, wanted: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind((host, wanted))
            return wanted
        except OSError:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
            return port


def serve_demo_hub(hub_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the demo hub (API and web UI) until Ctrl-C."""
    from safehold.cli.demo_oversight import demo_model_dirs

    settings = HubSettings(
        data_dir=hub_dir, database_url=demo_hub_url(hub_dir), model_dirs=demo_model_dirs(hub_dir)
    )
    app = create_app(settings, make_engine(settings.database_url))
    chosen = _port(host, port)
    console.print(
        f"[bold]The demo hub is serving on http://{host}:{chosen}/[/] (web UI: sign in at "
        f"http://{host}:{chosen}/signin; API docs at /docs). Press Ctrl-C to stop.",
        highlight=False,
    )
    uvicorn.run(app, host=host, port=chosen, log_level="warning")


def finish_demo(hub_dir: Path, *, serve: bool, port: int = 8000) -> None:
    """The demo's end: sign-ins for every role, then the hub served (unless ``serve`` is
    False, for scripts and CI)."""
    console.rule("[bold]7. The hub's web UI")
    sign_ins = make_sign_ins(hub_dir)
    counts = hub_counts(hub_dir)
    console.print(
        f"The demo hub holds {counts['alerts']:,} alerts to review and {counts['cases']:,} "
        "cases and referrals.",
        highlight=False,
    )
    print_sign_ins(sign_ins, hub_dir)
    from safehold.cli.demo_oversight import publish_demo_transparency

    publish_demo_transparency(hub_dir)
    if not serve:
        console.print(
            f"Not serving (--no-serve). Serve it later with `SAFEHOLD_DATA_DIR={hub_dir} "
            "safehold hub serve` and sign in at /signin.",
            highlight=False,
        )
        return
    serve_demo_hub(hub_dir, port=port)
