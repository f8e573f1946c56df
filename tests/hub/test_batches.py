"""POST /v1/batches on SQLite and PostgreSQL: JSON, NDJSON and gzip bodies are stored whole;
a resend is a replay; each kind of bad input gets its status, error code, details and an
audit event, and leaves nothing stored."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from safehold.store.models import AuditEventRow, EnclaveRecordRow, RegistryEntryRow
from tests.hub.conftest import Hub, make_hub
from tests.store.test_ingest import (
    account_keys,
    batch_dict,
    behaviour,
    cohort_label,
    contact_event,
    conversation,
    counts,
    platform_records,
    registry_entry,
    signal,
)

JSON = "application/json"
NDJSON = "application/x-ndjson"
EMPTY = {
    "batches": 0,
    "registry_entries": 0,
    "registry_identifiers": 0,
    "signals": 0,
    "signal_changes": 0,
    "enclave_records": 0,
}


# --- helpers --------------------------------------------------------------------------------


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def as_ndjson(data: dict[str, Any]) -> bytes:
    header = {k: v for k, v in data.items() if k != "records"}
    return "\n".join(json.dumps(line) for line in [header, *data["records"]]).encode() + b"\n"


def post(
    hub: Hub,
    body: bytes,
    *,
    role: str = "platform",
    content_type: str = JSON,
    gzipped: bool = False,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {**hub.headers(role), "Content-Type": content_type, **(extra or {})}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return hub.client.post("/v1/batches", content=body, headers=headers)


def batch_events(hub: Hub) -> list[AuditEventRow]:
    with hub.session() as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == "batch.submit")
                .order_by(AuditEventRow.seq)
            )
        )


def assert_refused(
    hub: Hub,
    response: httpx.Response,
    status: int,
    code: str,
    outcome: str = "rejected",
    batch_id: str | None = None,
) -> dict[str, Any]:
    """The status and code, nothing stored, and one audit event saying why."""
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert body["message"]
    assert counts(hub.engine) == EMPTY
    events = batch_events(hub)
    assert len(events) == 1
    assert events[0].outcome == outcome
    assert events[0].detail["reason"] == code
    assert events[0].detail["status"] == status
    assert events[0].object_ids == ([batch_id] if batch_id else [])
    return body


# --- accepted batches ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "encode", "gzipped"),
    [
        (JSON, as_json, False),
        (NDJSON, as_ndjson, False),
        (JSON, as_json, True),
        (NDJSON, as_ndjson, True),
        ("application/json; charset=utf-8", as_json, False),
    ],
)
def test_a_platform_batch_is_stored_and_audited(
    hub: Hub, content_type: str, encode: Any, gzipped: bool
) -> None:
    data = batch_dict("plat-a", platform_records(), "b-1")
    response = post(hub, encode(data), content_type=content_type, gzipped=gzipped)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "batch_id": "b-1",
        "member_id": "plat-a",
        "accepted": 5,
        "by_type": {
            "account_keys": 1,
            "behaviour": 1,
            "contact_event": 1,
            "conversation": 1,
            "signal": 1,
        },
        "by_tier": {"enclave": 4, "signals": 1},
        "replayed": False,
    }
    assert counts(hub.engine) == {
        **EMPTY,
        "batches": 1,
        "signals": 1,
        "signal_changes": 1,
        "enclave_records": 4,
    }
    [event] = batch_events(hub)
    assert (event.outcome, event.member_id, event.object_ids) == ("ok", "plat-a", ["b-1"])
    assert event.detail["accepted"] == 5 and event.detail["by_tier"] == {"enclave": 4, "signals": 1}


def test_a_resend_is_a_replay_with_the_same_answer(hub: Hub) -> None:
    data = batch_dict("plat-a", platform_records(), "b-again")
    first = post(hub, as_json(data))
    assert first.status_code == 201
    stored = counts(hub.engine)
    # the same batch again, as NDJSON and gzipped this time: the content is what counts
    again = post(hub, as_ndjson(data), content_type=NDJSON, gzipped=True)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert counts(hub.engine) == stored
    assert [(e.outcome, e.detail["replayed"]) for e in batch_events(hub)] == [
        ("ok", False),
        ("ok", True),
    ]


def test_other_content_under_a_used_batch_id_is_409(hub: Hub) -> None:
    records = platform_records()
    assert post(hub, as_json(batch_dict("plat-a", records, "b-x"))).status_code == 201
    stored = counts(hub.engine)
    changed = [*records[:-1], signal("sig-other")]
    response = post(hub, as_json(batch_dict("plat-a", changed, "b-x")))
    assert response.status_code == 409
    assert response.json()["error"] == "batch_conflict"
    assert "b-x" in response.json()["message"] and "new batch id" in response.json()["message"]
    assert counts(hub.engine) == stored
    last = batch_events(hub)[-1]
    assert (last.outcome, last.detail["reason"], last.object_ids) == (
        "rejected",
        "batch_conflict",
        ["b-x"],
    )


def test_a_court_writes_registry_entries_and_cohort_labels(hub: Hub) -> None:
    records = [registry_entry("J-1"), registry_entry("J-2"), cohort_label("L-1", "court")]
    response = post(hub, as_json(batch_dict("court-1", records)), role="court")
    assert response.status_code == 201, response.text
    assert response.json()["by_tier"] == {"enclave": 1, "registry": 2}
    with hub.session() as session:
        assert session.scalars(select(RegistryEntryRow.entry_id)).all() == ["J-1", "J-2"]
        assert session.scalars(select(EnclaveRecordRow.member_id)).all() == ["court-1"]


def test_a_local_authority_writes_cohort_labels(hub: Hub) -> None:
    records = [cohort_label(f"L-{i}") for i in range(3)]
    response = post(hub, as_json(batch_dict("la-1", records)), role="local_authority")
    assert response.status_code == 201, response.text
    assert response.json()["by_type"] == {"cohort_label": 3}
    assert counts(hub.engine)["enclave_records"] == 3


# --- refusals ------------------------------------------------------------------------------------


def test_a_platform_may_not_write_registry_entries(hub: Hub) -> None:
    records = [behaviour(), registry_entry("J-1"), signal(), registry_entry("J-2"), cohort_label()]
    response = post(hub, as_json(batch_dict("plat-a", records, "b-tier")))
    body = assert_refused(hub, response, 403, "tier_denied", "denied", "b-tier")
    assert [(d["index"], d["field"]) for d in body["details"]] == [
        (1, "record_type"),
        (3, "record_type"),
        (4, "record_type"),
    ]
    assert "may not write registry_entry" in body["details"][0]["reason"]
    assert "tier 'registry'" in body["details"][0]["reason"]
    assert "cohort_label" in body["details"][2]["reason"]


def test_a_court_may_not_write_platform_records(hub: Hub) -> None:
    response = post(hub, as_json(batch_dict("court-1", [behaviour()], "b-c")), role="court")
    body = assert_refused(hub, response, 403, "tier_denied", "denied", "b-c")
    assert body["details"][0]["index"] == 0


def test_a_batch_for_another_member_is_403(hub: Hub) -> None:
    response = post(hub, as_json(batch_dict("plat-b", [behaviour()], "b-other")))
    body = assert_refused(hub, response, 403, "member_mismatch", "denied", "b-other")
    assert "plat-a" in body["message"] and "plat-b" in body["message"]


def test_malformed_json_is_400_naming_the_line(hub: Hub) -> None:
    text = as_json(batch_dict("plat-a", [behaviour()])).decode()
    broken = text.replace(", ", ",\n", 3)[:-20]
    response = post(hub, broken.encode())
    body = assert_refused(hub, response, 400, "malformed_json")
    assert "line" in body["message"] and "column" in body["message"]


def test_a_json_body_that_is_not_an_object_is_400(hub: Hub) -> None:
    response = post(hub, b"[1, 2, 3]")
    body = assert_refused(hub, response, 400, "malformed_json")
    assert "one JSON object" in body["message"]


def test_malformed_ndjson_names_the_line(hub: Hub) -> None:
    lines = as_ndjson(batch_dict("plat-a", [behaviour(), behaviour()], "b-nd")).splitlines()
    lines[2] = lines[2][:-5]  # the second record's line is cut short
    response = post(hub, b"\n".join(lines), content_type=NDJSON)
    body = assert_refused(hub, response, 400, "malformed_ndjson")
    assert body["details"] == [
        {"index": None, "field": "line 3", "reason": body["details"][0]["reason"]}
    ]
    assert "line 3" in body["message"]


def test_ndjson_without_a_header_is_400(hub: Hub) -> None:
    response = post(hub, as_json(behaviour()) + b"\n", content_type=NDJSON)
    body = assert_refused(hub, response, 400, "malformed_ndjson")
    assert body["details"][0]["field"] == "line 1"


def test_a_wrong_schema_version_is_422(hub: Hub) -> None:
    data = {**batch_dict("plat-a", [behaviour()], "b-v"), "schema_version": "9.9"}
    response = post(hub, as_json(data))
    body = assert_refused(hub, response, 422, "batch_rejected", batch_id="b-v")
    assert len(body["details"]) == 1
    assert body["details"][0]["index"] is None
    assert body["details"][0]["field"] == "schema_version"
    assert "1.0" in body["details"][0]["reason"]


def test_every_invalid_record_is_listed_without_its_values(hub: Hub) -> None:
    bad_subject = behaviour()
    bad_subject["subject"]["pseudonym"] = "NOT-HEX-" + "z" * 56
    bad_share = behaviour()
    bad_share["night_activity_share"] = 7.5
    records = [behaviour(), bad_subject, account_keys(), bad_share, {"record_type": "nonsense"}]
    response = post(hub, as_json(batch_dict("plat-a", records, "b-bad")))
    body = assert_refused(hub, response, 422, "batch_rejected", batch_id="b-bad")
    where = {(d["index"], d["field"]) for d in body["details"]}
    assert (1, "subject.pseudonym") in where
    assert (3, "night_activity_share") in where
    assert any(d["index"] == 4 for d in body["details"])
    assert not any(d["index"] in {0, 2} for d in body["details"])
    assert "NOT-HEX" not in response.text and "7.5" not in response.text
    assert batch_events(hub)[0].detail["problems"] == len(body["details"])


def test_duplicate_ids_in_a_batch_are_422(hub: Hub) -> None:
    records = [
        contact_event("e-1"),
        conversation("c-1"),
        contact_event("e-1"),
        conversation("c-1"),
        signal("s-1"),
        signal("s-1"),
    ]
    response = post(hub, as_json(batch_dict("plat-a", records, "b-dup")))
    body = assert_refused(hub, response, 422, "batch_rejected", batch_id="b-dup")
    assert [(d["index"], d["field"]) for d in body["details"]] == [
        (2, "event_id"),
        (3, "conversation_id"),
        (5, "signal_id"),
    ]
    assert "record 0" in body["details"][0]["reason"]


@pytest.mark.parametrize(("content_type"), ["text/plain", "application/xml", ""])
def test_other_content_types_are_415(hub: Hub, content_type: str) -> None:
    response = post(hub, as_json(batch_dict("plat-a", [behaviour()])), content_type=content_type)
    body = assert_refused(hub, response, 415, "unsupported_media_type")
    assert "application/x-ndjson" in body["message"]


def test_other_content_encodings_are_415(hub: Hub) -> None:
    data = as_json(batch_dict("plat-a", [behaviour()]))
    response = post(hub, data, extra={"Content-Encoding": "br"})
    assert_refused(hub, response, 415, "unsupported_encoding")


@pytest.mark.parametrize(
    "body",
    # mtime=0: the same bytes in every pytest-xdist worker (the id is made from them)
    [b"this is not gzip at all", gzip.compress(b'{"batch_id": "b"}' * 500, mtime=0)[:-30], b""],
    ids=["not-gzip", "truncated-gzip", "empty"],
)
def test_corrupt_or_truncated_gzip_is_400(hub: Hub, body: bytes) -> None:
    response = post(hub, body, extra={"Content-Encoding": "gzip"})
    body_json = assert_refused(hub, response, 400, "bad_gzip")
    assert "gzip" in body_json["message"]


@pytest.fixture
def small_hub(tmp_path: Path, database_url: str) -> Any:
    built = make_hub(
        tmp_path, database_url, max_body_bytes=20_000, max_decompressed_bytes=1_048_576
    )
    try:
        yield built
    finally:
        built.client.close()
        built.engine.dispose()


def test_an_oversize_body_is_413(small_hub: Hub) -> None:
    data = as_json(batch_dict("plat-a", [behaviour() for _ in range(100)]))
    assert len(data) > 20_000
    response = post(small_hub, data)
    body = assert_refused(small_hub, response, 413, "body_too_large")
    assert "20,000" in body["message"]


def test_an_oversize_body_without_a_length_is_413(small_hub: Hub) -> None:
    """A chunked upload declares no size: the hub stops reading once it passes the cap."""
    data = as_json(batch_dict("plat-a", [behaviour() for _ in range(100)]))

    def chunks() -> Any:
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    headers = {**small_hub.headers("platform"), "Content-Type": JSON}
    response = small_hub.client.post("/v1/batches", content=chunks(), headers=headers)
    assert_refused(small_hub, response, 413, "body_too_large")


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path, database_url: str) -> None:
    hub = make_hub(tmp_path, database_url, max_decompressed_bytes=1_048_576)
    try:
        bomb = gzip.compress(bytes(50_000_000), compresslevel=9)
        assert len(bomb) < 100_000
        response = post(hub, bomb, extra={"Content-Encoding": "gzip"})
        body = assert_refused(hub, response, 413, "decompressed_too_large")
        assert "1,048,576" in body["message"]
    finally:
        hub.client.close()
        hub.engine.dispose()


def test_a_gzipped_batch_under_the_cap_is_accepted(small_hub: Hub) -> None:
    """The cap is on the inflated size: a body well over max_body_bytes uncompressed but
    small once gzipped is fine."""
    data = as_json(batch_dict("plat-a", [behaviour() for _ in range(100)]))
    assert 20_000 < len(data) < 1_048_576
    response = post(small_hub, data, gzipped=True)
    assert response.status_code == 201, response.text


def test_two_identical_submissions_at_once_store_the_batch_once(hub: Hub) -> None:
    body = as_json(batch_dict("plat-a", platform_records(), "b-twice"))
    start = threading.Barrier(2)
    statuses: list[int] = []

    def submit() -> None:
        start.wait()
        statuses.append(post(hub, body).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 201]
    assert counts(hub.engine)["batches"] == 1
    assert counts(hub.engine)["enclave_records"] == 4
    assert sorted(e.detail["replayed"] for e in batch_events(hub)) == [False, True]
