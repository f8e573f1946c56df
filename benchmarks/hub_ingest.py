"""The hub's speed targets (issue 3), each beside its baseline in the same run:

1. Ingest of behaviour records into PostgreSQL. Ours is the real path for each batch of
   10,000 records: ``validate_batch`` on the JSON bytes a member sends,
   ``store.ingest.ingest_batch`` (batch row, duplicate check, content hash, enclave rows
   through COPY) and the commit. The baseline is a plain ``COPY`` of the same rows, made
   beforehand, into the same table (``enclave_records``, with its foreign keys), with no
   validation at all; the two run batch by batch in turn. A second line shows COPY into a
   copy of that table without foreign keys: what the constraints cost the server whoever
   writes the rows. The goal is ours >= 0.5 x COPY.
2. Registry checks: pseudonyms checked per second, for requests of 10,000 accounts against
   a registry of 1,000,000 entries, through the store and through the HTTP route, beside
   one indexed query per pseudonym (see registry_figures.py).

Machines here are shared, so ratios are the figures to read. The script creates its own
databases on 127.0.0.1:5432 and drops them at the end.

    python benchmarks/hub_ingest.py [--records 100000] [--batch-size 10000] [--registry 1000000]
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import registry_figures  # benchmarks/ is on the path when this script runs
from safehold.exchange import Member, MemberKind, SizeBand, validate_batch
from safehold.store.database import make_engine
from safehold.store.ingest import ingest_batch
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MEMBER = "bench-platform"
AGE_BANDS = ("13_15", "16_17", "18_24", "25_34", "35_44", "45_54")


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh database for this run (psycopg URL), dropped afterwards."""
    name = f"safehold_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def behaviour_record(n: int) -> dict[str, Any]:
    """One synthetic behaviour record with a realistic share of its features filled in."""
    return {
        "record_type": "behaviour",
        "subject": {"kind": "account", "pseudonym": secrets.token_hex(32), "key_version": 1},
        "period_start": "2026-01",
        "period_days": 90,
        "age_band": AGE_BANDS[n % len(AGE_BANDS)],
        "sex": ("female", "male", "unknown")[n % 3],
        "deprivation_quintile": 1 + n % 5,
        "account_age_days": 30 + n % 3000,
        "profile_completeness": round((n % 100) / 100, 2),
        "messages_sent": n % 5000,
        "messages_received": (n * 7) % 5000,
        "conversations_started": n % 40,
        "median_reply_seconds": 60 + n % 3600,
        "contacts_total": 10 + n % 400,
        "new_contacts": n % 50,
        "friend_requests_sent": n % 30,
        "friend_request_acceptance": round((n % 10) / 10, 1),
        "minor_contacts_share": round((n % 20) / 100, 2),
        "messages_to_minors_share": round((n % 15) / 100, 2),
        "contact_age_gap_years": round((n % 300) / 10, 1),
        "posts": n % 200,
        "media_shared": n % 80,
        "night_activity_share": round((n % 30) / 100, 2),
        "weekend_activity_share": round((n % 40) / 100, 2),
        "active_days": 1 + n % 90,
        "sessions_per_day": round(1 + (n % 50) / 10, 1),
        "off_platform_links_sent": n % 5,
        "reports_received": n % 3,
    }


def batch_body(number: int, records: list[dict[str, Any]]) -> bytes:
    """The JSON body a member would send for one batch."""
    return json.dumps(
        {
            "batch_id": f"bench-{number:05d}",
            "member_id": MEMBER,
            "schema_version": "1.0",
            "created_at": datetime.now(UTC).isoformat(),
            "records": records,
        }
    ).encode()


def prepare_store(url: str) -> Engine:
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    with Session(engine) as session, session.begin():
        member = Member(
            member_id=MEMBER, name="Benchmark", kind=MemberKind.PLATFORM, size_band=SizeBand.SMALL
        )
        add_member(session, member, Actor("benchmark", "operator"))
    return engine


COPY_COLUMNS = "(member_id, batch_pk, record_type, subject_pseudonym, key_version, payload)"


def copy_rows(records: list[dict[str, Any]], batch_pk: int) -> list[tuple[Any, ...]]:
    """The enclave rows of ``records`` as the baseline copies them (JSON made beforehand)."""
    return [
        (
            MEMBER,
            batch_pk,
            "behaviour",
            r["subject"]["pseudonym"],
            1,
            json.dumps(r, separators=(",", ":")),
        )
        for r in records
    ]


def ours_batch(engine: Engine, body: bytes) -> tuple[float, float]:
    """Seconds to validate one batch body, and to store and commit it."""
    started = time.perf_counter()
    batch = validate_batch(body)
    validated = time.perf_counter()
    with Session(engine) as session, session.begin():
        ingest_batch(session, MEMBER, batch)
    return validated - started, time.perf_counter() - validated


