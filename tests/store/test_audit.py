"""The hash-chained audit log: intact chains verify, and each kind of tampering (altering,
removing, truncating, reordering) is caught at the first bad event; concurrent writers keep
one gap-free chain; events recorded while the database is down are spooled and later
appended in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, Executable, create_engine, delete, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from safehold.store import audit
from safehold.store.audit import AuditEvent, AuditLog, Outcome
from safehold.store.database import make_engine
from safehold.store.migrate import upgrade
from safehold.store.models import AuditEventRow, AuditHeadRow


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    upgrade(made)
    try:
        yield made
    finally:
        made.dispose()


def _event(n: int, actor: str = "test") -> AuditEvent:
    return AuditEvent(
        actor=actor,
        role="operator",
        action="test.event",
        outcome=Outcome.OK,
        object_ids=[f"obj-{n}"],
        detail={"n": n, "note": "ünïcode ✓"},
    )


def _append(engine: Engine, count: int) -> None:
    with Session(engine) as session, session.begin():
        for n in range(1, count + 1):
            audit.append(session, _event(n))


def _verify(engine: Engine) -> audit.ChainReport:
    with Session(engine) as session, session.begin():
        return audit.verify(session, batch_size=7)  # small batches: streaming is exercised


def _seqs(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEventRow.seq).order_by(AuditEventRow.seq)))


def _sql(engine: Engine, *statements: Executable) -> None:
    with Session(engine) as session, session.begin():
        for statement in statements:
            session.execute(statement)


def test_many_events_keep_the_chain_intact(engine: Engine) -> None:
    _append(engine, 60)
    log = AuditLog(engine)
    for n in range(61, 81):
        log.record(_event(n))
    report = _verify(engine)
    assert report.ok, report.problem
    assert (report.events, report.first_bad_seq) == (80, None)
    assert _seqs(engine) == list(range(1, 81))


def test_an_empty_chain_is_intact(engine: Engine) -> None:
    report = _verify(engine)
    assert report.ok
    assert report.events == 0


def _restart(engine: Engine, count: int) -> None:
    """A fresh chain of ``count`` events (one database serves several cases)."""
    _sql(engine, delete(AuditEventRow), delete(AuditHeadRow))
    _append(engine, count)


ALTERATIONS: dict[str, dict[str, object]] = {
    "detail": {"detail": {"n": 999, "note": "ünïcode ✓"}},
    "outcome": {"outcome": Outcome.DENIED},
    "object_ids": {"object_ids": ["obj-other"]},
    "actor": {"actor": "someone-else"},
    "time": {"at": datetime(2020, 1, 1, tzinfo=UTC)},
}


def test_altering_an_event_is_caught_at_that_event(engine: Engine) -> None:
    for name, change in ALTERATIONS.items():
        _restart(engine, 12)
        _sql(engine, update(AuditEventRow).where(AuditEventRow.seq == 7).values(**change))
        report = _verify(engine)
        assert report.first_bad_seq == 7, name
        assert report.problem is not None, name
        assert "event 7" in report.problem and "altered" in report.problem, name


def test_an_altered_event_with_a_recomputed_hash_breaks_the_next_link(engine: Engine) -> None:
    _append(engine, 10)
    with Session(engine) as session, session.begin():
        row = session.get_one(AuditEventRow, 4)
        row.detail = {"n": 4, "note": "rewritten"}
        row.hash = audit.event_hash(row.prev_hash, row)
    report = _verify(engine)
    assert report.first_bad_seq == 5
    assert report.problem is not None and "link to event 4" in report.problem


def test_deleting_a_middle_event_is_caught(engine: Engine) -> None:
    _append(engine, 10)
    _sql(engine, delete(AuditEventRow).where(AuditEventRow.seq == 5))
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.problem is not None and "event 5 was removed" in report.problem


def test_deleting_the_first_event_is_caught(engine: Engine) -> None:
    _append(engine, 5)
    _sql(engine, delete(AuditEventRow).where(AuditEventRow.seq == 1))
    report = _verify(engine)
    assert report.first_bad_seq == 2


def test_deleting_the_last_events_is_caught(engine: Engine) -> None:
    for removed in (1, 3):
        _restart(engine, 10)
        _sql(engine, delete(AuditEventRow).where(AuditEventRow.seq > 10 - removed))
        report = _verify(engine)
        assert report.first_bad_seq == 11 - removed
        assert report.problem is not None and "removed" in report.problem


def test_deleting_every_event_is_caught(engine: Engine) -> None:
    _append(engine, 4)
    _sql(engine, delete(AuditEventRow))
    report = _verify(engine)
    assert report.first_bad_seq == 1


def test_deleting_the_head_is_caught(engine: Engine) -> None:
    _append(engine, 4)
    _sql(engine, delete(AuditHeadRow))
    report = _verify(engine)
    assert not report.ok
    assert report.problem == "the chain head is missing"


def test_swapping_two_events_is_caught_at_the_first(engine: Engine) -> None:
    _append(engine, 10)
    # Exchange the sequence numbers of events 4 and 5 (through a free number).
    _sql(
        engine,
        update(AuditEventRow).where(AuditEventRow.seq == 4).values(seq=1000),
        update(AuditEventRow).where(AuditEventRow.seq == 5).values(seq=4),
        update(AuditEventRow).where(AuditEventRow.seq == 1000).values(seq=5),
    )
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.problem is not None and "event 4" in report.problem


def test_swapping_event_contents_is_caught(engine: Engine) -> None:
    _append(engine, 8)
    with Session(engine) as session, session.begin():
        a, b = session.get_one(AuditEventRow, 2), session.get_one(AuditEventRow, 6)
        a.detail, b.detail = b.detail, a.detail
    assert _verify(engine).first_bad_seq == 2


def _concurrent_records(engine: Engine, threads: int, each: int) -> list[BaseException]:
    log = AuditLog(engine)  # no spool: a failed append must surface here
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(worker: int) -> None:
        try:
            start.wait()
            for n in range(each):
                log.record(_event(n, actor=f"worker-{worker}"))
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors


def test_concurrent_appends_keep_one_gap_free_chain(engine: Engine) -> None:
    _append(engine, 1)
    errors = _concurrent_records(engine, threads=4, each=15)
    assert errors == []
    report = _verify(engine)
    assert report.ok, report.problem
    assert report.events == 61
    assert _seqs(engine) == list(range(1, 62))
    with Session(engine) as session:
        actors = list(session.scalars(select(AuditEventRow.actor)))
    assert {a: actors.count(a) for a in set(actors)} == {
        "test": 1,
        **{f"worker-{w}": 15 for w in range(4)},
    }


def test_concurrent_first_appends_on_an_empty_chain(engine: Engine) -> None:
    """The very first events (no head row yet) may also arrive together."""
    errors = _concurrent_records(engine, threads=4, each=3)
    assert errors == []
    report = _verify(engine)
    assert report.ok, report.problem
    assert report.events == 12


def test_a_session_reused_across_transactions_sees_the_current_head(engine: Engine) -> None:
    """Sessions that keep objects after commit (the hub's sessionmaker does) must not append
    after a stale head when another writer appended in between."""
    with Session(engine, expire_on_commit=False) as first:
        with first.begin():
            audit.append(first, _event(1))
        AuditLog(engine).record(_event(2))
        with first.begin():
            audit.append(first, _event(3))
    report = _verify(engine)
    assert report.ok, report.problem
    assert report.events == 3


def _unreachable(database_url: str, tmp_path: Path) -> Engine:
    """An engine of the same backend whose database cannot be reached."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'hub.db'}")
    return create_engine(
        url.set(port=1).render_as_string(hide_password=False),
        connect_args={"connect_timeout": 2},
    )


def test_events_recorded_while_the_database_is_down_are_spooled_then_drained(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "audit-spool.jsonl"
    _append(engine, 2)
    down = _unreachable(database_url, tmp_path)
    offline = AuditLog(down, spool=spool)
    for n in (3, 4, 5):
        offline.record(_event(n, actor="while-down"))
    down.dispose()
    assert len(spool.read_text().splitlines()) == 3
    assert _seqs(engine) == [1, 2]

    AuditLog(engine, spool=spool).record(_event(6, actor="back-up"))
    assert not spool.exists()
    with Session(engine) as session:
        rows = list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))
    assert [(r.seq, r.actor, r.detail["n"]) for r in rows] == [
        (1, "test", 1),
        (2, "test", 2),
        (3, "while-down", 3),
        (4, "while-down", 4),
        (5, "while-down", 5),
        (6, "back-up", 6),
    ]
    assert rows[2].at < rows[5].at  # spooled events keep the time they happened
    report = _verify(engine)
    assert report.ok, report.problem


def test_without_a_spool_a_failed_record_raises(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    down = _unreachable(database_url, tmp_path)
    with pytest.raises(OperationalError):
        AuditLog(down).record(_event(1))
    down.dispose()
