"""Signals through the API: plat-a posts, plat-b reads the delta without learning who sent
it; updates, tombstones, checkpoints and paging; idempotent reposts; all-or-nothing
rejection; only the sender may withdraw; reads and writes audited. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from safehold.hub.policy import Role
from safehold.store.models import AuditEventRow, SignalRow
from tests.hub.conftest import Hub

SIGNALS = "/v1/signals"


def signal(signal_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "signal_id": signal_id,
        "kind": "sha1",
        "value": secrets.token_hex(20),
        "category": "sextortion",
        "confidence": 0.7,
        "observed_at": "2026-03-01T08:30:00Z",
        **changes,
    }


def post(hub: Hub, member: str, *signals: dict[str, Any]) -> dict[str, Any]:
    response = hub.client.post(
        SIGNALS, json={"signals": list(signals)}, headers=hub.headers(member=member)
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def feed(hub: Hub, member: str, since: int = 0, limit: int | None = None) -> dict[str, Any]:
    params: dict[str, int] = {"since": since} | ({"limit": limit} if limit else {})
    response = hub.client.get(SIGNALS, params=params, headers=hub.headers(member=member))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def stored_signals(hub: Hub) -> int:
    with hub.session() as session:
        return session.scalar(select(func.count()).select_from(SignalRow)) or 0


def test_plat_b_reads_what_plat_a_sent_without_learning_it_was_plat_a(hub: Hub) -> None:
    sent = [
        signal("a-internal-41"),
        signal("a-internal-42", kind="pdq", value="f0" * 32, pdq_quality=88),
        signal("a-internal-43", kind="account", value="9" * 64, key_version=3, category="grooming"),
        signal("a-internal-44", kind="url", value="https://example.org/x?y=1", confidence=1),
    ]
    assert post(hub, "plat-a", *sent) == {"created": 4, "updated": 0, "unchanged": 0}
    page = feed(hub, "plat-b")
    assert set(page) == {"changes", "checkpoint", "more"}
    assert page["more"] is False and page["checkpoint"] >= 4
    received = page["changes"]
    assert [(c["op"], c["kind"], c["value"]) for c in received] == [
        ("upsert", s["kind"], s["value"]) for s in sent
    ]
    assert received[1]["pdq_quality"] == 88 and received[2]["key_version"] == 3
    assert received[3]["confidence"] == 1.0 and received[0]["observed_at"].startswith(
        "2026-03-01T08:30:00"
    )
    for change in received:
        assert set(change) == {
            "op",
            "signal_key",
            "kind",
            "value",
            "key_version",
            "category",
            "confidence",
            "pdq_quality",
            "observed_at",
        }
    assert "plat-a" not in str(page) and "a-internal" not in str(page)


def test_the_delta_carries_updates_tombstones_pages_and_checkpoints(hub: Hub) -> None:
    post(hub, "plat-a", *(signal(f"s{i}") for i in range(5)))
    first = feed(hub, "plat-b")
    keys = [c["signal_key"] for c in first["changes"]]
    nothing = feed(hub, "plat-b", since=first["checkpoint"])
    assert nothing == {"changes": [], "checkpoint": first["checkpoint"], "more": False}

    post(hub, "plat-a", signal("s1", category="grooming"), signal("s2"))  # s2: new value
    assert (
        hub.client.delete(f"{SIGNALS}/s3", headers=hub.headers(member="plat-a")).status_code == 200
    )
    delta = feed(hub, "plat-b", since=first["checkpoint"])
    assert [(c["op"], c["signal_key"]) for c in delta["changes"]] == [
        ("upsert", keys[1]),
        ("upsert", keys[2]),
        ("delete", keys[3]),
    ]
    assert delta["changes"][0]["category"] == "grooming"
    assert delta["changes"][2] == {"op": "delete", "signal_key": keys[3]}

    post(hub, "plat-a", signal("s1", confidence=0.2))
    post(hub, "plat-a", signal("s1", confidence=0.3))
    pages, since, seen = [], 0, {}
    while True:
        page = feed(hub, "plat-b", since=since, limit=3)
        pages.append(page)
        page_keys = [c["signal_key"] for c in page["changes"]]
        assert len(page_keys) == len(set(page_keys))
        seen.update({c["signal_key"]: c for c in page["changes"]})
        since = page["checkpoint"]
        if not page["more"]:
            break
    assert [p["more"] for p in pages] == [True, True, True, False]  # 10 changes, 3 a page
    assert seen[keys[1]]["confidence"] == 0.3 and seen[keys[3]]["op"] == "delete"

    # checkpoints and page sizes the feed cannot serve
    headers = hub.headers(member="plat-b")
    for params in (
        {"since": -1},
        {"since": "x"},
        {"since": "1.5"},
        {"limit": 0},
        {"limit": 10_001},
    ):
        response = hub.client.get(SIGNALS, params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["error"] == "bad_query"
    last = feed(hub, "plat-b", limit=10_000)["checkpoint"]
    assert feed(hub, "plat-b", since=last)["changes"] == []
    ahead = hub.client.get(SIGNALS, params={"since": last + 1}, headers=headers)
    assert (ahead.status_code, ahead.json()["error"]) == (422, "checkpoint_ahead")
    assert "since=0" in ahead.json()["message"]


def test_a_repost_is_unchanged_and_a_rejected_post_stores_nothing(hub: Hub) -> None:
    sent = [signal("s1"), signal("s2")]
    post(hub, "plat-a", *sent)
    checkpoint = feed(hub, "plat-b")["checkpoint"]
    assert post(hub, "plat-a", *sent) == {"created": 0, "updated": 0, "unchanged": 2}
    assert feed(hub, "plat-b", since=checkpoint)["changes"] == []

    bad_value = "Q" * 40
    rejected = hub.client.post(
        SIGNALS,
        json={"signals": [signal("s3"), signal("s4", value=bad_value), signal("s5", confidence=2)]},
        headers=hub.headers(member="plat-a"),
    )
    assert rejected.status_code == 422
    answer = rejected.json()
    assert answer["error"] == "signals_rejected"
    assert {(d["index"], d["field"]) for d in answer["details"]} == {
        (1, "(item)"),
        (2, "confidence"),
    }
    assert all(set(d) == {"index", "field", "reason"} for d in answer["details"])
    assert bad_value not in rejected.text
    repeated = hub.client.post(
        SIGNALS,
        json={"signals": [signal("s6"), signal("s7"), signal("s6")]},
        headers=hub.headers(member="plat-a"),
    )
    assert repeated.status_code == 422
    assert [(d["index"], d["field"]) for d in repeated.json()["details"]] == [(2, "signal_id")]
    wrongs: list[dict[str, Any]] = [
        {"signals": []},
        {"signals": [signal("s8")], "more": 1},
        {"signal": []},
    ]
    for wrong in wrongs:
        assert (
            hub.client.post(SIGNALS, json=wrong, headers=hub.headers(member="plat-a")).status_code
            == 422
        )
    assert stored_signals(hub) == 2


def test_only_the_sender_can_withdraw_a_signal(hub: Hub) -> None:
    post(hub, "plat-a", signal("mine"))
    others = hub.client.delete(f"{SIGNALS}/mine", headers=hub.headers(member="plat-b"))
    unknown = hub.client.delete(f"{SIGNALS}/never-sent", headers=hub.headers(member="plat-b"))
    assert others.status_code == unknown.status_code == 404
    assert others.json() == unknown.json()  # cannot tell "someone else's" from "no such"
    assert [c["op"] for c in feed(hub, "plat-b")["changes"]] == ["upsert"]
    own = hub.client.delete(f"{SIGNALS}/mine", headers=hub.headers(member="plat-a"))
    assert own.json() == {"signal_id": "mine", "deleted": True}
    assert [c["op"] for c in feed(hub, "plat-b")["changes"]] == ["delete"]


def test_reads_and_writes_are_audited_and_other_roles_are_refused(hub: Hub) -> None:
    post(hub, "plat-a", signal("s1"), signal("s2"))
    page = feed(hub, "plat-b")
    hub.client.delete(f"{SIGNALS}/s1", headers=hub.headers(member="plat-a"))
    hub.client.delete(f"{SIGNALS}/s1", headers=hub.headers(member="plat-b"))
    for role in Role:
        if role is not Role.PLATFORM:
            for method, path in (("GET", SIGNALS), ("POST", SIGNALS), ("DELETE", f"{SIGNALS}/s2")):
                kwargs: dict[str, Any] = (
                    {"json": {"signals": [signal("z")]}} if method == "POST" else {}
                )
                response = hub.client.request(
                    method, path, headers=hub.headers(role.value), **kwargs
                )
                assert response.status_code == 403, (role, method)
    with hub.session() as session:
        events = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action.in_(["signals.read", "signals.write"]))
            .order_by(AuditEventRow.seq)
        ).all()
    ok = [
        (e.member_id, e.action, e.outcome, list(e.object_ids), e.detail)
        for e in events
        if e.role == "platform"
    ]
    assert ok == [
        (
            "plat-a",
            "signals.write",
            "ok",
            ["s1", "s2"],
            {"created": 2, "updated": 0, "unchanged": 0},
        ),
        (
            "plat-b",
            "signals.read",
            "ok",
            [],
            {"since": 0, "checkpoint": page["checkpoint"], "changes": 2},
        ),
        ("plat-a", "signals.write", "ok", ["s1"], {"op": "delete"}),
        (
            "plat-b",
            "signals.write",
            "denied",
            [],
            {"op": "delete", "error": "no_such_signal", "status": 404},
        ),
    ]
    assert sum(e.outcome == "denied" and e.role != "platform" for e in events) == 3 * (
        len(Role) - 1
    )