def copy_batch(
    connection: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]
) -> float:
    """Seconds for a bare COPY of ``rows`` into ``table`` and its commit."""
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} {COPY_COLUMNS} FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    connection.commit()
    return time.perf_counter() - started


def measure_ingest_vs_copy(url: str, engine: Engine, n: int, batch_size: int) -> dict[str, float]:
    """Ours and the bare COPY, batch by batch in turn, so that both see the same machine
    load (it is shared). Each batch's records are made just before it (untimed), so that
    the benchmark's own data does not weigh on the measured code's garbage collection. A
    third figure, COPY into enclave_records itself, shows what its two foreign keys cost
    the server whoever writes the rows."""
    totals = {"validate_s": 0.0, "store_s": 0.0, "copy_s": 0.0, "copy_fk_s": 0.0}
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE copy_baseline (LIKE enclave_records INCLUDING ALL)")
        fk_batch = connection.execute(
            "INSERT INTO batches (member_id, batch_id, content_hash, schema_version,"
            " record_count, counts, received_at)"
            " VALUES (%s, 'copy-reference', '', '1.0', 0, '{}', now()) RETURNING batch_pk",
            (MEMBER,),
        ).fetchone()
        assert fk_batch is not None
        connection.commit()
        for number, start in enumerate(range(0, n, batch_size)):
            records = [behaviour_record(i) for i in range(start, min(n, start + batch_size))]
            body = batch_body(number, records)
            validate_s, store_s = ours_batch(engine, body)
            totals["validate_s"] += validate_s
            totals["store_s"] += store_s
            totals["copy_s"] += copy_batch(connection, "copy_baseline", copy_rows(records, 1))
            fk_rows = copy_rows(records, fk_batch[0])
            totals["copy_fk_s"] += copy_batch(connection, "enclave_records", fk_rows)
    return totals


def ingest_figures(url: str, engine: Engine, n: int, batch_size: int) -> dict[str, Any]:
    """Measure ours against COPY of the same rows; records/s and the ratios."""
    totals = measure_ingest_vs_copy(url, engine, n, batch_size)
    ours_s = totals["validate_s"] + totals["store_s"]
    return {
        "records": n,
        "batch_size": batch_size,
        "ours_per_s": round(n / ours_s),
        "ours_store_per_s": round(n / totals["store_s"]),
        "ours_validate_share": round(totals["validate_s"] / ours_s, 2),
        "copy_per_s": round(n / totals["copy_s"]),
        "copy_fk_per_s": round(n / totals["copy_fk_s"]),
        "ours_vs_copy": round(totals["copy_fk_s"] / ours_s, 2),
        "ours_vs_copy_without_fks": round(totals["copy_s"] / ours_s, 2),
    }


def print_ingest(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title=f"ingest of {figures['records']:,} behaviour records into PostgreSQL")
    table.add_column("method")
    table.add_column("records/s", justify="right")
    table.add_column("vs COPY", justify="right")
    for label, key in [
        ("ours: validate_batch + ingest_batch + commit", "ours_per_s"),
        ("  ours, storing only (ingest_batch + commit)", "ours_store_per_s"),
        ("baseline: COPY of the same rows into enclave_records", "copy_fk_per_s"),
        ("  COPY into a copy of it without foreign keys", "copy_per_s"),
    ]:
        ratio = figures[key] / figures["copy_fk_per_s"]
        table.add_row(label, f"{figures[key]:,}", f"{ratio:.2f}x")
    console.print(table)
    goal = "met" if figures["ours_vs_copy"] >= 0.5 else "NOT met"
    console.print(
        f"goal (ours >= 0.5 x COPY into the same table): {goal} ({figures['ours_vs_copy']:.2f}x); "
        f"against a table without foreign keys: {figures['ours_vs_copy_without_fks']:.2f}x. "
        f"Validation is {figures['ours_validate_share']:.0%} of our time."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--registry", type=int, default=1_000_000, help="registry entries")
    parser.add_argument("--check-batch", type=int, default=10_000, help="accounts per check")
    args = parser.parse_args()
    console = Console()
    with scratch_database() as url:
        engine = prepare_store(url)
        try:
            ingest = ingest_figures(url, engine, args.records, args.batch_size)
        finally:
            engine.dispose()
    print_ingest(console, ingest)
    with registry_figures.scratch_database() as url:
        registry = registry_figures.measure_registry_check(url, args.registry, args.check_batch)
    console.print(registry_figures.registry_table(registry, args.check_batch, args.registry))
    print(
        json.dumps(
            {"benchmark": "hub_ingest", "figures": {"ingest": ingest, "registry_check": registry}}
        )
    )


if __name__ == "__main__":
    main()
