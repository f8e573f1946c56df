"""Alerts from the klaxon worker into the hub's alerts tier (POST /v1/alerts): stored once
per id, a resend changes nothing, a fuller version replaces the payload, another member's
alerts are refused; and end to end, a worker on a real NATS server delivering to a served
hub before it acknowledges."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import polars as pl
import pytest
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.klaxon.engine import screen
from safehold.klaxon.events import prepare_events
from safehold.klaxon.nats_stream import Subjects, ensure_stream, publish_events
from safehold.klaxon.rules import load_rules
from safehold.klaxon.webhook import alert_body
from safehold.store.models import AlertRow, AuditEventRow
from tests.conftest import sqlite_url
from tests.hub.conftest import Hub, make_hub
from tests.klaxon.builders import CLOCK, T0, event, flags, frame, hours

MEMBER = "plat-a"  # a platform member of the test hub
URL = "nats://127.0.0.1:4222"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path / "hub", sqlite_url(tmp_path))
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()


MODEL_VERSION = "00112233aabb"


def raised(tmp_path: Path, rows: list[dict[str, object]]) -> pl.DataFrame:
    fs = flags(
        tmp_path / "flags",
        registry=("reg",),
        model={"modeled": "high"},
        member_id=MEMBER,
        model_version=MODEL_VERSION,
    )
    events = prepare_events(frame(rows), source="t", member_id=MEMBER, clock=CLOCK)
    return screen(events, fs, load_rules())


def post(hub: Hub, alerts: pl.DataFrame, member: str = MEMBER) -> dict[str, object]:
    answer = hub.client.post(
        "/v1/alerts",
        content=alert_body(alerts),
        headers={**hub.headers(member=member), "Content-Type": "application/json"},
    )
    return {"status": answer.status_code, **answer.json()}


def test_alerts_are_stored_once_per_id_and_a_fuller_version_replaces_the_payload(
    hub: Hub, tmp_path: Path
) -> None:
    alerts = raised(tmp_path, [event("reg", f"kid{i}", T0 + hours(i)) for i in range(3)])
    assert alerts.height == 3
    first = post(hub, alerts)
    assert first == {"status": 200, "received": 3, "new": 3, "updated": 0, "unchanged": 0}
    assert post(hub, alerts)["unchanged"] == 3  # a resend after a restart: nothing changes
    fuller = alerts.head(1).with_columns(
        pl.col("rules").list.concat(pl.lit(["night"])),
        pl.col("reasons").list.concat(pl.lit(["contact at night"])),
        pl.col("rule_severities").list.concat(pl.lit([35])),
        pl.col("severity") + 35,
    )
    assert post(hub, fuller)["updated"] == 1
    with hub.session() as session:
        rows = {r.alert_id: r for r in session.scalars(select(AlertRow))}
        assert set(rows) == set(alerts["alert_id"].to_list())
        top = rows[fuller["alert_id"][0]]
        assert top.severity == int(fuller["severity"][0]) and top.status == "open"
        assert top.payload["rules"][-1] == "night" and top.payload["reasons"]
        actions = list(session.scalars(select(AuditEventRow.action)))
    assert actions.count("alerts.deliver") == 3
    listed = hub.client.get("/v1/alerts", headers=hub.headers(member=MEMBER)).json()["alerts"]
    assert {a["alert_id"] for a in listed} == set(rows)


def test_another_members_alerts_and_malformed_alerts_are_refused_whole(
    hub: Hub, tmp_path: Path
) -> None:
    alerts = raised(tmp_path, [event("reg", "kid", T0)])
    refused = post(hub, alerts, member="plat-b")  # the key of another platform
    assert refused["status"] == 403 and refused["error"] == "member_mismatch"  # type: ignore[comparator-overlap]
    body = json.loads(alert_body(alerts))
    body["alerts"][0]["reasons"] = []
    answer = hub.client.post("/v1/alerts", json=body, headers=hub.headers(member=MEMBER))
    assert answer.status_code == 422
    assert answer.json()["details"][0]["index"] == 0
    police = hub.client.post("/v1/alerts", json=body, headers=hub.headers("police"))
    assert police.status_code == 403
    with hub.session() as session:
        assert session.scalars(select(AlertRow)).first() is None


def _serve(hub: Hub) -> tuple[uvicorn.Server, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(hub.client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.slow
def test_the_worker_delivers_to_a_served_hub_before_it_acknowledges(
    hub: Hub, tmp_path: Path, require_service: Callable[[str], None]
) -> None:
    require_service("nats")
    rows = [event("reg", f"kid{i}", T0 + hours(i)) for i in range(5)]
    rows.append(event("modeled", "kid9", T0 + hours(6)))
    expected = raised(tmp_path, rows)
    name = uuid.uuid4().hex[:12]
    stream, prefix = f"KHUB_{name}", f"khub.{name}"
    (tmp_path / "key").write_text(hub.member_keys[MEMBER] + "\n")

    async def publish() -> None:
        client = await nats.connect(URL)
        try:
            js = client.jetstream()
            await ensure_stream(js, stream, prefix)
            await publish_events(
                js, Subjects(prefix, MEMBER), frame(rows), partitions=1, per_message=2
            )
        finally:
            await client.close()

    def run_worker(store: str, durable: str, hub_url: str) -> str:
        args = [
            "klaxon", "worker", "--flags", str(tmp_path / "flags"), "--store",
            str(tmp_path / store), "--stream", stream, "--prefix", prefix, "--durable", durable,
            "--idle-exit", "3", "--ack-wait", "2", "--now", CLOCK.now.isoformat(),
            "--hub", hub_url, "--hub-key-file", str(tmp_path / "key"),
        ]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    server, hub_url = _serve(hub)
    try:
        asyncio.run(publish())
        # The hub is not there at first: the message stays unacknowledged and comes again.
        down = run_worker("down.sqlite", "down", "http://127.0.0.1:9")
        assert "unreachable" in down and "0 alerts new at the hub" in down
        output = run_worker("w1.sqlite", "w1", hub_url)
        assert f"{expected.height} alerts new at the hub" in output, output
        # Another worker reading the whole stream again delivers the same ids: none new.
        again = run_worker("w2.sqlite", "w2", hub_url)
        assert "0 alerts new at the hub" in again, again
    finally:
        server.should_exit = True
        asyncio.run(_delete(stream))
    with hub.session() as session:
        stored = {r.alert_id: r for r in session.scalars(select(AlertRow))}
    assert set(stored) == set(expected["alert_id"].to_list())
    assert all(r.member_id == MEMBER and r.payload["reasons"] for r in stored.values())
    # the model's part travels with the alert it fired (klaxon.model_flags), only with it
    models = {r.payload["sender"]: r.payload.get("model") for r in stored.values()}
    assert models.pop("modeled")["version"] == MODEL_VERSION
    assert set(models.values()) == {None}


async def _delete(stream: str) -> None:
    client = await nats.connect(URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()
