"""The operator's commands (`safehold hub ...`, `safehold audit verify`) on a fresh data
directory with the embedded SQLite database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from safehold.cli.main import app
from safehold.store.credentials import split_api_key, verify_secret
from safehold.store.database import make_engine
from safehold.store.migrate import head_revision
from safehold.store.models import ApiKeyRow, AuditEventRow, BatchRow, EnclaveRecordRow


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAFEHOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SAFEHOLD_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    """The same database the commands use (after a command has created it)."""
    made = make_engine(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        yield made
    finally:
        made.dispose()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _events(engine: Engine, action: str) -> list[AuditEventRow]:
    with Session(engine, expire_on_commit=False) as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.seq)
            )
        )


def _add_members() -> None:
    for args in (
        ["plat-a", "--name", "Platform A", "--kind", "platform", "--size-band", "large"],
        ["police-1", "--name", "Police One", "--kind", "police"],
    ):
        result = run("hub", "member", "add", *args)
        assert result.exit_code == 0, result.output


# --- migrate ----------------------------------------------------------------------------


def test_migrate_creates_the_database_then_has_nothing_to_do(
    data_dir: Path, engine: Engine
) -> None:
    first = run("hub", "migrate")
    assert first.exit_code == 0, first.output
    assert "none (empty database)" in first.stdout
    head = head_revision()
    assert head in first.stdout
    assert "hub.db" in first.stdout
    assert (data_dir / "hub.db").exists()
    second = run("hub", "migrate")
    assert second.exit_code == 0
    assert "Already at the latest revision" in second.stdout
    events = _events(engine, "hub.migrate")
    assert [(e.detail["from"], e.detail["to"]) for e in events] == [
        (None, head),
        (head, head),
    ]
    assert events[0].actor.startswith("cli:")
    assert events[0].role == "operator"


def test_a_database_password_is_never_printed(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEHOLD_DATABASE_URL", "postgresql://hub:s3cret-pw@127.0.0.1:1/hub")
    for args in (["hub", "migrate"], ["hub", "member", "list"], ["audit", "verify"]):
        result = run(*args)
        assert result.exit_code == 1, result.output
        assert "s3cret-pw" not in result.output
        assert "***" in result.stderr
        assert result.stderr.count("\n") == 1, "one line"


def test_a_malformed_database_url_is_a_bad_argument(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEHOLD_DATABASE_URL", "not a url")
    result = run("hub", "member", "list")
    assert result.exit_code == 2
    assert "SAFEHOLD_DATABASE_URL" in result.stderr


# --- members ----------------------------------------------------------------------------


def test_member_add_and_list(data_dir: Path, engine: Engine) -> None:
    _add_members()
    listed = run("hub", "member", "list")
    assert listed.exit_code == 0, listed.output
    for text in ("plat-a", "Platform A", "large", "police-1", "police", "2 members"):
        assert text in listed.stdout
    assert [e.object_ids for e in _events(engine, "member.add")] == [["plat-a"], ["police-1"]]
    assert len(_events(engine, "member.list")) == 1


def test_member_add_refusals(data_dir: Path, engine: Engine) -> None:
    _add_members()
    again = run("hub", "member", "add", "police-1", "--name", "Again", "--kind", "police")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    no_band = run("hub", "member", "add", "plat-b", "--name", "B", "--kind", "platform")
    assert no_band.exit_code == 2
    assert "--size-band" in no_band.stderr
    bad_id = run("hub", "member", "add", "bad id", "--name", "B", "--kind", "court")
    assert bad_id.exit_code == 2
    assert "MEMBER_ID" in bad_id.stderr
    bad_kind = run("hub", "member", "add", "x-1", "--name", "X", "--kind", "bank")
    assert bad_kind.exit_code == 2
    rejected = _events(engine, "member.add")
    assert [(e.object_ids, e.outcome) for e in rejected] == [
        (["plat-a"], "ok"),
        (["police-1"], "ok"),
        (["police-1"], "rejected"),
    ]


# --- keys -------------------------------------------------------------------------------


def _key_row(engine: Engine, key_id: str) -> ApiKeyRow:
    with Session(engine, expire_on_commit=False) as session:
        return session.get_one(ApiKeyRow, key_id)


def test_key_issue_prints_the_key_once(data_dir: Path, engine: Engine) -> None:
    _add_members()
    result = run("hub", "key", "issue", "plat-a", "--label", "ingest")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    key_id, secret = split_api_key(key)
    assert "cannot show it again" in result.stderr
    assert key not in result.stderr
    row = _key_row(engine, key_id)
    assert (row.member_id, row.role, row.label) == ("plat-a", "platform", "ingest")
    assert verify_secret(row.secret_hash, secret)
    assert secret not in row.secret_hash
    assert [e.object_ids for e in _events(engine, "key.issue")] == [[key_id]]


def test_key_issue_to_a_file_with_mode_0600(data_dir: Path, engine: Engine) -> None:
    out = data_dir.parent / "operator.key"
    result = run("hub", "key", "issue", "--role", "operator", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    key = out.read_text().strip()
    key_id, secret = split_api_key(key)
    assert secret not in result.output
    assert key_id in result.stdout
    row = _key_row(engine, key_id)
    assert (row.member_id, row.role) == (None, "operator")
    # An existing file is never replaced.
    again = run("hub", "key", "issue", "--role", "auditor", "--out", str(out))
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    assert out.read_text().strip() == key


def test_key_issue_refusals_leave_no_file(data_dir: Path, engine: Engine) -> None:
    _add_members()
    out = data_dir.parent / "nobody.key"
    missing = run("hub", "key", "issue", "nobody", "--out", str(out))
    assert missing.exit_code == 1
    assert "no member 'nobody'" in missing.stderr
    assert not out.exists()
    neither = run("hub", "key", "issue")
    assert neither.exit_code == 2
    both = run("hub", "key", "issue", "plat-a", "--role", "operator")
    assert both.exit_code == 2
    bad_role = run("hub", "key", "issue", "--role", "platform")
    assert bad_role.exit_code == 2
    assert [e.outcome for e in _events(engine, "key.issue")] == ["rejected"]


def test_key_revoke(data_dir: Path, engine: Engine) -> None:
    out = data_dir.parent / "auditor.key"
    assert run("hub", "key", "issue", "--role", "auditor", "--out", str(out)).exit_code == 0
    key_id, _secret = split_api_key(out.read_text().strip())
    result = run("hub", "key", "revoke", key_id)
    assert result.exit_code == 0, result.output
    assert f"Revoked key {key_id}" in result.stdout
    assert _key_row(engine, key_id).revoked_at is not None
    again = run("hub", "key", "revoke", key_id)
    assert again.exit_code == 0
    assert "already revoked" in again.stdout
    unknown = run("hub", "key", "revoke", "0123456789abcdef")
    assert unknown.exit_code == 1
    assert "no API key" in unknown.stderr
    assert [e.outcome for e in _events(engine, "key.revoke")] == ["ok", "ok", "rejected"]


# --- audit verify -----------------------------------------------------------------------


def test_audit_verify_intact_then_tampered(data_dir: Path, engine: Engine) -> None:
    _add_members()
    intact = run("audit", "verify")
    assert intact.exit_code == 0, intact.output
    assert intact.stdout.strip() == "audit chain intact: 2 events"
    with Session(engine) as session, session.begin():
        session.execute(
            update(AuditEventRow).where(AuditEventRow.seq == 2).values(outcome="denied")
        )
    tampered = run("audit", "verify")
    assert tampered.exit_code == 1
    assert "event 2" in tampered.stderr
    assert "altered" in tampered.stderr
    assert tampered.stdout == ""


def test_audit_verify_on_a_fresh_data_directory(data_dir: Path) -> None:
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 0 events" in result.stdout


# --- export -----------------------------------------------------------------------------


def _enclave_rows(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        batch = BatchRow(
            member_id="plat-a",
            batch_id="b-1",
            content_hash="0" * 64,
            schema_version="1.0",
            record_count=2,
            counts={"behaviour": 2},
        )
        session.add(batch)
        session.flush()
        for n in (1, 2):
            subject = {"kind": "account", "pseudonym": f"{n:064x}", "key_version": 1}
            payload = {
                "record_type": "behaviour",
                "subject": subject,
                "period_start": "2025-01",
                "period_days": 30,
                "age_band": "18_24",
                "sex": "female",
                "posts": n,
            }
            session.add(
                EnclaveRecordRow(
                    member_id="plat-a",
                    batch_pk=batch.batch_pk,
                    record_type="behaviour",
                    subject_pseudonym=subject["pseudonym"],
                    key_version=1,
                    payload=payload,
                )
            )


def test_export_enclave(data_dir: Path, engine: Engine) -> None:
    _add_members()
    _enclave_rows(engine)
    out = data_dir.parent / "enclave-export"
    result = run("hub", "export", "enclave", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "enclave.json").read_text())
    [source] = manifest["sources"]
    assert (source["member_kind"], source["size_band"], source["records"]) == (
        "platform",
        "large",
        {"behaviour": 2},
    )
    assert source["token"] in result.stdout
    assert (out / "exchange" / source["token"] / "behaviour.parquet").exists()
    assert "plat-a" not in (out / "enclave.json").read_text()
    assert [e.object_ids for e in _events(engine, "enclave.export")] == [[manifest["export_id"]]]
    again = run("hub", "export", "enclave", str(out))
    assert again.exit_code == 2
    assert "not an empty folder" in again.stderr


# --- serve ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_starts_the_hub_on_a_fresh_data_directory(data_dir: Path, engine: Engine) -> None:
    port = _free_port()
    env = {**os.environ, "SAFEHOLD_DATA_DIR": str(data_dir)}
    env.pop("SAFEHOLD_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "safehold.cli.main", "hub", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        deadline = time.monotonic() + 60
        while health is None and process.poll() is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/v1/health", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, "the hub did not answer"
        assert health.status_code == 200
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        assert httpx.get(f"{base}/v1/admin/members", timeout=5).status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"{base}/docs" in output
    assert (data_dir / "hub.db").exists()
    assert len(_events(engine, "hub.serve")) == 1
