"""How fast the hub answers registry checks: pseudonyms checked per second, for requests of
10,000 accounts against a registry of 1,000,000 entries (issue 3).

The registry is loaded with COPY (indexes and the foreign key set aside during the load, as
a bulk load would), then batches of accounts, about 1% of them on the registry, are checked
twice: through ``store.registry.check_accounts`` (the bulk look-up alone) and through
``POST /v1/registry/check`` with a TestClient (JSON, validation, auth, rate limit, audit).
The run makes its own PostgreSQL database and drops it afterwards.

    python benchmarks/registry_figures.py [--registry 1000000] [--batch 10000] [--batches 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from safehold.exchange import IdentifierKind, Member, MemberKind, SizeBand, SubjectRef
from safehold.hub.app import create_app
from safehold.hub.settings import HubSettings
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member, issue_key
from safehold.store.migrate import upgrade
from safehold.store.models import Base, BatchRow, RegistryEntryRow, RegistryIdentifierRow
from safehold.store.registry import AccountQuery, check_accounts

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SETUP = Actor("benchmark", "operator")
MATCH_EVERY = 100  # about 1% of checked accounts are on the registry
WITHDRAWN_EVERY = 20  # 5% of entries are withdrawn: present, but never a match
_COPY_ROWS = 100_000
BASELINE_ACCOUNTS = 2_000  # the per-account baseline is slow; a sample gives its rate


def pseudonym(label: str, i: int) -> str:
    """A deterministic stand-in for a keyed pseudonym (64 lowercase hex)."""
    return hashlib.sha256(f"{label}-{i}".encode()).hexdigest()


# --- loading ------------------------------------------------------------------------------


def _entry_lines(start: int, stop: int, batch_pk: int) -> str:
    out = io.StringIO()
    for i in range(start, stop):
        status = "withdrawn" if i % WITHDRAWN_EVERY == 0 else "active"
        out.write(
            f"{i + 1}\tcourt-bench\te{i}\t{batch_pk}\tcontact\t{status}\t2020-01\t2020-01"
            "\t\\N\t\\N\t2026-01-01 00:00:00+00\n"
        )
    return out.getvalue()


def _identifier_lines(start: int, stop: int) -> str:
    """One email per entry and, for every other entry, a phone too."""
    out = io.StringIO()
    for i in range(start, stop):
        out.write(f"{2 * i + 1}\t{i + 1}\temail\t{pseudonym('email', i)}\t1\n")
        if i % 2 == 0:
            out.write(f"{2 * i + 2}\t{i + 1}\tphone\t{pseudonym('phone', i)}\t1\n")
    return out.getvalue()


def load_registry(engine: Engine, size: int) -> None:
    """``size`` entries from one court member, by COPY; indexes and the foreign key are
    dropped for the load and built again afterwards, then the tables are analysed."""
    with Session(engine) as session, session.begin():
        add_member(
            session, Member(member_id="court-bench", name="Court", kind=MemberKind.COURT), SETUP
        )
        batch = BatchRow(
            member_id="court-bench",
            batch_id="bench",
            content_hash="0" * 64,
            schema_version="1.0",
            record_count=size,
            counts={},
        )
        session.add(batch)
        session.flush()
        batch_pk = batch.batch_pk
    identifiers = Base.metadata.tables[RegistryIdentifierRow.__tablename__]
    indexes = list(identifiers.indexes)
    foreign_keys = list(identifiers.foreign_key_constraints)
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
        for fk in foreign_keys:
            connection.execute(DropConstraint(fk))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            "COPY registry_entries (entry_pk, member_id, entry_id, batch_pk, typology, status, "
            "convicted_month, registered_from, registered_until, clk, updated_at) FROM STDIN"
        ) as copy:
            for start in range(0, size, _COPY_ROWS):
                copy.write(_entry_lines(start, min(size, start + _COPY_ROWS), batch_pk))
        with cursor.copy(
            "COPY registry_identifiers (identifier_pk, entry_pk, kind, pseudonym, key_version) "
            "FROM STDIN"
        ) as copy:
            for start in range(0, size, _COPY_ROWS):
                copy.write(_identifier_lines(start, min(size, start + _COPY_ROWS)))
        for index in indexes:
            index.create(connection)
        for fk in foreign_keys:
            connection.execute(AddConstraint(fk))
        for table, column in (
            ("registry_entries", "entry_pk"),
            ("registry_identifiers", "identifier_pk"),
        ):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT max({column}) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE registry_entries"))
        connection.execute(text("ANALYZE registry_identifiers"))


# --- the accounts checked -----------------------------------------------------------------


def accounts_for(batch: int, size: int, registry_size: int) -> tuple[list[AccountQuery], int]:
    """``size`` accounts with one email each; every MATCH_EVERY-th is the email of a
    registry entry (spread over the whole registry). Returns them and how many must match
    (those whose entry is active)."""
    accounts: list[AccountQuery] = []
    expected = 0
    for i in range(size):
        if i % MATCH_EVERY == 0:
            entry = int(pseudonym(f"pick-{batch}", i)[:12], 16) % registry_size
            value = pseudonym("email", entry)
            expected += entry % WITHDRAWN_EVERY != 0
        else:
            value = pseudonym(f"account-{batch}", i)
        subject = SubjectRef(kind=IdentifierKind.EMAIL, pseudonym=value, key_version=1)
        accounts.append(AccountQuery(f"r{i}", (subject,)))
    return accounts, expected


def _body(accounts: list[AccountQuery]) -> dict[str, Any]:
    return {
        "accounts": [
            {"ref": a.ref, "identifiers": [s.model_dump(mode="json") for s in a.identifiers]}
            for a in accounts
        ]
    }


# --- measuring ----------------------------------------------------------------------------


def measure_registry_check(
    database_url: str,
    registry_size: int = 1_000_000,
    batch_size: int = 10_000,
    batches: int = 5,
) -> dict[str, float]:
    """Load a registry of ``registry_size`` into the (empty) PostgreSQL database at
    ``database_url``, then time ``batches`` checks of ``batch_size`` accounts through the
    store and through the HTTP route. Figures are pseudonyms checked per second."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        load_registry(engine, registry_size)
        load_s = time.perf_counter() - started
        with Session(engine) as session:
            identifiers = session.scalar(select(func.count()).select_from(RegistryIdentifierRow))
            entries = session.scalar(select(func.count()).select_from(RegistryEntryRow))
        assert entries == registry_size, (entries, registry_size)
        # One batch of account objects alive at a time, as in a hub process: a large live
        # set makes every garbage collection slower, which would weigh on the figures.
        store_times: list[float] = []
        requests: list[tuple[bytes, int]] = []
        for b in range(batches):
            accounts, expected = accounts_for(b, batch_size, registry_size)
            with Session(engine) as session, session.begin():
                started = time.perf_counter()
                answers = check_accounts(session, accounts)
                store_times.append(time.perf_counter() - started)
            found = sum(a.match for a in answers)
            assert found == expected, f"store check found {found} matches, expected {expected}"
            requests.append((json.dumps(_body(accounts)).encode(), expected))
            del accounts, answers

        baseline_accounts, _ = accounts_for(0, min(batch_size, BASELINE_ACCOUNTS), registry_size)
        baseline_s = _measure_per_account(engine, baseline_accounts)
        http_times = _measure_http(engine, database_url, requests, batch_size)
    finally:
        engine.dispose()
    checked = batch_size * batches  # one pseudonym per account
    return {
        "registry_entries": float(registry_size),
        "registry_identifiers": float(identifiers or 0),
        "batch_accounts": float(batch_size),
        "batches": float(batches),
        "load_s": round(load_s, 2),
        "load_entries_per_s": round(registry_size / load_s),
        "store_pseudonyms_per_s": round(checked / sum(store_times)),
        "store_batch_ms_median": round(statistics.median(store_times) * 1000, 1),
        "http_pseudonyms_per_s": round(checked / sum(http_times)),
        "http_batch_ms_median": round(statistics.median(http_times) * 1000, 1),
        "baseline_per_account_pseudonyms_per_s": round(len(baseline_accounts) / baseline_s),
        "store_vs_per_account": round(
            (checked / sum(store_times)) / (len(baseline_accounts) / baseline_s), 1
        ),
        "match_rate": round(sum(e for _, e in requests) / checked, 4),
    }


