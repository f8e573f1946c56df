"""The signals tier in the store: idempotent upserts, withdrawals as tombstones, and a
change feed that pages by checkpoint, shows each signal once per page with its current
state, and never names the sender. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from safehold.exchange import Member, MemberKind, Signal, SignalCategory, SignalKind, SizeBand
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from safehold.store.models import SignalChangeRow
from safehold.store.signals import (
    CheckpointAheadError,
    SignalPage,
    SignalWrite,
    read_changes,
    upsert_signals,
    withdraw_signal,
)

SETUP = Actor("test-setup", "operator")
UPSERT_FIELDS = {
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


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        for member_id in ("plat-a", "plat-b"):
            member = Member(
                member_id=member_id,
                name=member_id,
                kind=MemberKind.PLATFORM,
                size_band=SizeBand.MEDIUM,
            )
            add_member(session, member, SETUP)
    yield engine
    engine.dispose()


def signal(signal_id: str, **changes: Any) -> Signal:
    fields: dict[str, Any] = {
        "signal_id": signal_id,
        "kind": SignalKind.MD5,
        "value": secrets.token_hex(16),
        "category": SignalCategory.CSEM_CATEGORY_B,
        "confidence": 0.8,
        "observed_at": datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
    }
    return Signal(**{**fields, **changes})


def upsert(engine: Engine, member_id: str, *signals: Signal) -> SignalWrite:
    with Session(engine) as session, session.begin():
        return upsert_signals(session, member_id, list(signals))


def withdraw(engine: Engine, member_id: str, signal_id: str) -> bool:
    with Session(engine) as session, session.begin():
        return withdraw_signal(session, member_id, signal_id)


def read(engine: Engine, since: int = 0, limit: int = 1_000) -> SignalPage:
    with Session(engine) as session, session.begin():
        return read_changes(session, since, limit)


def changes_logged(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(SignalChangeRow)) or 0


def test_a_repost_of_the_same_signals_changes_nothing(engine: Engine) -> None:
    first = [signal("s1"), signal("s2", kind=SignalKind.PDQ, value="ab" * 32, pdq_quality=90)]
    assert upsert(engine, "plat-a", *first) == SignalWrite(created=2, updated=0, unchanged=0)
    logged = changes_logged(engine)
    assert upsert(engine, "plat-a", *first) == SignalWrite(created=0, updated=0, unchanged=2)
    assert changes_logged(engine) == logged
    changed = first[0].model_copy(update={"confidence": 0.95})
    assert upsert(engine, "plat-a", changed, first[1]) == SignalWrite(0, 1, 1)
    assert changes_logged(engine) == logged + 1


def test_the_same_signal_id_from_two_members_is_two_signals(engine: Engine) -> None:
    upsert(engine, "plat-a", signal("s1"))
    assert upsert(engine, "plat-b", signal("s1")) == SignalWrite(created=1, updated=0, unchanged=0)
    assert len({c.signal_key for c in read(engine).changes}) == 2


def test_the_feed_gives_each_signals_state_but_never_its_sender(engine: Engine) -> None:
    sent = signal("plat-a-internal-7", kind=SignalKind.ACCOUNT, value="c" * 64, key_version=2)
    upsert(engine, "plat-a", sent)
    page = read(engine)
    (change,) = page.changes
    body = change.body()
    assert set(body) == UPSERT_FIELDS
    assert body["op"] == "upsert"
    assert (body["kind"], body["value"], body["key_version"]) == ("account", "c" * 64, 2)
    assert (body["category"], body["confidence"], body["pdq_quality"]) == (
        "csem_category_b",
        0.8,
        None,
    )
    assert datetime.fromisoformat(body["observed_at"]) == sent.observed_at
    assert "plat-a" not in repr(body)
    assert page.checkpoint >= 1 and page.more is False


def test_a_delta_holds_only_what_changed_after_the_checkpoint(engine: Engine) -> None:
    upsert(engine, "plat-a", signal("s1"), signal("s2"), signal("s3"))
    full = read(engine)
    keys = [c.signal_key for c in full.changes]
    assert len(keys) == 3

    nothing = read(engine, full.checkpoint)
    assert (nothing.changes, nothing.checkpoint, nothing.more) == ([], full.checkpoint, False)

    upsert(engine, "plat-a", signal("s2", value="d" * 32))
    assert withdraw(engine, "plat-a", "s3")
    delta = read(engine, full.checkpoint)
    assert [c.body() for c in delta.changes] == [
        {**delta.changes[0].body(), "op": "upsert", "signal_key": keys[1], "value": "d" * 32},
        {"op": "delete", "signal_key": keys[2]},
    ]
    assert delta.checkpoint > full.checkpoint


def test_withdrawing_appends_one_tombstone_and_only_for_the_sender(engine: Engine) -> None:
    upsert(engine, "plat-a", signal("s1"))
    logged = changes_logged(engine)
    assert not withdraw(engine, "plat-b", "s1")  # plat-b has no s1 of its own
    assert not withdraw(engine, "plat-a", "no-such-signal")
    assert changes_logged(engine) == logged
    assert withdraw(engine, "plat-a", "s1")
    assert withdraw(engine, "plat-a", "s1")  # again: still the member's, nothing new
    assert changes_logged(engine) == logged + 1
    assert [c.op for c in read(engine).changes] == ["delete"]

    assert upsert(engine, "plat-a", signal("s1")).updated == 1  # sent again: it is back
    assert [c.op for c in read(engine).changes] == ["upsert"]


def test_pages_show_each_signal_once_and_replaying_them_gives_the_current_state(
    engine: Engine,
) -> None:
    upsert(engine, "plat-a", *(signal(f"s{i}") for i in range(6)))
    for round_ in range(3):  # s1 and s4 change again and again; s5 goes
        upsert(engine, "plat-a", signal("s1", confidence=0.1 * (round_ + 1)))
        upsert(engine, "plat-b", signal("s4", confidence=0.3 + round_ / 10))
    withdraw(engine, "plat-a", "s5")

    state: dict[str, dict[str, Any]] = {}
    since, pages = 0, 0
    while True:
        page = read(engine, since, limit=4)
        pages += 1
        keys = [c.signal_key for c in page.changes]
        assert len(keys) == len(set(keys)), "a signal appeared twice in one page"
        for change in page.changes:
            if change.op == "delete":
                state.pop(change.signal_key, None)
            else:
                state[change.signal_key] = change.body()
        assert page.checkpoint > since
        since = page.checkpoint
        if not page.more:
            break
    assert pages == 4  # 6 created, 6 updates (plat-b's s4 created in one), 1 withdrawal: 13
    current = {c.signal_key: c.body() for c in read(engine).changes if c.op == "upsert"}
    assert state == current
    assert len(current) == 6  # five of plat-a's (s5 withdrawn) and plat-b's s4
    confidences = sorted(b["confidence"] for b in current.values())
    assert confidences == pytest.approx([0.3, 0.5, 0.8, 0.8, 0.8, 0.8])  # the latest values


def test_a_bad_or_unknown_checkpoint_or_page_size_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="since"):
        read(engine, since=-1)
    with pytest.raises(ValueError, match="limit"):
        read(engine, limit=0)
    upsert(engine, "plat-a", signal("s1"))
    last = read(engine).checkpoint
    assert read(engine, last).changes == []
    with pytest.raises(CheckpointAheadError, match="since=0"):
        read(engine, last + 1)
