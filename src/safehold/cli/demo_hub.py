"""The demo's hub step: a coalition hub on the embedded SQLite default, served over real HTTP
on 127.0.0.1; every member is onboarded with its own API key and submits its prepared
batches with the member toolkit; every platform checks its accounts against the registry;
the matches are scored against the world's planted truth."""

from __future__ import annotations

import shutil
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import polars as pl
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from safehold.cli.background_server import serving
from safehold.cli.console import console, step_progress
from safehold.cli.member import pseudonymise_accounts
from safehold.client.batch_files import batches_from_prepared
from safehold.client.check import CheckAccount, check_accounts, row_ref
from safehold.client.hub_api import HubApi
from safehold.client.journal import Journal
from safehold.client.submit import SubmitReport, submit_batches
from safehold.exchange import Member, MemberKind
from safehold.hub.app import create_app
from safehold.hub.settings import HubSettings
from safehold.identity import CoalitionKey
from safehold.store import audit
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member, issue_key
from safehold.store.models import EnclaveRecordRow, RegistryEntryRow, SignalRow

DEMO_OPERATOR = Actor("cli:demo", "operator")


@dataclass(frozen=True)
class PlatformCheck:
    member_id: str
    accounts: int
    checked: int
    matches: int
    registered: int  # accounts whose holder has an active registration (truth)
    found: int  # of those, matched
    false_matches: int


@dataclass(frozen=True)
class HubRun:
    url: str
    hub_dir: Path
    submitted: dict[str, SubmitReport]
    checks: list[PlatformCheck]
    stored: dict[str, int]
    audit_events: int
    chain_ok: bool
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)
    """Each demo member's API key (plaintext, the demo's own), for later demo steps."""


def fresh_hub_dir(data_dir: Path) -> Path:
    """The demo's own hub folder, emptied: the demo always starts a new coalition."""
    hub_dir = data_dir / "demo-hub"
    if hub_dir.exists():
        shutil.rmtree(hub_dir)
    hub_dir.mkdir(parents=True)
    return hub_dir


def run_hub(world_dir: Path, exchange_dir: Path, data_dir: Path, key: CoalitionKey) -> HubRun:
    hub_dir = fresh_hub_dir(data_dir)
    # Always the embedded default, whatever SAFEHOLD_DATABASE_URL says: the demo must
    # never write into someone's real database.
    settings = HubSettings(data_dir=hub_dir, database_url=f"sqlite:///{hub_dir / 'hub.db'}")
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine)
    members = [_member(d) for d in sorted((world_dir / "members").iterdir())]
    api_keys = _onboard(engine, members)
    submitted: dict[str, SubmitReport] = {}
    checks: list[PlatformCheck] = []
    registered = registered_accounts(world_dir)
    with serving(app) as url, closing(httpx.Client(base_url=url, timeout=120)) as http:
        console.print(f"Hub serving on {url} (SQLite database {hub_dir / 'hub.db'}).")
        with step_progress([m.member_id for m in members], "submitting batches") as advance:
            for member in members:
                advance(member.member_id)
                api = HubApi(http, api_keys[member.member_id])
                folder = exchange_dir / member.member_id
                journal = Journal(hub_dir / f"{member.member_id}.submitted.jsonl", api.hub_url)
                submitted[member.member_id] = submit_batches(
                    api, batches_from_prepared(folder), journal, member_id=member.member_id
                )
        platforms = [m for m in members if m.kind is MemberKind.PLATFORM]
        with step_progress([m.member_id for m in platforms], "registry checks") as advance:
            for member in platforms:
                advance(member.member_id)
                api = HubApi(http, api_keys[member.member_id])
                checks.append(_check_platform(api, world_dir, member.member_id, key, registered))
    with Session(engine) as session:
        stored = {
            "registry entries": session.scalar(select(func.count()).select_from(RegistryEntryRow))
            or 0,
            "enclave records": session.scalar(select(func.count()).select_from(EnclaveRecordRow))
            or 0,
            "signals": session.scalar(select(func.count()).select_from(SignalRow)) or 0,
        }
        report = audit.verify(session)
    engine.dispose()
    return HubRun(url, hub_dir, submitted, checks, stored, report.events, report.ok, api_keys)


def _member(member_dir: Path) -> Member:
    return Member.model_validate_json((member_dir / "member.json").read_text())


