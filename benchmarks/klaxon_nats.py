"""The klaxon's JetStream worker end to end, killed mid-stream and restarted.

Publishes one platform's contact events of a synthetic world (about 1,000,000 with the
default 700,000 people) to a fresh JetStream stream, starts ``safehold klaxon worker``,
kills it with SIGKILL a third of the way through, restarts it, and checks the stored alerts
against batch screening of the same events: lost, doubled and changed alerts must all be
zero. Reports events/s end to end (publish excluded), with and without the restart pause
(the in-flight message comes again after --ack-wait). Needs NATS with JetStream on
127.0.0.1:4222; cleans up its stream.

    python benchmarks/klaxon_nats.py [--people 700000] [--per-message 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import polars as pl
from rich.console import Console
from rich.table import Table

from safehold.cli.klaxon_world import write_truth_flags
from safehold.klaxon.engine import screen
from safehold.klaxon.events import ClockLimits, prepare_events
from safehold.klaxon.flags import load_flags
from safehold.klaxon.nats_stream import Subjects, ensure_stream, publish_events
from safehold.klaxon.rules import load_rules
from safehold.klaxon.worker_store import WorkerStore
from safehold.synth.config import make_config
from safehold.synth.world import generate_world

URL = "nats://127.0.0.1:4222"
MEMBER = "plat-large-1"
NOW = datetime(2026, 12, 2, tzinfo=UTC)


async def _publish(stream: str, prefix: str, events: pl.DataFrame, per_message: int) -> int:
    client = await nats.connect(URL)
    try:
        js = client.jetstream()
        await ensure_stream(js, stream, prefix)
        return await publish_events(
            js, Subjects(prefix, MEMBER), events, partitions=8, per_message=per_message
        )
    finally:
        await client.close()


async def _delete(stream: str) -> None:
    client = await nats.connect(URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def _processed(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=1) as db:
            return int(db.execute("select count(*) from processed").fetchone()[0])
    except sqlite3.Error:
        return 0


def _worker(
    flags: Path, store: Path, stream: str, prefix: str, ack_wait: float
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "safehold.cli.main", "klaxon", "worker", "--flags", str(flags),
        "--store", str(store), "--stream", stream, "--prefix", prefix, "--nats", URL,
        "--idle-exit", "3", "--ack-wait", str(ack_wait), "--now", NOW.isoformat(),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=700_000)
    parser.add_argument("--per-message", type=int, default=5000)
    parser.add_argument("--ack-wait", type=float, default=2.0)
    parser.add_argument("--world", type=Path, default=None, help="reuse a world folder")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        world = args.world or scratch / "world"
        if args.world is None:
            with console.status(f"generating a world of {args.people:,} people"):
                generate_world(make_config(people=args.people, seed=2027, conversations=10), world)
        flags = scratch / "flags"
        write_truth_flags(world, MEMBER, flags)
        events = pl.read_parquet(world / "members" / MEMBER / "contact_events.parquet")
        expected = screen(
            prepare_events(events, source="all", member_id=MEMBER, clock=ClockLimits(now=NOW)),
            load_flags(flags),
            load_rules(),
        )
        name = uuid.uuid4().hex[:12]
        stream, prefix = f"KBENCH_{name}", f"kbench.{name}"
        store = scratch / "worker" / "alerts.sqlite"
        try:
            messages = asyncio.run(_publish(stream, prefix, events, args.per_message))
            started = time.perf_counter()
            first = _worker(flags, store, stream, prefix, args.ack_wait)
            while _processed(store) < messages // 3 and first.poll() is None:
                time.sleep(0.005)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            killed_at = _processed(store)
            second = _worker(flags, store, stream, prefix, args.ack_wait)
            output, _ = second.communicate()
            finished = time.perf_counter() - 3.0  # the idle wait before it stops
        finally:
            asyncio.run(_delete(stream))
        kept = WorkerStore(store)
        stored, counts = kept.alerts(), kept.counts()
        kept.close()

    ids_expected = set(expected["alert_id"].to_list())
    ids_stored = stored["alert_id"].to_list()
    lost = len(ids_expected - set(ids_stored))
    doubled = len(ids_stored) - len(set(ids_stored))
    changed = stored.join(expected, on=list(expected.columns), how="anti").height
    seconds = finished - started
    figures = {
        "events": events.height,
        "messages": messages,
        "events_per_message": args.per_message,
        "killed_after_messages": killed_at,
        "alerts_expected": expected.height,
        "alerts_stored": len(ids_stored),
        "lost_alerts": lost,
        "duplicated_alerts": doubled,
        "changed_alerts": changed,
        "dead_lettered": counts.get("dead_letter", 0),
        "events_per_s_end_to_end_with_restart": round(events.height / seconds),
        "events_per_s_end_to_end_without_restart_pause": round(
            events.height / (seconds - args.ack_wait)
        ),
        "screened_messages": counts.get("screened", 0),
    }
    table = Table(title=f"klaxon JetStream worker, SIGKILL and restart ({events.height:,} events)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    console.print(output.decode().strip().splitlines()[-1] if output else "")
    print(json.dumps({"benchmark": "klaxon_nats", "figures": figures}))


if __name__ == "__main__":
    main()