def _measure_per_account(engine: Engine, accounts: list[AccountQuery]) -> float:
    """The baseline: the same look-up as one indexed query per pseudonym, the way a
    naive service would answer; seconds for ``accounts``."""
    query = text(
        "SELECT e.typology FROM registry_identifiers i JOIN registry_entries e"
        " ON e.entry_pk = i.entry_pk WHERE i.key_version = :v AND i.pseudonym = :p"
        " AND i.kind = :k AND e.status = 'active' LIMIT 1"
    )
    with engine.connect() as connection:
        started = time.perf_counter()
        for account in accounts:
            for subject in account.identifiers:
                connection.execute(
                    query,
                    {"v": subject.key_version, "p": subject.pseudonym, "k": subject.kind.value},
                ).first()
        return time.perf_counter() - started


def _measure_http(
    engine: Engine,
    database_url: str,
    requests: list[tuple[bytes, int]],
    batch_size: int,
) -> list[float]:
    """Seconds per request through the route, for each (JSON body, matches expected)."""
    with warnings.catch_warnings():  # Starlette's nudge towards another HTTP package
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with tempfile.TemporaryDirectory() as directory:
        settings = HubSettings(
            data_dir=Path(directory),
            database_url=database_url,
            max_check_accounts=batch_size,
            registry_check_burst=batch_size * len(requests),
            registry_checks_per_minute=batch_size * len(requests),
        )
        with Session(engine) as session, session.begin():
            add_member(
                session,
                Member(
                    member_id="plat-bench",
                    name="Platform",
                    kind=MemberKind.PLATFORM,
                    size_band=SizeBand.LARGE,
                ),
                SETUP,
            )
            key = issue_key(session, SETUP, "plat-bench").plaintext
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with TestClient(create_app(settings, engine)) as client:
            client.get("/v1/me", headers=headers)  # the key's Argon2 check, once
            times: list[float] = []
            for payload, expected in requests:
                started = time.perf_counter()
                response = client.post("/v1/registry/check", content=payload, headers=headers)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:300]
                found = sum(r["match"] for r in response.json()["results"])
                assert found == expected, f"route found {found} matches, expected {expected}"
    return times


