"""Enclave export: Parquet per blinded source, laid out as ``identity.prepare`` writes it;
no member id anywhere in the output, new tokens in every export, only the enclave tier,
whole or nothing, audited."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safehold.exchange import (
    AccountKeys,
    BehaviourRecord,
    CohortLabel,
    ContactEvent,
    Conversation,
    Member,
    MemberKind,
    RegistryEntry,
    Signal,
    SizeBand,
)
from safehold.identity import generate_secret_file
from safehold.identity.prepare import prepare_member
from safehold.store import audit, export
from safehold.store.database import make_engine
from safehold.store.export import ExportDestinationError, ExportError, export_enclave
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from safehold.store.models import AuditEventRow, BatchRow, EnclaveRecordRow
from safehold.store.registry import write_entries
from safehold.store.signals import upsert_signals
from safehold.synth.config import make_config
from safehold.synth.world import generate_world

OPERATOR = Actor("test-operator", "operator")
PLATFORM = Member(
    member_id="plat-alpha", name="Alpha", kind=MemberKind.PLATFORM, size_band=SizeBand.LARGE
)
POLICE = Member(member_id="police-north", name="North Police", kind=MemberKind.POLICE)
REGISTRY_CANARY = "e" * 64
SIGNAL_CANARY = "https://signal-canary.example/a1"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _ref(n: int, kind: str = "account") -> dict[str, Any]:
    return {"kind": kind, "pseudonym": f"{n:064x}", "key_version": 1}


def _platform_records() -> list[BaseModel]:
    records: list[BaseModel] = []
    for n in range(1, 8):
        records.append(
            BehaviourRecord.model_validate(
                {
                    "subject": _ref(n),
                    "period_start": "2025-01",
                    "period_days": 90,
                    "age_band": "25_34",
                    "sex": "unknown",
                    "messages_sent": 10 * n,
                    "minor_contacts_share": n / 10,
                }
            )
        )
        records.append(
            AccountKeys.model_validate(
                {"subject": _ref(n), "identifiers": [_ref(100 + n, "email")] if n % 2 else []}
            )
        )
    for n in range(1, 6):
        records.append(
            ContactEvent.model_validate(
                {
                    "event_id": f"plat-alpha:e{n:04d}",
                    "sender": _ref(n),
                    "recipient": _ref(n + 1),
                    "occurred_at": (T0 + timedelta(minutes=n)).isoformat(),
                    "channel": "direct_message",
                    "first_contact": n == 1,
                    "recipient_age_band": "13_15",
                }
            )
        )
    records.append(
        Conversation.model_validate(
            {
                "conversation_id": "plat-alpha-conv-1",
                "participants": [
                    {"participant_id": "plat-alpha-p1", "subject": _ref(1), "age_band": "35_44"},
                    {"participant_id": "plat-alpha-p2", "age_band": "13_15"},
                ],
                "messages": [
                    {
                        "message_id": "m1",
                        "sender_id": "plat-alpha-p1",
                        "sent_at": T0.isoformat(),
                        "text": "hello, how was the match?",
                    },
                    {
                        "message_id": "m2",
                        "sender_id": "plat-alpha-p2",
                        "sent_at": (T0 + timedelta(seconds=30)).isoformat(),
                        "text": "we won 2-1",
                    },
                ],
            }
        )
    )
    return records


def _police_records() -> list[BaseModel]:
    return [
        CohortLabel.model_validate(
            {
                "label_id": f"police-north:L{n}",
                "identifiers": [_ref(200 + n, "email")],
                "cohort": "convicted_offender",
                "source_kind": "police",
                "labelled_month": "2024-06",
            }
        )
        for n in range(1, 4)
    ]


def _batch(session: Session, member_id: str, batch_id: str = "b-1") -> int:
    row = BatchRow(
        member_id=member_id,
        batch_id=batch_id,
        content_hash="0" * 64,
        schema_version="1.0",
        record_count=0,
        counts={},
    )
    session.add(row)
    session.flush()
    return row.batch_pk


def _insert_enclave(session: Session, member_id: str, records: Sequence[BaseModel]) -> None:
    """Enclave rows as ingest stores them: the exchange JSON without empty fields."""
    batch_pk = _batch(session, member_id, uuid.uuid4().hex)
    for record in records:
        payload = record.model_dump(mode="json", exclude_none=True)
        subject = payload.get("subject") or payload.get("sender")
        session.add(
            EnclaveRecordRow(
                member_id=member_id,
                batch_pk=batch_pk,
                record_type=payload["record_type"],
                subject_pseudonym=subject["pseudonym"] if subject else None,
                key_version=1,
                payload=payload,
            )
        )
    session.flush()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    upgrade(made)
    with Session(made) as session, session.begin():
        add_member(session, PLATFORM, OPERATOR)
        add_member(session, POLICE, OPERATOR)
        _insert_enclave(session, PLATFORM.member_id, _platform_records())
        _insert_enclave(session, POLICE.member_id, _police_records())
        # The other tiers hold data too; none of it may leave.
        write_entries(
            session,
            POLICE.member_id,
            _batch(session, POLICE.member_id, "registry"),
            [
                RegistryEntry.model_validate(
                    {
                        "entry_id": "north-canary-entry",
                        "subjects": [
                            {"kind": "email", "pseudonym": REGISTRY_CANARY, "key_version": 1}
                        ],
                        "typology": "contact",
                        "convicted_month": "2020-01",
                        "registered_from": "2020-01",
                        "status": "active",
                    }
                )
            ],
        )
        upsert_signals(
            session,
            PLATFORM.member_id,
            [
                Signal.model_validate(
                    {
                        "signal_id": "sig-canary",
                        "kind": "url",
                        "value": SIGNAL_CANARY,
                        "category": "grooming",
                        "confidence": 0.9,
                        "observed_at": T0.isoformat(),
                    }
                )
            ],
        )
    try:
        yield made
    finally:
        made.dispose()


def _export(engine: Engine, out: Path, **options: Any) -> export.ExportSummary:
    with Session(engine) as session, session.begin():
        return export_enclave(session, out, OPERATOR, **options)


def _contents(out: Path) -> tuple[bytes, str]:
    """Every byte written, and the decoded text of every Parquet file plus every path."""
    raw = b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())
    decoded = [str(p.relative_to(out)) for p in out.rglob("*")]
    decoded += [pl.read_parquet(p).write_ndjson() for p in sorted(out.rglob("*.parquet"))]
    return raw, "\n".join(decoded)


def _manifest(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "enclave.json").read_text())
    return loaded


EXPECTED_COUNTS = {
    ("platform", "large"): {
        "account_keys": 7,
        "behaviour": 7,
        "contact_events": 5,
        "conversations": 1,
    },
    ("police", None): {"cohort_labels": 3},
}


def test_export_writes_parquet_per_blinded_source(engine: Engine, tmp_path: Path) -> None:
    summary = _export(engine, tmp_path / "export")
    out = tmp_path / "export"
    manifest = _manifest(out)
    assert manifest["export_id"] == summary.export_id
    assert datetime.fromisoformat(manifest["exported_at"]) == summary.exported_at
    by_kind = {(s["member_kind"], s["size_band"]): s for s in manifest["sources"]}
    assert {k: s["records"] for k, s in by_kind.items()} == EXPECTED_COUNTS
    assert manifest["records"] == {
        "account_keys": 7,
        "behaviour": 7,
        "cohort_labels": 3,
        "contact_events": 5,
        "conversations": 1,
    }
    assert summary.records == 23
    for (kind, band), source in by_kind.items():
        folder = out / "exchange" / source["token"]
        assert {p.name for p in folder.iterdir()} == {
            f"{name}.parquet" for name in EXPECTED_COUNTS[(kind, band)]
        }
        for name, count in source["records"].items():
            assert pl.read_parquet(folder / f"{name}.parquet").height == count
    assert {p.name for p in out.iterdir()} == {"enclave.json", "exchange"}
    assert not list(tmp_path.glob(".export.*")), "the staging folder is gone"


def test_no_member_id_appears_anywhere_in_the_output(engine: Engine, tmp_path: Path) -> None:
    _export(engine, tmp_path / "export")
    raw, decoded = _contents(tmp_path / "export")
    for member_id in (PLATFORM.member_id, POLICE.member_id):
        assert member_id.encode() not in raw
        assert member_id not in decoded
    # The member ids were embedded in the sender-chosen ids; those are blinded, consistently.
    conversation = pl.read_parquet(next((tmp_path / "export").rglob("conversations.parquet")))
    row = conversation.row(0, named=True)
    participants = {p["participant_id"] for p in row["participants"]}
    assert {m["sender_id"] for m in row["messages"]} == participants
    assert len(participants) == 2
    assert [m["text"] for m in row["messages"]] == ["hello, how was the match?", "we won 2-1"]


def test_tokens_differ_between_exports(engine: Engine, tmp_path: Path) -> None:
    first = _export(engine, tmp_path / "one")
    second = _export(engine, tmp_path / "two")
    tokens_one = {s.token for s in first.sources}
    tokens_two = {s.token for s in second.sources}
    assert len(tokens_one) == len(tokens_two) == 2
    assert tokens_one.isdisjoint(tokens_two)
    assert first.export_id != second.export_id
    # Blinded record ids change too, so records cannot be matched across exports by id.
    events = [
        set(pl.read_parquet(next((tmp_path / d).rglob("contact_events.parquet")))["event_id"])
        for d in ("one", "two")
    ]
    assert events[0].isdisjoint(events[1])
    # The content itself is the same.
    behaviour = [
        pl.read_parquet(next((tmp_path / d).rglob("behaviour.parquet"))) for d in ("one", "two")
    ]
    assert behaviour[0].equals(behaviour[1])


def test_registry_and_signals_never_leave(engine: Engine, tmp_path: Path) -> None:
    _export(engine, tmp_path / "export")
    raw, decoded = _contents(tmp_path / "export")
    for canary in (REGISTRY_CANARY, SIGNAL_CANARY, "north-canary-entry", "sig-canary"):
        assert canary not in decoded
        assert canary.encode() not in raw
    names = {p.stem for p in (tmp_path / "export").rglob("*.parquet")}
    assert names <= set(export.FILE_NAMES.values())
    assert "registry_entries" not in names


def test_the_export_is_audited(engine: Engine, tmp_path: Path) -> None:
    first = _export(engine, tmp_path / "one")
    second = _export(engine, tmp_path / "two")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        events = list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == "enclave.export")
                .order_by(AuditEventRow.seq)
            )
        )
        report = audit.verify(session)
    assert [e.object_ids for e in events] == [[first.export_id], [second.export_id]]
    assert all(e.actor == "test-operator" and e.outcome == "ok" for e in events)
    assert events[0].detail["sources"] == 2
    assert events[0].detail["records"]["behaviour"] == 7
    # The trail does not tie tokens or per-source counts to members.
    text = json.dumps([e.detail for e in events])
    assert all(s.token not in text for s in first.sources)
    assert report.ok


def test_values_survive_the_export(engine: Engine, tmp_path: Path) -> None:
    _export(engine, tmp_path / "export", chunk_rows=3)  # several parts per file, merged
    out = tmp_path / "export"
    behaviour = pl.read_parquet(next(out.rglob("behaviour.parquet")))
    assert behaviour["subject"].struct.field("pseudonym").to_list() == [
        f"{n:064x}" for n in range(1, 8)
    ]
    assert behaviour["messages_sent"].to_list() == [10 * n for n in range(1, 8)]
    assert behaviour["posts"].null_count() == 7  # not measured stays empty, never guessed
    keys = pl.read_parquet(next(out.rglob("account_keys.parquet")))
    assert [len(ids) for ids in keys["identifiers"].to_list()] == [1, 0, 1, 0, 1, 0, 1]
    events = pl.read_parquet(next(out.rglob("contact_events.parquet")))
    assert events["occurred_at"].to_list() == [T0 + timedelta(minutes=n) for n in range(1, 6)]
    assert events["sender_age_band"].null_count() == 5
    labels = pl.read_parquet(next(out.rglob("cohort_labels.parquet")))
    assert labels["subject"].null_count() == 3
    assert labels["cohort"].to_list() == ["convicted_offender"] * 3
    assert labels["label_id"].n_unique() == 3


def test_a_used_destination_is_refused(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "earlier.txt").write_text("keep me")
    with pytest.raises(ExportDestinationError, match="not an empty folder"):
        _export(engine, out)
    assert [p.name for p in out.iterdir()] == ["earlier.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _export(engine, empty)
    assert (empty / "enclave.json").exists()


def test_a_failure_midway_leaves_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = export._frame

    def failing(*args: Any) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args)

    monkeypatch.setattr(export, "_frame", failing)
    with pytest.raises(OSError, match="disk full"):
        _export(engine, tmp_path / "export")
    assert not (tmp_path / "export").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []
    with Session(engine) as session:
        assert (
            session.scalar(select(AuditEventRow).where(AuditEventRow.action == "enclave.export"))
            is None
        )


def test_an_unknown_record_type_stops_the_export(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            EnclaveRecordRow(
                member_id=PLATFORM.member_id,
                batch_pk=_batch(session, PLATFORM.member_id, "odd"),
                record_type="mystery",
                payload={"record_type": "mystery"},
            )
        )
    with pytest.raises(ExportError, match="'mystery'"):
        _export(engine, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_an_empty_enclave_exports_an_empty_manifest(database_url: str, tmp_path: Path) -> None:
    made = make_engine(database_url)
    upgrade(made)
    try:
        summary = _export(made, tmp_path / "export")
    finally:
        made.dispose()
    assert summary.sources == ()
    assert _manifest(tmp_path / "export")["sources"] == []


# --- the same layout as the member toolkit's Parquet ------------------------------------

_MODELS: dict[str, type[BaseModel]] = {
    "behaviour": BehaviourRecord,
    "account_keys": AccountKeys,
    "contact_events": ContactEvent,
    "conversations": Conversation,
    "cohort_labels": CohortLabel,
}


def _without_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Everything but the sender-chosen ids, which the export blinds."""
    frame = frame.drop(
        [c for c in ("event_id", "label_id", "conversation_id") if c in frame.columns]
    )
    if "messages" not in frame.columns:
        return frame
    field = pl.element().struct.field
    return frame.with_columns(
        pl.col("messages").list.eval(field("sent_at")).alias("sent_at"),
        pl.col("messages").list.eval(field("text")).alias("text"),
        pl.col("participants").list.eval(field("age_band")).alias("age_band"),
        pl.col("participants").list.eval(field("subject")).alias("subject"),
    ).drop("messages", "participants")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic world prepared by the member toolkit, one folder per member."""
    root = tmp_path_factory.mktemp("prepared")
    generate_world(make_config(people=1_000, seed=5, conversations=12), root / "world")
    key = generate_secret_file(root / "coalition.key", version=1)
    for member_dir in sorted((root / "world" / "members").iterdir()):
        prepare_member(member_dir, key, root / "exchange" / member_dir.name)
    return root / "exchange"


def test_export_matches_the_member_toolkit_parquet(
    prepared: Path, database_url: str, tmp_path: Path
) -> None:
    made = make_engine(database_url)
    upgrade(made)
    with Session(made) as session, session.begin():
        for folder in sorted(prepared.iterdir()):
            member = Member.model_validate_json((folder / "member.json").read_bytes())
            add_member(session, member, OPERATOR)
            for name, model in _MODELS.items():
                path = folder / f"{name}.parquet"
                if path.exists():
                    rows = pl.read_parquet(path).to_dicts()
                    _insert_enclave(
                        session, member.member_id, [model.model_validate(r) for r in rows]
                    )
    try:
        summary = _export(made, tmp_path / "export", chunk_rows=500)
    finally:
        made.dispose()
    compared = 0
    for source in summary.sources:
        folder = tmp_path / "export" / "exchange" / source.token
        for record_type, count in source.records.items():
            name = export.FILE_NAMES[record_type]
            exported = pl.read_parquet(folder / f"{name}.parquet")
            # Find the member this source is, by content (the export itself never says).
            originals = [
                pl.read_parquet(p)
                for p in prepared.glob(f"*/{name}.parquet")
                if pl.read_parquet(p).height == count
            ]
            assert any(o.schema == exported.schema for o in originals), name
            match = [o for o in originals if _without_ids(o).equals(_without_ids(exported))]
            assert match, f"{name} of a {source.member_kind} source differs from what prepare wrote"
            compared += 1
    assert compared >= 10
