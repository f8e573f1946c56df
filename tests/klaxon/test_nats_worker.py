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

from safehold.cli.klaxon_world import write_truth_flags
from safehold.cli.main import app
from safehold.klaxon.engine import empty_alerts, merge_alerts, screen
from safehold.klaxon.events import prepare_events
from safehold.klaxon.flags import load_flags
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
            except TimeoutError:  # nats' own, or asyncio's when fetch's deadline runs out
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
    write_truth_flags(world, MEMBER, flags)
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


@pytest.mark.slow
def test_the_worker_signs_webhook_deliveries_and_retries_a_refused_one(
    tmp_path: Path, require_service: Callable[[str], None]
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from safehold.klaxon.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify
    from tests.klaxon.builders import MEMBER as TEST_MEMBER
    from tests.klaxon.builders import T0, event, frame
    from tests.klaxon.builders import flags as make_flags

    require_service("nats")
    secret = b"a-webhook-secret-for-tests"
    (tmp_path / "secret").write_bytes(secret)
    accepted: list[dict[str, object]] = []
    refused: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            verify(body, self.headers[SIGNATURE_HEADER], secret)
            if not refused:  # the first delivery is refused, as by a webhook that is down
                refused.append(self.headers[DELIVERY_HEADER])
                self.send_response(503)
            else:
                accepted.append(json.loads(body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fs = make_flags(tmp_path / "flags", registry=("reg",))
    events = frame([event("reg", f"kid{i}", T0) for i in range(3)])
    expected = screen(
        prepare_events(events, source="t", member_id=TEST_MEMBER, clock=CLOCK), fs, load_rules()
    )
    name = uuid.uuid4().hex[:12]
    stream, prefix = f"KTEST_{name}", f"ktest.{name}"

    async def publish() -> None:
        client = await nats.connect(URL)
        try:
            js = client.jetstream()
            await ensure_stream(js, stream, prefix)
            subjects = Subjects(prefix, TEST_MEMBER)
            await publish_events(js, subjects, events, partitions=1, per_message=10)
        finally:
            await client.close()

    try:
        asyncio.run(publish())
        args = [
            "klaxon", "worker", "--flags", str(tmp_path / "flags"), "--store",
            str(tmp_path / "store.sqlite"), "--stream", stream, "--prefix", prefix,
            "--idle-exit", "8", "--ack-wait", "2", "--now", NOW,
            "--webhook", f"http://127.0.0.1:{server.server_port}/alerts",
            "--webhook-secret-file", str(tmp_path / "secret"),
        ]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    finally:
        server.shutdown()
        asyncio.run(_delete(stream))
    assert refused == ["alerts:1"]
    assert "1 failed and retried" in " ".join(result.output.split())
    delivered = {a["alert_id"] for body in accepted for a in body["alerts"]}  # type: ignore[attr-defined]
    assert delivered == set(expected["alert_id"].to_list())