@contextmanager
def scratch_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A PostgreSQL database for this run, dropped afterwards."""
    import psycopg

    name = f"safehold_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def registry_table(figures: dict[str, float], batch: int, registry: int) -> Table:
    table = Table(
        title=f"registry checks: {batch:,} accounts per request, "
        f"registry of {registry:,} entries (PostgreSQL)"
    )
    table.add_column("path")
    table.add_column("pseudonyms/s", justify="right")
    table.add_column("ms per request (median)", justify="right")
    table.add_row(
        "store: check_accounts",
        f"{figures['store_pseudonyms_per_s']:,.0f}",
        f"{figures['store_batch_ms_median']:,.1f}",
    )
    table.add_row(
        "HTTP: POST /v1/registry/check",
        f"{figures['http_pseudonyms_per_s']:,.0f}",
        f"{figures['http_batch_ms_median']:,.1f}",
    )
    table.add_row(
        "baseline: one indexed query per pseudonym",
        f"{figures['baseline_per_account_pseudonyms_per_s']:,.0f}",
        "",
    )
    table.add_row("load: COPY, then indexes", f"{figures['load_entries_per_s']:,.0f} entries/s", "")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--admin-url", default=PG_ADMIN_URL, help="PostgreSQL to create it in")
    args = parser.parse_args()
    with scratch_database(args.admin_url) as url:
        figures = measure_registry_check(url, args.registry, args.batch, args.batches)
    Console().print(registry_table(figures, args.batch, args.registry))
    print(json.dumps({"benchmark": "registry_check", "figures": figures}))


if __name__ == "__main__":
    main()
