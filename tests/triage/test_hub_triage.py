"""`safehold triage run|queue --hub`: a device's contacts are pseudonymised here and checked
against the registry through the hub's police contact check (match or no match; only
pseudonyms under contact tokens leave), matches become a reason and points, and each
device's case summary (no evidence) is pushed to the cases tier. Against a real in-process
hub app (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from safehold.cli import member as member_cli
from safehold.cli.main import app
from safehold.exchange import IdentifierKind
from safehold.hub.ratelimit import RateLimiter
from safehold.identity import Pseudonymiser, generate_secret_file
from safehold.store.models import AuditEventRow, CaseRow
from safehold.synth.devices import DeviceTruth
from safehold.triage.likely_child import address_key
from safehold.triage.report import read_report, write_report
from safehold.triage.run import triage_device
from tests.hub.conftest import Hub, make_hub
from tests.hub.test_registry_check import entry, put_entries


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    built = make_hub(tmp_path / "hub", database_url)
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()


@pytest.fixture
def sent(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every request body the CLI sends to the hub."""
    bodies: list[bytes] = []

    def client(_url: str) -> TestClient:
        http = TestClient(hub.client.app)
        http.event_hooks = {"request": [lambda r: bodies.append(r.read())]}
        return http

    monkeypatch.setattr(member_cli, "open_hub", client)
    return bodies


def _key_files(tmp_path: Path, hub: Hub) -> tuple[Path, Path]:
    api_key = tmp_path / "police.key"
    api_key.write_text(hub.keys["police"])
    api_key.chmod(0o600)
    return api_key, tmp_path / "coalition.key"


def _device(devices: tuple[Path, list[DeviceTruth]]) -> tuple[Path, list[str]]:
    """A serious synthetic device and the phone numbers it talks to (E.164)."""
    out, truths = devices
    serious = next(t for t in truths if t.serious and t.platform == "android")
    path = out / "devices" / serious.device_id
    report = triage_device(path, hash_index=None)
    numbers = sorted({k for c in report.conversations if (k := address_key(c.counterpart))})
    assert numbers, "the synthetic device should talk to phone numbers"
    return path, numbers


def test_run_checks_contacts_pseudonymised_and_pushes_the_case(
    synthetic_devices: tuple[Path, list[DeviceTruth]],
    tmp_path: Path,
    hub: Hub,
    sent: list[bytes],
) -> None:
    device, numbers = _device(synthetic_devices)
    api_key, coalition = _key_files(tmp_path, hub)
    key = generate_secret_file(coalition, 1)
    registered = numbers[0]
    pseudonym = Pseudonymiser(key).pseudonymise(IdentifierKind.PHONE, registered).pseudonym
    put_entries(hub, "court-1", entry("e-1", pseudonym, kind=IdentifierKind.PHONE))
    args = ["triage", "run", str(device), "--out", str(tmp_path / "r"), "--hub", "http://hub"]
    result = CliRunner().invoke(
        app, [*args, "--hub-key-file", str(api_key), "--key", str(coalition)]
    )
    assert result.exit_code == 0, result.output
    report = read_report(tmp_path / "r" / "report.json")
    assert report.registry_checked is not None and report.registry_checked >= len(numbers)
    assert [address_key(m.address) for m in report.registry_matches] == [registered]
    assert report.score_parts["registry"] == 10.0
    assert any("match the offender registry" in r for r in report.reasons)
    assert "Registry matches" in (tmp_path / "r" / "report.html").read_text()

    wire = b"".join(sent).decode()
    assert pseudonym in wire, "the registered number travelled as its keyed pseudonym"
    for number in numbers:
        assert number not in wire and number.lstrip("+") not in wire, "a raw number left"
    for text in (m.address for m in report.registry_matches):
        assert text not in wire

    with hub.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "registry.check_contacts")
        ).all()
        cases = session.scalars(select(CaseRow)).all()
    assert len(events) == 1 and events[0].role == "police"
    assert events[0].detail["device_id"] == device.name and events[0].detail["matches"] == 1
    assert pseudonym not in json.dumps(events[0].detail)
    assert len(cases) == 1 and cases[0].priority == report.score
    summary = cases[0].payload["summary"]
    assert cases[0].payload["kind"] == "device"
    assert summary["counts"]["registry_matches"] == 1
    assert summary["reasons"] == report.reasons and summary["device_id"] == device.name
    assert registered not in json.dumps(cases[0].payload)


