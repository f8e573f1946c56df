"""The klaxon's JetStream worker end to end, killed mid-stream and restarted.

Publishes one platform's contact events of a synthetic world (about 1,000,000 with the
default 700,000 people) to a fresh JetStream stream, starts ``safehold klaxon worker``,
kills it with SIGKILL a third of the way through, restarts it, and checks the stored alerts
against batch screening of the same events: lost, doubled and changed alerts must all be
zero. Reports events/s end to end (publish excluded), with and without the restart pause
(the in-flight message comes again after --ack-wait).

Then the latency run: a fresh stream and worker, and a publisher that offers --offered
events/s (a batch every --tick seconds, split by partition, each message stamped with its
publish time). Latency of an alert = the time its message's alerts were stored by the
worker minus the publish time of that message (the message holding the event that raised
the alert first); when the worker screened several waiting messages together, from the
publish time of the group's first message (an upper bound). Reports p50 and p99 and the rate achieved (events over the time from
the first publish to the last store); if the worker falls behind, latency grows through
the run and the achieved rate is below the offered one. The publisher, the worker and
NATS share this machine's cores; the worker's CPU seconds once it is ready (its start-up
imports not counted) are reported too, as events per worker CPU second. Needs NATS with JetStream on 127.0.0.1:4222; cleans up
its streams.

    python benchmarks/klaxon_nats.py [--people 700000] [--per-message 5000]
        [--offered 100000] [--tick 0.1] [--latency-partitions 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import polars as pl
from rich.console import Console
from rich.table import Table

from safehold.cli.klaxon_world import write_truth_flags
from safehold.klaxon.engine import screen
from safehold.klaxon.events import ClockLimits, prepare_events
from safehold.klaxon.flags import load_flags
from safehold.klaxon.nats_stream import (
    Subjects,
    encode_batch,
    ensure_stream,
    partition_of,
    publish_events,
)
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


async def _publish_paced(
    stream: str, prefix: str, events: pl.DataFrame, *, rate: int, tick: float, partitions: int
) -> dict[int, float]:
    """Offer ``rate`` events/s: every ``tick`` seconds the next slice, one message per
    partition; returns the publish time (Unix seconds) of each message, by stream sequence."""
    client = await nats.connect(URL)
    subjects = Subjects(prefix, MEMBER)
    try:
        js = client.jetstream()
        await ensure_stream(js, stream, prefix)
        per_tick = max(1, round(rate * tick))
        sent: list[tuple[asyncio.Future[Any], float]] = []
        loop = asyncio.get_running_loop()
        start = loop.time()
        for number, offset in enumerate(range(0, events.height, per_tick)):
            delay = start + number * tick - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            piece = events.slice(offset, per_tick)
            parts = piece.with_columns(
                partition_of(piece["sender_account"], partitions).alias("_partition")
            )
            for (partition,), group in parts.group_by("_partition", maintain_order=True):
                chunk = group.drop("_partition")
                payload = encode_batch(chunk)
                published = time.time()
                future = await js.publish_async(subjects.events(int(partition)), payload)
                sent.append((future, published))
        acks = await asyncio.gather(*(future for future, _ in sent))
        return {int(ack.seq): published for ack, (_, published) in zip(acks, sent, strict=True)}
    finally:
        await client.close()


def _latency_run(
    flags: Path, scratch: Path, events: pl.DataFrame, args: argparse.Namespace
) -> dict[str, object]:
    name = uuid.uuid4().hex[:12]
    stream, prefix = f"KLAT_{name}", f"klat.{name}"
    store = scratch / "latency" / "alerts.sqlite"
    asyncio.run(_create_stream(stream, prefix))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        children_cpu_before = before.ru_utime + before.ru_stime
        worker = _worker(flags, store, stream, prefix, 10.0)
        asyncio.run(_wait_for_consumer(stream, "klaxon", args.worker_start))
        ready_cpu = _cpu_seconds(worker.pid)  # the worker's start-up (imports) is not counted
        published = asyncio.run(
            _publish_paced(
                stream,
                prefix,
                events,
                rate=args.offered,
                tick=args.tick,
                partitions=args.latency_partitions,
            )
        )
        while _processed(store) < len(published) and worker.poll() is None:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        worker.communicate()
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = cpu.ru_utime + cpu.ru_stime - children_cpu_before - ready_cpu
    finally:
        asyncio.run(_delete(stream))
    kept = WorkerStore(store)
    stored_at = kept.stored_times()
    first_seen: dict[str, int] = {}
    for sequence in sorted(stored_at):
        for alert in kept.changed_ids(sequence):
            first_seen.setdefault(alert, sequence)
    alerts = kept.alerts()
    kept.close()
    # a message screened in a group is charged from the group's first publish: an upper bound
    latencies = sorted(
        stored_at[seq][0] - published[stored_at[seq][1]] for seq in first_seen.values()
    )
    if not latencies:
        raise SystemExit("the latency run stored no alerts: is the worker running?")
    elapsed = max(at for at, _ in stored_at.values()) - min(published.values())
    groups = len({first for _, first in stored_at.values()})

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {
        "latency_offered_events_per_s": args.offered,
        "latency_achieved_events_per_s": round(events.height / elapsed),
        "latency_messages": len(published),
        "latency_partitions": args.latency_partitions,
        "latency_messages_per_screening_pass": round(len(published) / groups, 2),
        "latency_alerts": len(latencies),
        "latency_alerts_stored": alerts.height,
        "latency_worker_cpu_s": round(worker_cpu, 2),
        "latency_events_per_worker_cpu_s": round(events.height / worker_cpu),
        "latency_p50_ms": round(quantile(0.50) * 1000, 1),
        "latency_p99_ms": round(quantile(0.99) * 1000, 1),
        "latency_max_ms": round(latencies[-1] * 1000, 1),
    }


async def _wait_for_consumer(stream: str, durable: str, timeout: float) -> None:
    """Until the worker has made its consumer: it is connected and waiting."""
    client = await nats.connect(URL)
    try:
        js = client.jetstream()
        deadline = time.monotonic() + timeout
        while True:
            try:
                await js.consumer_info(stream, durable)
                return
            except nats.js.errors.NotFoundError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the worker made no consumer within {timeout}s") from None
                await asyncio.sleep(0.1)
    finally:
        await client.close()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _create_stream(stream: str, prefix: str) -> None:
    client = await nats.connect(URL)
    try:
        await ensure_stream(client.jetstream(), stream, prefix)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=700_000)
    parser.add_argument("--per-message", type=int, default=5000)
    parser.add_argument("--ack-wait", type=float, default=2.0)
    parser.add_argument("--world", type=Path, default=None, help="reuse a world folder")
    parser.add_argument("--offered", type=int, default=100_000, help="events/s offered")
    parser.add_argument("--tick", type=float, default=0.1, help="seconds between batches")
    parser.add_argument("--latency-partitions", type=int, default=2)
    parser.add_argument(
        "--worker-start", type=float, default=180.0, help="seconds the worker may take to start"
    )
    parser.add_argument("--skip-kill", action="store_true", help="the latency run only")
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
        figures: dict[str, object] = {"events": events.height, "alerts_expected": expected.height}
        output = b""
        if not args.skip_kill:
            with console.status("kill-and-restart run"):
                kill, output = _kill_run(flags, scratch, events, expected, args)
            figures.update(kill)
        with console.status(f"latency run at {args.offered:,} events/s offered"):
            figures.update(_latency_run(flags, scratch, events, args))

    table = Table(title=f"klaxon JetStream worker ({events.height:,} events)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    if output:
        console.print(output.decode().strip().splitlines()[-1])
    print(json.dumps({"benchmark": "klaxon_nats", "figures": figures}))


def _kill_run(
    flags: Path,
    scratch: Path,
    events: pl.DataFrame,
    expected: pl.DataFrame,
    args: argparse.Namespace,
) -> tuple[dict[str, object], bytes]:
    """Publish everything, screen, SIGKILL a third of the way, restart, compare."""
    name = uuid.uuid4().hex[:12]
    stream, prefix = f"KBENCH_{name}", f"kbench.{name}"
    store = scratch / "worker" / "alerts.sqlite"
    try:
        messages = asyncio.run(_publish(stream, prefix, events, args.per_message))
        first = _worker(flags, store, stream, prefix, args.ack_wait)
        asyncio.run(_wait_for_consumer(stream, "klaxon", args.worker_start))
        started = time.perf_counter()  # from a started worker (the restart's start-up counts)
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
    seconds = finished - started
    return {
        "messages": messages,
        "events_per_message": args.per_message,
        "killed_after_messages": killed_at,
        "alerts_stored": len(ids_stored),
        "lost_alerts": len(ids_expected - set(ids_stored)),
        "duplicated_alerts": len(ids_stored) - len(set(ids_stored)),
        "changed_alerts": stored.join(expected, on=list(expected.columns), how="anti").height,
        "dead_lettered": counts.get("dead_letter", 0),
        "events_per_s_end_to_end_with_restart": round(events.height / seconds),
        "events_per_s_end_to_end_without_restart_pause": round(
            events.height / (seconds - args.ack_wait)
        ),
        "screened_messages": counts.get("screened", 0),
    }, output


if __name__ == "__main__":
    main()
