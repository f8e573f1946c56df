"""`safehold triage refer`: drafts one referral per warned conversation with a likely child,
withholds numbers, names the child by keyed pseudonym with a key, sends on the officer's
confirmation only, and a second run is a replay. Against an in-process hub (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safehold.cli import member as member_cli
from safehold.cli.main import app
from safehold.exchange.referrals import has_phone_number
from safehold.identity import Pseudonymiser, generate_secret_file
from safehold.triage.referrals import draft_referrals
from safehold.triage.report import ConversationRow, TriageReport
from tests.hub.conftest import Hub, make_hub

PHONE = "+447700900123"


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    built = make_hub(tmp_path / "hub", database_url)
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()


def conversation(conversation_id: str, **changes: Any) -> ConversationRow:
    fields: dict[str, Any] = {
        "conversation_id": conversation_id,
        "app": "sms",
        "counterpart": PHONE,
        "messages": 12,
        "first_at": "2026-10-01T18:00:00+00:00",
        "last_at": "2026-10-09T21:00:00+00:00",
        "likely_child": f"address-book birthday for {PHONE}",
        "child_age_band": "13_15",
        "risk": 0.93,
        "warned": True,
        "stages": ["secrecy", "meeting"],
        "evidence_rows": [f"sms.db#message/{n}" for n in (3, 7)] + [f"sms.db#chat/{PHONE}"],
    }
    return ConversationRow(**(fields | changes))


def report() -> TriageReport:
    return TriageReport(
        device="device 07",
        extraction="/evidence/device-07.zip",
        extraction_kind="zip",
        triaged_at="2026-12-01T10:00:00+00:00",
        latest_activity=None,
        files=10,
        bytes=1000,
        images_pdq_hashed=0,
        hash_sets=[],
        artifacts={},
        messages=30,
        calls=0,
        contacts=1,
        hash_matches=[],
        near_duplicates=[],
        conversations=[
            conversation(f"sms.db#{PHONE}"),
            conversation("sms.db#quiet", warned=False),
            conversation("kik.sqlite#sam_k", counterpart="sam_k", child_age_band="under_13"),
        ],
        score=40.0,
        score_parts={},
        reasons=[],
        indicators=[],
        not_processed=[],
    )


def test_drafts_are_the_warned_child_conversations_without_any_number(tmp_path: Path) -> None:
    drafts = draft_referrals(report(), "la-1")
    assert [d.child.case_ref for d in drafts] == ["child-1", "child-2"]
    assert [d.child_age_band.value for d in drafts] == ["13_15", "under_13"]
    assert not has_phone_number(str([d.model_dump(mode="json") for d in drafts]))
    assert drafts[0].evidence[0].message_refs[:2] == ["sms.db#message/3", "sms.db#message/7"]
    assert draft_referrals(report(), "la-1") == drafts, "drafting is repeatable"
    key = generate_secret_file(tmp_path / "coalition.key", 1)
    keyed = draft_referrals(report(), "la-1", pseudonymiser=Pseudonymiser(key))
    assert keyed[0].child.pseudonym is not None and keyed[0].child.case_ref is None
    assert keyed[0].child.pseudonym == Pseudonymiser(key).pseudonymise("phone", PHONE)
    assert keyed[1].child.case_ref == "child-2", "a username is not a phone to pseudonymise"


def _run(tmp_path: Path, hub: Hub, *extra: str, answer: str = "") -> tuple[int, str]:
    (tmp_path / "result").mkdir(exist_ok=True)
    (tmp_path / "result" / "report.json").write_text(report().model_dump_json())
    key_file = tmp_path / "police.key"
    key_file.write_text(hub.keys["police"])
    key_file.chmod(0o600)
    args = ["triage", "refer", str(tmp_path / "result"), "--to", "la-1", "--hub", "http://hub"]
    result = CliRunner().invoke(app, [*args, "--api-key-file", str(key_file), *extra], input=answer)
    return result.exit_code, result.output


def test_refer_sends_on_confirmation_and_a_rerun_is_a_replay(
    tmp_path: Path, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_cli, "open_hub", lambda _url: TestClient(hub.client.app))
    la = hub.headers("local_authority")

    code, out = _run(tmp_path, hub, answer="n\n")
    assert code == 0 and "nothing sent" in out
    assert hub.client.get("/v1/referrals", headers=la).json()["referrals"] == []

    code, out = _run(tmp_path, hub, answer="y\n")
    assert code == 0, out
    assert out.count(": stored, case") == 2 and "2 referral(s) sent" in out
    received = hub.client.get("/v1/referrals", headers=la).json()["referrals"]
    assert [r["referral"]["child"]["case_ref"] for r in received] == ["child-1", "child-2"]

    code, out = _run(tmp_path, hub, "--yes")
    assert code == 0 and out.count("already at the hub (replay)") == 2
    assert len(hub.client.get("/v1/referrals", headers=la).json()["referrals"]) == 2


def test_a_referral_to_a_platform_is_refused_naming_the_field(
    tmp_path: Path, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_cli, "open_hub", lambda _url: TestClient(hub.client.app))
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "report.json").write_text(report().model_dump_json())
    key_file = tmp_path / "police.key"
    key_file.write_text(hub.keys["police"])
    key_file.chmod(0o600)
    result = CliRunner().invoke(
        app,
        [
            "triage",
            "refer",
            str(tmp_path / "result"),
            "--to",
            "plat-a",
            "--hub",
            "http://hub",
            "--api-key-file",
            str(key_file),
            "--yes",
        ],
    )
    assert result.exit_code != 0
    assert "referral.to_member" in result.output and "0 of 2 sent" in result.output
