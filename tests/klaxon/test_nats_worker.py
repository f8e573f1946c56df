"""The JetStream worker against a real NATS server: killed by SIGKILL mid-stream and
restarted, it loses no alert and stores none twice; a poison message goes to the
dead-letter subject and the stream flows on; an unreachable NATS is retried and reported."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import nats
import nats.errors
import polars as pl
import pytest
from typer.testing import CliRunner

from safehold.cli.klaxon_world import recipient_markers, registry_flags_from_truth
from safehold.cli.main import app
from safehold.klaxon.engine import empty_alerts, merge_alerts, screen
from safehold.klaxon.events import prepare_events
from safehold.klaxon.flags import load_flags, write_flags
from safehold.klaxon.nats_stream import Subjects, decode_batch, ensure_stream, publish_events
from safehold.klaxon.rules import load_rules
from safehold.klaxon.worker_store import WorkerStore
from safehold.synth.config import make_config
from safehold.synth.world import generate_world
from tests.klaxon.builders import CLOCK

MEMBER = "plat-medium-1"
URL = "nats://127.0.0.1:4222"
NOW = CLOCK.now.isoformat()


async def _publish(stream: str, prefix: str, events: pl.DataFrame, per_message: int) -> int:
    client = await nats.connect(URL)
    try:
        js = client.jetstream()
        await ensure_stream(js, stream, prefix)
        subjects = Subjects(prefix, MEMBER)
        half = events.height // 2
        sent = await publish_events(
            js, subjects, events.head(half), partitions=4, per_message=per_message
        )
        await js.publish(subjects.events(1), b"\x00 not a batch of events")  # poison
        sent += await publish_events(
            js, subjects, events.slice(half), partitions=4, per_message=per_message
        )
        return sent + 1
    finally:
        await client.close()


async def _dead_letters(stream: str, prefix: str) -> int:
    client = await nats.connect(URL)
    try:
        info = await client.jetstream().stream_info(stream, subjects_filter=f"{prefix}.dead.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await client.close()


async def _published_alerts(stream: str, prefix: str) -> pl.DataFrame:
    """Every batch of alerts on the alerts subject, merged by alert id."""
    client = await nats.connect(URL)
    try:
        js = client.jetstream()
        sub = await js.pull_subscribe(f"{prefix}.alerts.>", stream=stream)
        merged = empty_alerts()
        while True:
            try:
                batch = await sub.fetch(100, timeout=2.0)
            except nats.errors.TimeoutError:
                return merged
            for msg in batch:
                merged = merge_alerts(merged, decode_batch(msg.data))
                await msg.ack()
    finally:
        await client.close()


async def _delete(stream: str) -> None:
    client = await nats.connect(URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def _processed(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=1) as db:
            return int(db.execute("select count(*) from processed").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _worker(flags: Path, store: Path, stream: str, prefix: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "safehold.cli.main", "klaxon", "worker", "--flags", str(flags),
        "--store", str(store), "--stream", stream, "--prefix", prefix, "--nats", URL,
        "--idle-exit", "6", "--ack-wait", "2", "--now", NOW,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_killed_worker_restarts_with_no_alert_lost_or_doubled(
    tmp_path: Path, require_service: Callable[[str], None]
) -> None:
    require_service("nats")
    world = tmp_path / "world"
    generate_world(make_config(people=8000, seed=3, conversations=10), world)
    flags = tmp_path / "flags"
    write_flags(
        flags,
        member_id=MEMBER,
        senders=registry_flags_from_truth(world, MEMBER),
        markers=recipient_markers(world, MEMBER),
    )
    events = pl.read_parquet(world / "members" / MEMBER / "contact_events.parquet")
    expected = screen(
        prepare_events(events, source="all", member_id=MEMBER, clock=CLOCK),
        load_flags(flags),
        load_rules(),
    )
    name = uuid.uuid4().hex[:12]
    stream, prefix = f"KTEST_{name}", f"ktest.{name}"
    store = tmp_path / "worker" / "alerts.sqlite"
    try:
        messages = asyncio.run(_publish(stream, prefix, events, per_message=60))
        first = _worker(flags, store, stream, prefix)
        deadline = time.monotonic() + 120
        while _processed(store) < messages // 3 and time.monotonic() < deadline:
            if first.poll() is not None:
                break
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        done_at_kill = _processed(store)
        assert 0 < done_at_kill < messages, "the kill must land mid-stream"

        second = _worker(flags, store, stream, prefix)
        output, _ = second.communicate(timeout=180)
        assert second.returncode == 0, output.decode()
        assert "redelivered" in output.decode()

        kept = WorkerStore(store)
        try:
            stored = kept.alerts()
            counts = kept.counts()
        finally:
            kept.close()
        assert stored["alert_id"].n_unique() == stored.height  # none twice
        assert stored.equals(expected)  # none lost, none changed
        assert counts["screened"] + counts["dead_letter"] == messages
        assert counts["dead_letter"] == 1
        assert asyncio.run(_dead_letters(stream, prefix)) == 1
        assert asyncio.run(_published_alerts(stream, prefix)).equals(expected)
    finally:
        asyncio.run(_delete(stream))


def test_an_unreachable_nats_is_retried_then_reported(tmp_path: Path) -> None:
    from tests.klaxon.builders import flags as make_flags

    make_flags(tmp_path / "flags")
    store = str(tmp_path / "s.sqlite")
    args = ["klaxon", "worker", "--flags", str(tmp_path / "flags"), "--store", store]
    result = CliRunner().invoke(app, [*args, "--nats", "nats://127.0.0.1:9", "--attempts", "2"])
    assert result.exit_code == 3
    assert "unreachable" in result.output
    assert "retrying in" in result.output
    assert "did not answer after 2 attempts" in result.output