def test_without_a_key_run_pushes_the_case_and_checks_nothing(
    synthetic_devices: tuple[Path, list[DeviceTruth]], tmp_path: Path, hub: Hub, sent: list[bytes]
) -> None:
    device, _ = _device(synthetic_devices)
    api_key, _ = _key_files(tmp_path, hub)
    args = ["triage", "run", str(device), "--out", str(tmp_path / "r"), "--hub", "http://hub"]
    result = CliRunner().invoke(app, [*args, "--hub-key-file", str(api_key)])
    assert result.exit_code == 0, result.output
    report = read_report(tmp_path / "r" / "report.json")
    assert report.registry_checked is None and "registry" not in " ".join(report.reasons)
    assert not any(b'"device_id"' in b and b"accounts" in b for b in sent)
    cases = hub.client.get("/v1/cases", headers=hub.headers("police")).json()["cases"]
    assert [c["payload"]["summary"]["device_id"] for c in cases] == [device.name]


def test_queue_pushes_every_device_once_and_a_rerun_is_a_replay(
    synthetic_devices: tuple[Path, list[DeviceTruth]], tmp_path: Path, hub: Hub, sent: list[bytes]
) -> None:
    out, truths = synthetic_devices
    dirs = []
    for truth in truths[:3]:
        report = triage_device(out / "devices" / truth.device_id, hash_index=None)
        write_report(report, tmp_path / truth.device_id)
        dirs.append(str(tmp_path / truth.device_id))
    api_key, _ = _key_files(tmp_path, hub)
    args = ["triage", "queue", *dirs, "--hub", "http://hub", "--hub-key-file", str(api_key)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.output.count(": created at") == 3
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and again.output.count(": replayed at") == 3
    cases = hub.client.get("/v1/cases", headers=hub.headers("police")).json()["cases"]
    assert sorted(c["payload"]["summary"]["device_id"] for c in cases) == sorted(
        t.device_id for t in truths[:3]
    )
    priorities = [c["priority"] for c in cases]
    assert priorities == sorted(priorities, reverse=True)


def _contacts(n: int) -> dict[str, Any]:
    return {
        "device_id": "exhibit-1",
        "accounts": [
            {
                "ref": f"c{i}",
                "identifiers": [{"kind": "phone", "pseudonym": f"{i:064x}", "key_version": 1}],
            }
            for i in range(n)
        ],
    }


def test_the_contact_check_is_for_police_rate_limited_and_bound_to_a_device(hub: Hub) -> None:
    path = "/v1/registry/check-contacts"
    hub.client.app.state.contact_check_limiter = RateLimiter(per_minute=1, capacity=5)  # type: ignore[attr-defined]
    police = hub.headers("police")
    assert hub.client.post(path, json=_contacts(6), headers=police).status_code == 413
    ok = hub.client.post(path, json=_contacts(3), headers=police)
    assert ok.status_code == 200 and [r["match"] for r in ok.json()["results"]] == [False] * 3
    limited = hub.client.post(path, json=_contacts(3), headers=police)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    no_device = {"accounts": _contacts(1)["accounts"]}
    assert hub.client.post(path, json=no_device, headers=police).status_code == 422
    for role in ("platform", "court", "probation", "local_authority"):
        assert (
            hub.client.post(path, json=_contacts(1), headers=hub.headers(role)).status_code == 403
        )
    platform_check = hub.client.post(
        "/v1/registry/check", json={"accounts": _contacts(1)["accounts"]}, headers=police
    )
    assert platform_check.status_code == 403, "police use the device-bound check only"
    with hub.session() as session:
        outcomes = [
            e.outcome
            for e in session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "registry.check_contacts")
            )
        ]
    assert outcomes[:4] == ["rejected", "ok", "denied", "rejected"]


def test_an_unreachable_hub_stops_before_triage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(_url: str) -> httpx.Client:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        return httpx.Client(base_url="http://hub", transport=httpx.MockTransport(refuse))

    monkeypatch.setattr(member_cli, "open_hub", down)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    (tmp_path / "dev").mkdir()
    key = tmp_path / "k"
    key.write_text("shk_" + "0" * 16 + "_secret")
    key.chmod(0o600)
    args = ["triage", "run", str(tmp_path / "dev"), "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, [*args, "--hub", "http://hub", "--hub-key-file", str(key)])
    assert result.exit_code == member_cli.EXIT_RETRY_LATER, result.output
    assert not (tmp_path / "r" / "report.json").exists()