def _onboard(engine: Engine, members: list[Member]) -> dict[str, str]:
    """What the operator does with `safehold hub member add` and `safehold hub key issue`."""
    keys: dict[str, str] = {}
    with Session(engine) as session, session.begin():
        for member in members:
            add_member(session, member, DEMO_OPERATOR)
            keys[member.member_id] = issue_key(
                session, DEMO_OPERATOR, member.member_id, label="demo"
            ).plaintext
    return keys


def registered_accounts(world_dir: Path) -> pl.DataFrame:
    """Truth: platform accounts whose holder has an active registration with any justice
    member (account_id, member_id)."""
    truth = pl.read_parquet(world_dir / "truth" / "justice_records.parquet")
    statuses = pl.concat(
        [
            pl.read_parquet(path, columns=["record_id", "status"])
            for path in sorted((world_dir / "members").glob("*/justice_records.parquet"))
        ]
    )
    active_people = (
        truth.join(statuses, on="record_id")
        .filter(pl.col("status") == "active")
        .get_column("person_id")
        .unique()
    )
    accounts = pl.read_parquet(world_dir / "truth" / "accounts.parquet")
    return accounts.filter(pl.col("person_id").is_in(active_people.implode())).select(
        "account_id", "member_id"
    )


def _check_platform(
    api: HubApi, world_dir: Path, member_id: str, key: CoalitionKey, registered: pl.DataFrame
) -> PlatformCheck:
    """What `safehold member check` does, then scored against the truth."""
    frame = pl.read_parquet(
        world_dir / "members" / member_id / "accounts.parquet",
        columns=["account_id", "email", "phone", "username"],
    )
    keyed = pseudonymise_accounts(frame, key, member_id, "GB")
    to_check = [
        CheckAccount(row_ref(row), tuple(ids)) for row, ids in enumerate(keyed.identifiers) if ids
    ]
    results = check_accounts(api, to_check)
    matched = {keyed.account_ids[int(r.ref[1:])] for r in results if r.match}
    truth = set(
        registered.filter(pl.col("member_id") == member_id).get_column("account_id").to_list()
    )
    return PlatformCheck(
        member_id=member_id,
        accounts=frame.height,
        checked=len(to_check),
        matches=len(matched),
        registered=len(truth),
        found=len(matched & truth),
        false_matches=len(matched - truth),
    )


def print_hub_run(run: HubRun) -> None:
    table = Table(title="Submitted to the hub (gzip NDJSON batches, idempotent by batch id)")
    table.add_column("member", no_wrap=True)
    table.add_column("batches", justify="right")
    table.add_column("records", justify="right")
    for member_id, report in run.submitted.items():
        table.add_row(member_id, f"{report.acknowledged:,}", f"{report.records:,}")
    console.print(table)
    console.print(
        "Stored by tier: "
        + ", ".join(f"{n:,} {name}" for name, n in run.stored.items())
        + ". Platforms cannot write the registry; justice members wrote it."
    )

    checks = Table(title="Registry checks: each platform learns match or no match, never the list")
    checks.add_column("platform", no_wrap=True)
    for header in ("accounts", "checked", "matches", "registered", "found", "false"):
        checks.add_column(header, justify="right")
    for c in run.checks:
        checks.add_row(
            c.member_id,
            f"{c.accounts:,}",
            f"{c.checked:,}",
            f"{c.matches:,}",
            f"{c.registered:,}",
            f"{c.found:,}",
            f"{c.false_matches:,}",
        )
    console.print(checks)
    registered = sum(c.registered for c in run.checks)
    found = sum(c.found for c in run.checks)
    share = f"{found / registered:.0%}" if registered else "n/a"
    console.print(
        "'checked': accounts with at least one email, phone or username to compare; "
        "'registered': accounts whose holder has an active registration (planted truth); "
        "'found': those among the matches; 'false': matches that are not.\n"
        f"Exact "
        f"keyed-pseudonym checks found {found:,} of the {registered:,} accounts held by people "
        f"with an active registration ({share}). The rest are missed because the justice "
        "record holds no email or phone, or an old or different one: linking by name and date "
        "of birth (CLKs, in the research enclave) is what finds those."
    )
    console.print(
        f"Audit trail: {run.audit_events:,} events, hash chain "
        + ("[green]intact[/]" if run.chain_ok else "[red]BROKEN[/]")
        + f" (`SAFEHOLD_DATA_DIR={run.hub_dir} safehold audit verify`)."
    )
